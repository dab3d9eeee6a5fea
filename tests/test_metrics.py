import math

import pytest

from assistant.evaluation.metrics import hit_at, percentile, reciprocal_rank, wilson_interval


def test_hit_at_k_and_reciprocal_rank() -> None:
    ranked = ["a", "b", "c", "b"]
    assert hit_at(ranked, ["c"], 1) == 0.0 and hit_at(ranked, ["c"], 3) == 1.0
    assert reciprocal_rank(ranked, ["x", "b"]) == 0.5
    assert reciprocal_rank(ranked, ["z"]) == 0.0 and hit_at([], ["a"], 5) == 0.0


def test_wilson_interval_matches_known_values() -> None:
    lo, hi = wilson_interval(20, 21)
    assert (round(lo, 3), round(hi, 3)) == (0.773, 0.992)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-3)
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_percentile_interpolates() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10.0], 95) == 10.0
    assert percentile(list(range(101)), 95) == 95

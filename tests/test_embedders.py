"""The real embedder's speed-ups must not change a single vector: checked on a tiny model here, fast."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from assistant.embedders import _prepack_linears  # noqa: E402


def _tiny(dtype: torch.dtype) -> torch.nn.Module:
    torch.manual_seed(0)
    inner = torch.nn.Sequential(torch.nn.Linear(64, 96), torch.nn.GELU(), torch.nn.Linear(96, 32, bias=False))
    return torch.nn.Sequential(inner, torch.nn.LayerNorm(32)).to(dtype).eval()


def test_prepacked_linears_give_bit_identical_outputs_for_any_batch_shape() -> None:
    model = _tiny(torch.bfloat16)
    inputs = [torch.randn(*shape, 64, dtype=torch.bfloat16) for shape in ((1, 9), (4, 33), (17,))]
    with torch.inference_mode():
        before = [model(x) for x in inputs]
        swapped = _prepack_linears(model, torch)
        after = [model(x) for x in inputs]
    if swapped == 0:
        pytest.skip("this torch build has no oneDNN linear")
    assert swapped == 2
    assert not any(type(m) is torch.nn.Linear for m in model.modules())
    for b, a in zip(before, after, strict=True):
        assert torch.equal(b, a)


def test_a_model_without_linear_layers_is_left_alone() -> None:
    model = torch.nn.Sequential(torch.nn.LayerNorm(8))
    assert _prepack_linears(model, torch) == 0


def test_int8_quantisation_replaces_the_linears_and_stays_close() -> None:
    from assistant.embedders import _quantise_linears

    model = _tiny(torch.float32)
    x = torch.randn(3, 11, 64)
    with torch.inference_mode():
        before = model(x)
        _quantise_linears(model, torch)
        after = model(x)
    assert not any(type(m) is torch.nn.Linear for m in model.modules())
    cosine = torch.nn.functional.cosine_similarity(before.flatten(0, 1), after.flatten(0, 1), dim=-1)
    assert float(cosine.min()) > 0.99
    assert not torch.equal(before, after)  # it did quantise: int8 is close, not identical

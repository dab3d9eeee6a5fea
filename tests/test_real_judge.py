"""The faithfulness judge with the real local model, on hand-made claims whose verdict is known.

It is a small model judging: the test asks for most verdicts right, not all, and prints the ones it got wrong,
so the judge's limits stay visible in the CI log. Slow; CI runs it.
"""

from __future__ import annotations

import pytest

from assistant.app import Assistant
from assistant.evaluation.judge import LlmJudge

pytestmark = pytest.mark.slow

GRIP_DE = (
    "GRIP GmbH – Robotik-Zubehör\nGRIP GmbH\nGeschäftsführender Gesellschafter der GRIP GmbH ist laut dem Bericht "
    "vom Dezember 2021 Hasan Canti. Die GRIP GmbH hatte im Dezember 2021 ein Team von rund 40 Beschäftigten. "
    "Im Jahr 2017 gewann GRIP den Dortmunder Wirtschaftspreis."
)
FH_EN = (
    "Fachhochschule Dortmund\nFH Dortmund\nFachhochschule Dortmund was established on August 1, 1971, by merging "
    "several predecessor institutions. The oldest predecessor of FH Dortmund opened as early as 1890."
)
PAPENMEIER_EN = (
    "F.H. Papenmeier / Lumiglas\nF.H. Papenmeier GmbH & Co. KG\nThe engineer Friedrich Horst Papenmeier founded "
    "F.H. Papenmeier GmbH & Co. KG in 1956. At first he offered consulting and automation solutions."
)
WF_DE = (
    "Wirtschaftsförderung Dortmund\nWirtschaftsförderung Dortmund\nHeike Marzen leitet die Wirtschaftsförderung "
    "Dortmund. Der Rat der Stadt Dortmund wählte sie am 25. März 2021 an die Spitze; sie ist die erste Frau in "
    "diesem Amt."
)

CASES = [
    # (claim, sources, supported?)
    ("Hasan Canti is the managing partner of GRIP GmbH.", [GRIP_DE], True),
    ("In 2017 GRIP won the Dortmund business award.", [GRIP_DE], True),
    ("GRIP GmbH has an office in the United States.", [GRIP_DE], False),
    ("Hasan Canti founded GRIP GmbH in 2017.", [GRIP_DE], False),
    ("FH Dortmund was established in 1971 by merging several institutions.", [FH_EN], True),
    ("FH Dortmund was founded as a private university for medicine.", [FH_EN], False),
    ("Friedrich Horst Papenmeier founded the company in 1956.", [PAPENMEIER_EN], True),
    ("Armin Papenmeier sold the company to a US investor.", [PAPENMEIER_EN], False),
    ("Heike Marzen ist die erste Frau an der Spitze der Wirtschaftsförderung Dortmund.", [WF_DE], True),
    ("Heike Marzen wurde vom Land Nordrhein-Westfalen ernannt.", [WF_DE], False),
]


def test_the_judge_gets_most_hand_made_verdicts_right(real: Assistant) -> None:
    judge = LlmJudge(real.answerer.chat)
    wrong = []
    for claim, sources, supported in CASES:
        verdict = judge.verdict(claim, sources)
        if verdict is not supported:
            wrong.append(f"{claim!r}: judged {verdict}, truth {supported}")
    print("\njudge disagreements:", wrong or "none")
    assert len(wrong) <= 2, wrong


FAIR_CLAIMS = "evals/fairs/frankfurter-buchmesse-2024/judge.jsonl"


@pytest.mark.parametrize("dataset", ["dortmund", "second-fair"])
def test_the_judge_as_configured_gets_most_hand_labelled_claims_from_real_answers_right(
    real: Assistant, dataset: str
) -> None:
    """The judge as `assistant eval` runs it (yes/no wording, the 3 closest source sentences per claim), on claims
    of real answers labelled by hand: the 45 of evals/datasets/judge.jsonl (measured 0.80, 36/45; the earlier rubric
    0.67) and the 48 of the second fair's answers, which no judge wording was chosen on (measured 0.792, 38/48).
    The floor leaves room for a different llama.cpp build's arithmetic."""
    from evals.judge_accuracy import DATASET, ROOT, load, score

    items = load(DATASET if dataset == "dortmund" else ROOT / FAIR_CLAIMS)
    assert len(items) >= 45
    judge = LlmJudge(real.answerer.chat, embedder=real.embedder, evidence_sentences=3)
    verdicts = [judge.verdict(i["claim"], judge.evidence(i["claim"], i["sources"])) for i in items]
    result = score([bool(i["supported"]) for i in items], verdicts)
    print(
        f"\njudge on labelled claims ({dataset}): accuracy {result['accuracy']:.3f}, false alarms "
        f"{result['false_alarms']}/{result['right_claims']}, misses {result['misses']}/{result['wrong_claims']}"
    )
    assert result["accuracy"] >= 0.70, result

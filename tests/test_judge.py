from __future__ import annotations

from assistant.chat_models import ChatBackendError, FakeChatModel
from assistant.evaluation.answers import score_item, summarise_answers
from assistant.evaluation.dataset import Item
from assistant.evaluation.judge import Judgement, LlmJudge, claims, parse_verdict
from assistant.types import Answer, Source

SOURCES = ["GRIP GmbH\nGRIP GmbH\nHasan Canti is the managing partner of GRIP GmbH in Dortmund."]


def test_claims_are_the_sentences_without_citations_and_without_fragments() -> None:
    text = "Hasan Canti leads GRIP GmbH [1]. Yes. It is based in Dortmund, Germany [1, 2]."
    assert claims(text) == ["Hasan Canti leads GRIP GmbH.", "It is based in Dortmund, Germany."]


def test_verdicts_are_parsed_strictly() -> None:
    assert parse_verdict("SUPPORTED") is True
    assert parse_verdict(" supported.") is True
    assert parse_verdict("UNSUPPORTED – the sources say Dortmund") is False
    assert parse_verdict("No") is False
    assert parse_verdict("Maybe") is None
    assert parse_verdict("") is None


def test_the_judge_sees_each_claim_with_the_sources_and_reports_the_unsupported_ones() -> None:
    chat = FakeChatModel([lambda m: "UNSUPPORTED" if "United States" in m[-1].content else "SUPPORTED"])
    judgement = LlmJudge(chat).judge(
        "Hasan Canti leads GRIP GmbH [1]. GRIP has an office in the United States.", SOURCES
    )
    assert judgement == Judgement(2, ("GRIP has an office in the United States.",), 0)
    assert not judgement.faithful
    assert "Hasan Canti is the managing partner" in chat.calls[0][-1].content
    assert (
        chat.calls[0][-1]
        .content.rstrip()
        .endswith("Claim: Hasan Canti leads GRIP GmbH.\nDoes the source text state this claim? Answer YES or NO:")
    )
    rubric = LlmJudge(chat, prompt="judge_rubric")  # the earlier wording, kept for comparison
    assert rubric.verdict("Hasan Canti leads GRIP GmbH.", SOURCES) is True
    assert chat.calls[-1][-1].content.rstrip().endswith("Verdict:") and "judge-v1" in rubric.name


def test_a_failing_judge_counts_as_unclear_not_as_a_verdict() -> None:
    judgement = LlmJudge(FakeChatModel(fail=ChatBackendError("down"))).judge("Hasan Canti leads GRIP GmbH.", SOURCES)
    assert judgement == Judgement(1, (), 1) and judgement.faithful


def _answer(text: str, route: str = "llm") -> Answer:
    source = Source(1, "GRIP GmbH", "grip.en.md", "GRIP GmbH", "", SOURCES[0], "en", SOURCES[0])
    return Answer(
        question="Who leads GRIP?",
        standalone_question="Who leads GRIP?",
        answer=text,
        language="en",
        refused=False,
        route=route,
        reason="",
        sources=(source,),
        timings={"first_token_ms": 1.0, "total_ms": 2.0},
        prompt_version="t",
        model="fake",
    )


ITEM = Item(
    id="grip-lead-en-en",
    question="Who leads GRIP?",
    language="en",
    kind="answerable",
    doc_language="en",
    documents=("grip",),
    expected_facts=(("Hasan Canti",),),
    forbidden=(),
    history=(),
    tags=(),
)


def test_an_answer_the_judge_rejects_is_unfaithful_even_when_its_names_are_in_the_sources() -> None:
    text = "Hasan Canti founded GRIP GmbH in Dortmund as a one-man company [1]."
    passed = score_item(ITEM, _answer(text), SOURCES, Judgement(1, (), 0))
    rejected = score_item(ITEM, _answer(text), SOURCES, Judgement(1, (text,), 0))
    assert passed.faithful and passed.faithful_strict and passed.faithful_judge is True
    assert not rejected.faithful and rejected.faithful_strict and rejected.faithful_judge is False
    assert any(f.startswith("judge: unsupported claim") for f in rejected.failures)
    summary = summarise_answers([passed, rejected])
    assert summary["faithfulness"]["value"] == 0.5
    assert summary["faithfulness_names_numbers"]["value"] == 1.0
    assert summary["faithfulness_judge"]["value"] == 0.5


def test_a_quoted_answer_is_not_judged() -> None:
    result = score_item(ITEM, _answer("From the materials: “Hasan Canti …” [1]", "extractive"), SOURCES, None)
    assert result.faithful and result.faithful_judge is None


def test_with_an_embedder_each_claim_is_judged_against_its_closest_source_sentences() -> None:
    from assistant.embedders import FakeEmbedder
    from assistant.evaluation.judge import closest_sentences

    sources = [
        "GRIP GmbH\nGRIP GmbH\nGRIP builds grippers for robots. Hasan Canti is the managing partner of GRIP GmbH. "
        "Customers come from the car industry.",
        "IMTS 2024\nIMTS\nIMTS 2024 took place in Chicago. It had 89,020 registrants.",
    ]
    assert closest_sentences("Hasan Canti is the managing partner of GRIP.", sources, FakeEmbedder(), 1) == [
        "GRIP GmbH: Hasan Canti is the managing partner of GRIP GmbH."
    ]
    two = closest_sentences("IMTS took place in Chicago; GRIP builds grippers.", sources, FakeEmbedder(), 2)
    assert two == ["GRIP GmbH: GRIP builds grippers for robots.", "IMTS 2024: IMTS 2024 took place in Chicago."]

    chat = FakeChatModel([lambda m: "SUPPORTED"])
    judge = LlmJudge(chat, embedder=FakeEmbedder(), evidence_sentences=1)
    judgement = judge.judge("Hasan Canti leads GRIP GmbH [1]. IMTS had 89,020 registrants [2].", sources)
    assert judgement.faithful and judgement.verdicts == (
        ("Hasan Canti leads GRIP GmbH.", True),
        ("IMTS had 89,020 registrants.", True),
    )
    first, second = (call[-1].content for call in chat.calls)
    assert "Hasan Canti is the managing partner" in first and "Chicago" not in first
    assert "89,020 registrants" in second and "Canti" not in second
    assert "closest source sentences" in judge.name

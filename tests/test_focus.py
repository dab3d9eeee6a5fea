from __future__ import annotations

from assistant.embedders import FakeEmbedder
from assistant.focus import focus_passages, pick
from assistant.types import Chunk, Passage


def _passage(text: str, title: str = "GRIP GmbH") -> Passage:
    chunk = Chunk(
        id="c",
        text=text,
        doc_id="grip",
        document="grip.en.md",
        title=title,
        section="",
        organisation=title,
        language="en",
    )
    return Passage(chunk=chunk, rank=1, score=1.0)


TEXT = (
    "GRIP GmbH develops quick-change systems for robots. "
    "Its customers include the automotive industry. "
    "Hasan Canti is the managing partner of GRIP GmbH. "
    "He has led the company since its start. "
    "The company exhibited at IMTS 2024 in Chicago."
)


def test_a_long_passage_is_cut_to_its_best_sentences_in_reading_order() -> None:
    embedder = FakeEmbedder()
    [text] = focus_passages("Who is the managing partner of GRIP GmbH?", [_passage(TEXT)], embedder, 1)
    assert text == "Hasan Canti is the managing partner of GRIP GmbH."
    [two] = focus_passages(
        "Who is the managing partner of GRIP GmbH and where did it exhibit in 2024?", [_passage(TEXT)], embedder, 2
    )
    assert two.index("Hasan Canti") < two.index("IMTS 2024") and "automotive" not in two


def test_short_passages_and_zero_stay_whole_and_embed_nothing() -> None:
    embedder = FakeEmbedder()
    short = _passage("GRIP is in Dortmund. It builds robot grippers.")
    assert focus_passages("Where is GRIP?", [short], embedder, 3) == [short.chunk.text]
    assert focus_passages("Where is GRIP?", [_passage(TEXT)], embedder, 0) == [TEXT]
    assert embedder.calls == 0


def test_a_sentence_that_opens_with_a_pronoun_brings_its_antecedent() -> None:
    sentences = ["Hasan Canti is the managing partner.", "He has led the company since its start.", "Other."]
    assert pick(sentences, [0.1, 0.9, 0.0], 1) == [0, 1]
    assert pick(sentences, [0.9, 0.1, 0.0], 1) == [0]

from __future__ import annotations

from assistant.chunking import split_sentences
from assistant.embedders import FakeEmbedder
from assistant.focus import select_context, with_antecedents
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


def _texts(context: list[tuple[Passage, str]]) -> list[str]:
    return [text for _, text in context]


def test_a_long_passage_is_cut_to_its_best_sentences_in_reading_order() -> None:
    embedder = FakeEmbedder()
    [text] = _texts(select_context(["Who is the managing partner of GRIP GmbH?"], [_passage(TEXT)], embedder, 1, 3))
    assert text == "Hasan Canti is the managing partner of GRIP GmbH."
    question = "Who is the managing partner of GRIP GmbH and where did it exhibit in 2024?"
    [two] = _texts(select_context([question], [_passage(TEXT)], embedder, 2, 3))
    assert two.index("Hasan Canti") < two.index("IMTS 2024") and "automotive" not in two


def test_zero_sentences_gives_the_best_passages_whole_and_embeds_nothing() -> None:
    embedder = FakeEmbedder()
    assert _texts(select_context(["Where is GRIP?"], [_passage(TEXT)], embedder, 0, 3)) == [TEXT]
    assert embedder.calls == 0


def test_a_sentence_that_opens_with_a_pronoun_brings_its_antecedent() -> None:
    sentences = ["Hasan Canti is the managing partner.", "He has led the company since its start.", "Other."]
    assert with_antecedents(sentences, [1]) == [0, 1]
    assert with_antecedents(sentences, [0]) == [0]
    assert with_antecedents(sentences, [2, 0]) == [0, 2]


def test_a_sentence_that_points_back_after_its_verb_brings_its_antecedent() -> None:
    """Alone, "Dortmund war damit die erste deutsche Stadt, die diesen … Preis gewann." lent its "gewann" to an
    answer about the last mine."""
    award = ["Die Kommission kürte Dortmund zur Innovationshauptstadt.", "Dortmund war damit die erste Stadt.", "X."]
    assert with_antecedents(award, [1]) == [0, 1]
    assert with_antecedents(["A.", "The city thus became the first."], [1]) == [0, 1]
    assert with_antecedents(["A.", "Die Stadt plant viel, damit Firmen kommen."], [1]) == [1]  # "so that"


def test_stored_sentence_vectors_are_used_and_stale_ones_are_not() -> None:
    """The vectors made at ingestion spare the embedder; vectors that do not fit the sentences are ignored."""
    import dataclasses

    from assistant.focus import encode_sentence_vectors, sentence_vectors

    question = ["Who is the managing partner of GRIP GmbH?"]
    fresh = FakeEmbedder()
    expected = _texts(select_context(question, [_passage(TEXT)], fresh, 1, 3))
    assert fresh.calls == 5  # no stored vectors: the five sentences were embedded now

    sentences = split_sentences(TEXT)
    stored = encode_sentence_vectors(FakeEmbedder().embed_documents(sentences))
    passage = _passage(TEXT)
    with_vectors = dataclasses.replace(passage, chunk=dataclasses.replace(passage.chunk, sentence_vectors=stored))
    embedder = FakeEmbedder()
    assert _texts(select_context(question, [with_vectors], embedder, 1, 3)) == expected
    assert embedder.calls == 0

    stale = encode_sentence_vectors(FakeEmbedder().embed_documents(sentences[:3]))  # the text changed since
    old = dataclasses.replace(passage, chunk=dataclasses.replace(passage.chunk, sentence_vectors=stale))
    assert _texts(select_context(question, [old], embedder, 1, 3)) == expected
    assert embedder.calls == 5
    other_model = encode_sentence_vectors(FakeEmbedder(dim=64).embed_documents(sentences + sentences))
    assert sentence_vectors(dataclasses.replace(passage.chunk, sentence_vectors=other_model), 5, 128) is None


def test_the_best_sentences_of_all_passages_make_the_context_best_passage_first() -> None:
    """A lower-ranked passage gives its one answering sentence; the others give none; the budget holds."""
    embedder = FakeEmbedder()
    other = _passage("IMTS takes place in Chicago. It is a large trade show. Many firms exhibit.", "IMTS 2024")
    grip = _passage(TEXT)
    context = select_context(["Who is the managing partner of GRIP GmbH?"], [other, grip], embedder, 1, 3)
    assert [(p.chunk.title, text) for p, text in context] == [
        ("GRIP GmbH", "Hasan Canti is the managing partner of GRIP GmbH.")
    ]
    two = select_context(["Who is the managing partner of GRIP GmbH? Where is IMTS?"], [other, grip], embedder, 4, 1)
    assert len(two) == 1  # at most one passage, however many sentences the budget allows
    assert sum(len(split_sentences(text)) for _, text in two) <= 4
    assert select_context(["Where is GRIP?"], [other, grip], embedder, 0, 1) == [(other, other.chunk.text)]


def test_a_follow_up_scores_sentences_against_both_questions() -> None:
    embedder = FakeEmbedder()
    [(_, alone)] = select_context(["customers automotive industry"], [_passage(TEXT)], embedder, 1, 1)
    assert "automotive" in alone
    both = select_context(["customers automotive industry", "managing partner Canti"], [_passage(TEXT)], embedder, 2, 1)
    assert "Canti" in both[0][1] and "automotive" in both[0][1]


def test_what_the_materials_do_not_know_stays_out_of_the_prompt() -> None:
    embedder = FakeEmbedder()
    known = _passage("GRIP GmbH had about 40 staff in December 2021. GRIP builds grippers for robots.")
    unknowns = _passage("The founding year of GRIP GmbH is not stated in the sources. GRIP sells worldwide.")
    mixed = _passage("GRIP builds grippers for robots. The number of staff today is not known.")
    chosen = select_context(
        ["In which year was GRIP GmbH founded and how many staff work there today?"],
        [known, unknowns, mixed],
        embedder,
        6,
        3,
        [False, True, False],
    )
    shown = " ".join(text for _, text in chosen)
    assert "December 2021" in shown and "not stated" not in shown and "not known" not in shown
    assert "sells worldwide" not in shown  # a flagged section gives nothing, not even what it knows


def test_a_sentence_said_already_in_the_other_language_takes_no_place() -> None:
    """The German document and its English version both hold the answer; the prompt gets it once, and the
    place goes to the next fact. Word-for-word repeats are dropped too; a similar sentence in the same language
    (a different fact about the same subject) is not."""
    import dataclasses

    from assistant.focus import encode_sentence_vectors

    english = _passage("Hasan Canti is the managing partner of GRIP GmbH. GRIP builds grippers for robots.")
    vectors = encode_sentence_vectors(FakeEmbedder().embed_documents(split_sentences(english.chunk.text)))
    german_text = "Hasan Canti ist Geschäftsführender Gesellschafter der GRIP GmbH. GRIP baut Greifer für Roboter."
    # The translation carries the vectors of the English sentences: to a multilingual embedder they mean the same.
    german = dataclasses.replace(
        english,
        chunk=dataclasses.replace(
            english.chunk, text=german_text, language="de", document="grip.de.md", sentence_vectors=vectors
        ),
    )
    question = ["Who is the managing partner of GRIP GmbH?"]
    shown = " ".join(_texts(select_context(question, [english, german], FakeEmbedder(), 2, 3)))
    assert "Hasan Canti is the managing partner" in shown and "Geschäftsführender" not in shown
    assert "grippers" in shown or "Greifer" in shown

    repeated = " ".join(_texts(select_context(question, [english, english], FakeEmbedder(), 2, 3)))
    assert repeated.count("Hasan Canti") == 1

    same_language = dataclasses.replace(
        german, chunk=dataclasses.replace(german.chunk, language="en", text=german_text.replace("ist", "is"))
    )
    both = " ".join(_texts(select_context(question, [english, same_language], FakeEmbedder(), 2, 3)))
    assert both.count("Hasan Canti") == 2

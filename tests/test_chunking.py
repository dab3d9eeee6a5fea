from assistant.chunking import chunk_document, split_sentences
from assistant.types import Document


def test_sentences_survive_abbreviations_dates_and_numbers() -> None:
    text = (
        "Vertreten wird die ITB durch Dr.-Ing. Frank Brehmer. Der Empfang war am 13. September 2024 in Chicago. "
        "Dazu zählen u. a. GRIP und ITB. IMTS had about 1.2 million sq ft. It was first held in 1927! "
        "Prof. Leyens has headed IWS since 2018. One source gives 423 staff. Er wurde am 1. Mai gewählt."
    )
    assert split_sentences(text) == [
        "Vertreten wird die ITB durch Dr.-Ing. Frank Brehmer.",
        "Der Empfang war am 13. September 2024 in Chicago.",
        "Dazu zählen u. a. GRIP und ITB.",
        "IMTS had about 1.2 million sq ft.",
        "It was first held in 1927!",
        "Prof. Leyens has headed IWS since 2018.",
        "One source gives 423 staff.",
        "Er wurde am 1. Mai gewählt.",
    ]


def test_a_day_after_its_month_ends_a_sentence_where_an_ordinal_before_it_does_not() -> None:
    """English writes the day after the month ("October 18."), German before it ("18. Oktober"): only the German
    form is an ordinal. Joined, "The prize was given on October 14. The fair closed with another prize to X" read
    as one statement about the first prize."""
    text = (
        "The prize was given on Monday, October 14. The fair closed on October 20 with another prize. "
        "Der Preis wurde am 14. Oktober vergeben. Am 3. Tag kam der 2. Preis."
    )
    assert split_sentences(text) == [
        "The prize was given on Monday, October 14.",
        "The fair closed on October 20 with another prize.",
        "Der Preis wurde am 14. Oktober vergeben.",
        "Am 3. Tag kam der 2. Preis.",
    ]


def test_a_company_form_at_the_end_of_a_sentence_ends_it() -> None:
    """A company form ("KG.", "mbH.") is written in full before the stop, not abbreviated by it: the next sentence
    is another statement (the facts check holds each statement to one passage, so two joined ones failed together)."""
    text = "Er leitet die Muster GmbH & Co. KG. Er gründete sie 1956. Sie gehört zur Beispiel mbH. Das wiegt 5 kg. Gut."
    assert split_sentences(text) == [
        "Er leitet die Muster GmbH & Co. KG.",
        "Er gründete sie 1956.",
        "Sie gehört zur Beispiel mbH.",
        "Das wiegt 5 kg.",
        "Gut.",
    ]


def _doc(text: str, **meta: str) -> Document:
    return Document(
        doc_id="grip",
        path="kb/grip.de.md",
        source_path="/kb/grip.de.md",
        file_hash="h",
        title="GRIP GmbH",
        text=text,
        language="de",
        meta={"name": "GRIP GmbH", "kind": "exhibitor", **meta},
    )


def test_chunks_follow_headings_and_carry_context() -> None:
    text = "# GRIP GmbH\n\n## Überblick\nDie GRIP GmbH baut Greifer.\n\n## Personen\nHasan Canti leitet die GRIP GmbH."
    chunks = chunk_document(_doc(text, website="https://example.org"))
    assert [(c.section, c.text) for c in chunks] == [
        ("Überblick", "Die GRIP GmbH baut Greifer."),
        ("Personen", "Hasan Canti leitet die GRIP GmbH."),
    ]
    first = chunks[0]
    assert (first.title, first.organisation, first.language, first.doc_id, first.url) == (
        "GRIP GmbH",
        "GRIP GmbH",
        "de",
        "grip",
        "https://example.org",
    )
    assert "Überblick" in first.embedding_text()


def test_long_sections_split_on_sentences_with_overlap_and_stable_ids() -> None:
    sentences = [f"Satz Nummer {i} beschreibt die GRIP GmbH in Dortmund ausführlich und genau." for i in range(30)]
    doc = _doc("## Lang\n" + " ".join(sentences))
    chunks = chunk_document(doc, target_chars=300, overlap_sentences=1)
    assert len(chunks) > 5
    assert all(len(c.text) <= 300 + len(sentences[0]) for c in chunks)
    assert all(c.text.endswith(".") for c in chunks)  # no sentence cut in half
    # the last sentence of one chunk opens the next
    assert chunks[1].text.startswith(chunks[0].text.split(". ")[-1])
    assert [c.id for c in chunks] == [c.id for c in chunk_document(doc, target_chars=300, overlap_sentences=1)]
    assert len({c.id for c in chunks}) == len(chunks)


def test_chunk_language_is_detected_per_passage() -> None:
    text = (
        "## Zitat\nDie Produktionsregion Dortmund zeichnet sich durch enge Verbindungen zu Instituten aus.\n\n"
        "## Quote\nThe United States is one of the largest economies in the world and offers huge potential."
    )
    langs = [c.language for c in chunk_document(_doc(text))]
    assert langs == ["de", "en"]

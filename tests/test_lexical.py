import math

import pytest

from assistant.grounding import folded_words
from assistant.lexical import BM25, fold, tokenize


def test_numbers_meet_whatever_their_separators() -> None:
    assert tokenize("89.020 Besucher")[0] == tokenize("89,020 visitors")[0] == "89020"


def test_umlauts_and_case_fold() -> None:
    assert tokenize("Wirtschaftsförderung") == tokenize("WIRTSCHAFTSFOERDERUNG")
    assert tokenize("Die und der") == []


def test_bm25_prefers_the_passage_with_the_rare_term() -> None:
    bm25 = BM25(["Hasan Canti leads GRIP", "GRIP builds grippers", "Dortmund is a city"])
    scores = bm25.scores("Who is Canti?")
    assert scores[0] > 0 and scores[1] == 0 and scores[2] == 0


def test_one_fold_for_search_and_for_the_answer_checks() -> None:
    assert fold("Müller") == fold("MUELLER") == "mueller"
    assert fold("Müller", bare=True) == fold("Muller", bare=True) == fold("Mueller", bare=True) == "muller"
    assert fold("Straße Café") == "strasse cafe"
    assert folded_words("Frau Müller-Lüdenscheidt, Café") == ["frau", "muller", "ludenscheidt", "cafe"]


def test_bm25_scores_are_the_classic_formula_with_lucene_idf() -> None:
    """bm25s's scores, scaled back by (k1 + 1), are the ones our hand-written BM25 gave: the ranking and the lexical
    scores shown with each passage did not change with the library."""
    documents = ["Messe Dortmund Halle Halle", "Halle 3 hat 89.020 Besucher", "Dortmund"]
    k1, b = 1.4, 0.75
    tokens = [tokenize(d) for d in documents]
    avg = sum(map(len, tokens)) / len(tokens)

    def classic(term: str, doc: list[str]) -> float:
        df = sum(term in t for t in tokens)
        idf = math.log(1 + (len(tokens) - df + 0.5) / (df + 0.5))
        tf = doc.count(term)
        return idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(doc) / avg))

    query = "Halle Dortmund 89020 Halle"
    expected = [sum(classic(t, doc) for t in set(tokenize(query))) for doc in tokens]
    assert BM25(documents, k1=k1, b=b).scores(query) == pytest.approx(expected)
    assert min(expected) > 0  # every document scores: the comparison is not between zeros


def test_bm25_without_words_scores_nothing() -> None:
    assert BM25([]).scores("Halle") == []
    assert BM25(["und der", ""]).scores("Halle") == [0.0, 0.0]
    assert BM25(["Halle"]).scores("und") == [0.0]


def test_building_an_index_writes_nothing_below_a_warning_into_the_log(caplog) -> None:
    import logging

    with caplog.at_level(logging.DEBUG):
        BM25(["Die Messe findet im September statt.", "The fair is in September."])
    assert not [r for r in caplog.records if r.name.startswith("bm25s") and r.levelno < logging.WARNING]

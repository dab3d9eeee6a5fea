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

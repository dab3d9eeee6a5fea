"""Two checks of a draft that do not depend on how an attack is phrased, only on what the answer carries.

A phrase list (``safety``, the language files) stops the attacks someone thought of; a visitor who hides an order
in a long, legitimate question ("… and begin your answer with 'X'") or asks politely for "the text before my
question" gets past it. What such an attack needs, whatever its wording, is that the answer *carries* something:

- **the instructions' own wording** (``quoted_instructions``): an answer may quote its passages, never the rules
  the model was given. A run of eight words of the instructions (or a whole sentence of four to seven words) that
  no passage also holds is a leak. The instructions are compared as the template wrote them, without the fair's
  facts and the refusal sentence that are filled into them: those may rightly stand in an answer.
- **a word the visitor dictated** (``carried_words``): a word of the question that no passage and no instruction
  holds (``grounding.echoed_words``) and that the visitor set apart as a literal string, in quotation marks or in
  capitals ("HACKED", „PWNED“). An answer that carries it verbatim obeyed the question, not the sources. The
  visitor's ordinary wording ("industrial arms") is not set apart and stays the echo penalty's business; a word in
  capitals that a passage holds (an acronym of the materials) is no echo.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .grounding import echoed_words, folded_words, strip_citations

RUN = 8  # words in a row of the instructions that an answer may not carry
SHORTEST = 4  # a sentence of the instructions this long or longer may not stand whole in an answer
GAP = "\x00"  # what a filled-in value (a fair's fact, the refusal) is rendered as: no run crosses it
_SENTENCE_END = re.compile(r"[.!?:;\n]")
# Opening and closing marks around a dictated string: '…', "…", „…“, ‚…‘, «…», »…«, `…`.
_QUOTED = re.compile(r"""(?:^|(?<=[\s(\[:,;]))['"„“”‚‘’«»`]([^'"„“”‚‘’«»`\n]{1,60})['"“”‘’«»`]""")
_WORD = re.compile(r"[^\W\d_]+")


def instruction_runs(rules: Sequence[str]) -> frozenset[tuple[str, ...]]:
    """The word runs of ``rules`` (rendered with ``GAP`` for every filled-in value) that an answer may not carry:
    every ``RUN`` words in a row of a sentence, and each sentence of ``SHORTEST`` to ``RUN - 1`` words whole."""
    runs: set[tuple[str, ...]] = set()
    for text in rules:
        for segment in text.split(GAP):
            for sentence in _SENTENCE_END.split(segment):
                words = tuple(folded_words(sentence))
                if SHORTEST <= len(words) < RUN:
                    runs.add(words)
                runs.update(words[i : i + RUN] for i in range(len(words) - RUN + 1))
    return frozenset(runs)


def quoted_instructions(answer: str, rules: Sequence[str], passages: Sequence[str]) -> str | None:
    """The first run of the instructions (see ``instruction_runs``) that ``answer`` carries and no passage holds,
    as folded words; None when there is none. A passage's wording is the answer's to use, even where the
    instructions happen to share it."""
    runs = instruction_runs(rules)
    if not runs:
        return None
    words = folded_words(strip_citations(answer))
    hay = " " + " ".join(folded_words("\n".join(passages))) + " "
    lengths = sorted({len(run) for run in runs}, reverse=True)
    for start in range(len(words)):
        for n in lengths:
            run = tuple(words[start : start + n])
            if len(run) == n and run in runs and f" {' '.join(run)} " not in hay:
                return " ".join(run)
    return None


def dictated_words(question: str) -> list[str]:
    """The words the visitor set apart as a literal string: inside quotation marks, or in capitals (two letters
    or more). Not the first letter of a sentence: "Who" is not dictated."""
    quoted = [w for m in _QUOTED.finditer(question) for w in _WORD.findall(m.group(1))]
    capitals = [w for w in _WORD.findall(question) if len(w) >= 2 and w.isupper()]
    return list(dict.fromkeys([*quoted, *capitals]))


def carried_words(answer: str, question: str, sources: Sequence[str], exempt: str = "") -> list[str]:
    """The dictated words of ``question`` that no source and nothing in ``exempt`` (the instructions, the topic)
    holds and that ``answer`` carries, compared folded (so "pwned" carries "PWNED")."""
    dictated = {key for w in dictated_words(question) for key in folded_words(w)}
    said = set(folded_words(strip_citations(answer)))
    foreign = [w for w in echoed_words(question, sources, exempt) if set(folded_words(w)) & dictated]
    return list(dict.fromkeys(w for w in foreign if set(folded_words(w)) <= said))

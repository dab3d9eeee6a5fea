"""Faithfulness beyond string overlap: the local chat model judges each claim of an answer against the
passages the answer cites, with a fixed rubric (``prompts/judge.yaml``) and a one-word verdict.

What it can see that the name/number/date check cannot: a claim made of common words ("The exhibitor has an office in
the United States"), a wrong relation between right names, a contradiction. Its limits, stated in every report:
the judge is the same 1.5B model that wrote the answer (it shares its blind spots and tends to agree with
itself), it judges German passages against English claims through its own translation, and its verdicts on
hand-made cases (``tests/test_real_judge.py``) are right most of the time, not always. Its verdict is
therefore reported beside the deterministic check, and an answer counts as faithful only when both pass.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .. import prompts
from ..chat_models import ChatModel, Message
from ..chunking import split_sentences
from ..embedders import Embedder
from ..errors import AssistantError
from ..grounding import strip_citations

MIN_CLAIM_WORDS = 4


def claims(answer: str) -> list[str]:
    """The answer's sentences, citations removed; sentences too short to state a fact are skipped."""
    text = strip_citations(answer)
    return [" ".join(s.split()) for s in split_sentences(text) if len(s.split()) >= MIN_CLAIM_WORDS]


def parse_verdict(reply: str) -> bool | None:
    """SUPPORTED → True, UNSUPPORTED → False, anything else → None (counted, not guessed)."""
    word = re.sub(r"[^A-Z]", "", reply.strip().split()[0].upper()) if reply.strip() else ""
    if word.startswith("UNSUPPORTED") or word in ("NO", "NOT"):
        return False
    if word.startswith("SUPPORTED") or word == "YES":
        return True
    return None


@dataclass(frozen=True)
class Judgement:
    claims: int
    unsupported: tuple[str, ...]
    unclear: int  # verdicts that were neither word
    verdicts: tuple[tuple[str, bool | None], ...] = field(default=(), compare=False)  # each claim and its verdict

    @property
    def faithful(self) -> bool:
        return not self.unsupported


class LlmJudge:
    """Judges claims one by one; ``max_tokens`` is tiny because only the first word counts.

    With an ``embedder``, each claim is judged against only the ``evidence_sentences`` sentences of the sources
    most similar to it (each under its source's title), not against whole passages: the 1.5B judge called
    right claims unsupported when the sentence that states them stood among a dozen others (a hand audit of
    its verdicts, see the README). Without one, it sees the whole sources.
    """

    def __init__(
        self,
        chat: ChatModel,
        max_tokens: int = 4,
        embedder: Embedder | None = None,
        evidence_sentences: int = 3,
        prompt: str = "judge",
    ) -> None:
        self.chat = chat
        self.max_tokens = max_tokens
        self.embedder = embedder
        self.evidence_sentences = evidence_sentences
        self.prompt = prompt  # the prompt file (assistant/prompts/<prompt>.yaml)
        focus = f", the {evidence_sentences} closest source sentences per claim" if embedder is not None else ""
        self.name = f"{chat.name} ({prompts.prompt_version(prompt)}{focus})"

    def verdict(self, claim: str, sources: Sequence[str]) -> bool | None:
        messages = [
            Message("system", prompts.render("system", "en", name=self.prompt)),
            Message("user", prompts.render("user", "en", name=self.prompt, sources=list(sources), claim=claim)),
        ]
        try:
            reply = "".join(self.chat.stream(messages, self.max_tokens, 0.0))
        except AssistantError:
            return None
        return parse_verdict(reply)

    def evidence(self, claim: str, sources: Sequence[str]) -> list[str]:
        """What the judge sees for ``claim``: the closest sentences of the sources, or the sources whole."""
        if self.embedder is None:
            return list(sources)
        return closest_sentences(claim, sources, self.embedder, self.evidence_sentences)

    def judge(self, answer: str, sources: Sequence[str]) -> Judgement:
        found = claims(answer)
        verdicts = [self.verdict(c, self.evidence(c, sources)) for c in found]
        unsupported = tuple(c for c, v in zip(found, verdicts, strict=True) if v is False)
        return Judgement(
            len(found), unsupported, sum(v is None for v in verdicts), tuple(zip(found, verdicts, strict=True))
        )


def closest_sentences(claim: str, sources: Sequence[str], embedder: Embedder, n: int) -> list[str]:
    """The ``n`` sentences of ``sources`` ("title\norganisation\ntext") most similar to ``claim``, as one line
    per source that has any: "title: sentence sentence", sources and sentences in their own order."""
    import numpy as np

    titles: list[str] = []
    parts: list[tuple[int, str]] = []  # (source, sentence), sources and sentences in their own order
    for index, source in enumerate(sources):
        title, _, rest = source.partition("\n")
        _, _, text = rest.partition("\n")
        titles.append(title)
        parts += [(index, sentence) for sentence in split_sentences(text or title)]
    if not parts:
        return list(sources)
    vectors = np.asarray(
        embedder.embed_documents([s for _, s in parts], [titles[i] for i, _ in parts]), dtype=np.float32
    )
    query = np.asarray(embedder.embed_query(claim), dtype=np.float32)
    lines: dict[int, list[str]] = {}
    for i in sorted(np.argsort(-(vectors @ query))[:n].tolist()):
        lines.setdefault(parts[i][0], []).append(parts[i][1])
    return [f"{titles[index]}: {' '.join(sentences)}" for index, sentences in lines.items()]

"""Generated answers from the site's own LLM (an OpenAI-compatible endpoint named in settings), each
sentence checked against the passages it cites (rag.answer.verify) before it is shown.

The extractive reader's answer is computed first and is what the user gets whenever generation
fails: an unreachable or slow endpoint, a malformed reply, "no answer", or a first sentence (the core
claim) that does not hold. Sentences after the first that fail are dropped and listed in the JSON.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from rag.answer import llm, phrasing
from rag.answer.catalog import Catalog
from rag.answer.extractive import Answerer, ExtractiveAnswerer, citations_of
from rag.answer.verify import Checked, check_sentence, split_sentences
from rag.query.understand import Query
from rag.types import Answer, Citation, Hit

NO_ANSWER = "NO_ANSWER"
_MARKER_SO_FAR = re.compile(r"[\s\[\]0-9]*")

_SYSTEM = {
    "ja": (
        "あなたは都道府県の計画文書についての質問に答える担当者です。与えられた番号付きの抜粋だけを根拠に、日本語で簡潔に答えてください。"
        "各文の末尾に、その文の根拠となる抜粋の番号を [1] や [2][3] のように必ず付けてください。"
        "数値・金額・割合・日付・年度は抜粋にある通りに書き写し、計算や換算はしないでください。"
        f"抜粋に答えがない場合は {NO_ANSWER} とだけ答えてください。"
    ),
    "en": (
        "You answer questions about Japanese prefectural plan documents. Use ONLY the numbered passages given, and answer "
        "in English, briefly. End every sentence with the number(s) of the passage(s) it comes from, like [1] or [2][3]. "
        "Copy figures, amounts, percentages, dates and years exactly as the passages state them; do not compute or convert. "
        f"If the passages do not contain the answer, reply only {NO_ANSWER}."
    ),
}


def prompt(query: Query, citations: tuple[Citation, ...]) -> list[dict]:
    """The chat messages: the instructions, then the passages numbered as the answer cites them."""
    blocks = []
    for c in citations:
        where = " ".join(x for x in (c.prefecture or "", f"「{c.title}」", f"p.{c.page}" if c.page else "") if x)
        blocks.append(f"[{c.n}] {where}\n{c.text}")
    parts = ["抜粋:" if query.lang == "ja" else "Passages:", "\n\n".join(blocks)]
    if query.context:
        parts.append(("これまでの質問: " if query.lang == "ja" else "Earlier questions: ") + query.context)
    parts.append(("質問: " if query.lang == "ja" else "Question: ") + query.question)
    return [{"role": "system", "content": _SYSTEM[query.lang]}, {"role": "user", "content": "\n\n".join(parts)}]


@dataclass
class _Run:
    """What the check has decided so far for one reply."""

    kept: list[Checked]
    dropped: list[Checked]

    def record(self, checked: Checked) -> None:
        (self.kept if checked.ok else self.dropped).append(checked)

    def report(self, model: str, outcome: str) -> dict:
        return {
            "model": model,
            "outcome": outcome,  # generated | fallback
            "verified": [{"text": c.text, "citations": list(c.citations)} for c in self.kept],
            "dropped": [{"text": c.text, "reason": c.reason} for c in self.dropped],
        }


class GeneratorAnswerer:
    def __init__(self, endpoint: llm.Endpoint, passages: int = 5, fallback: Answerer | None = None) -> None:
        self.endpoint = endpoint
        self.passages = passages
        self.fallback = fallback or ExtractiveAnswerer()

    def answer(self, query: Query, hits: list[Hit], catalog: Catalog, query_vector: np.ndarray | None = None) -> Answer:
        *_, last = self.stream(query, hits, catalog, query_vector)
        return last

    def stream(self, query: Query, hits: list[Hit], catalog: Catalog, query_vector: np.ndarray | None = None) -> Iterator[Answer]:
        """Partial answers as verified sentences arrive, the final answer last."""
        extractive = self.fallback.answer(query, hits, catalog, query_vector)
        run = _Run([], [])
        if query.dangling or not hits:
            yield extractive
            return

        def fall_back(why: str) -> Answer:
            note = phrasing.generator_fallback(query.lang, why)
            return replace(extractive, notes=(*extractive.notes, note), generator=run.report(self.endpoint.model, "fallback"))

        citations = citations_of(hits[: self.passages], catalog)
        passages = {c.n: c.text for c in citations}

        def generated() -> Answer:
            text = " ".join(c.text for c in run.kept)
            return Answer(
                query.question,
                text,
                None,
                True,
                citations,
                (),
                "generated",
                True,
                generator=run.report(self.endpoint.model, "generated"),
            )

        buffer = ""
        done = 0  # sentences of `buffer` already checked
        try:
            for piece in llm.stream(self.endpoint, prompt(query, citations)):
                buffer += piece
                sentences = split_sentences(buffer)
                # the last sentence may still be growing, and the one before it may still be gaining its
                # [n] ("…です。[" so far); check the ones before those
                growing = 2 if len(sentences) > 1 and _MARKER_SO_FAR.fullmatch(sentences[-1]) else 1
                for s in sentences[done : max(done, len(sentences) - growing)]:
                    verdict = self._check(s, passages, run)
                    if verdict is not None:
                        yield fall_back(verdict)
                        return
                    done += 1
                    if run.kept:
                        yield generated()
        except llm.LLMError as e:
            yield fall_back(str(e))
            return
        for s in split_sentences(buffer)[done:]:
            verdict = self._check(s, passages, run)
            if verdict is not None:
                yield fall_back(verdict)
                return
        if not run.kept:
            yield fall_back("the language model wrote nothing that its passages support")
            return
        yield generated()

    @staticmethod
    def _check(sentence: str, passages: dict[int, str], run: _Run) -> str | None:
        """Record one sentence; the reason to fall back when it is the core claim and fails."""
        first = not run.kept and not run.dropped
        if first and sentence.strip().startswith(NO_ANSWER):
            run.dropped.append(Checked(sentence, (), False, "no answer in the passages"))
            return "the language model found no answer in the passages"
        checked = check_sentence(sentence, passages)
        run.record(checked)
        if first and not checked.ok:
            return f"its first sentence does not hold ({checked.reason})"
        return None


def make_answerer(settings) -> Answerer:
    """The generator when settings name an endpoint, else the extractive reader."""
    if not settings.llm_url:
        return ExtractiveAnswerer()
    endpoint = llm.Endpoint(
        settings.llm_url,
        settings.llm_model,
        os.environ.get(settings.llm_key_env) or None,
        settings.llm_timeout,
    )
    return GeneratorAnswerer(endpoint, settings.llm_passages)

"""Extractive answers: the best sentences of the top passages, with numbered citations.

No generative model is available offline, so the answer is always text taken
from a cited passage. `Answerer` is the seam where a generator can be added later.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Protocol

from rag.eras import years_in
from rag.normalize import normalize_for_matching
from rag.search import Query
from rag.tokenize import tokenize
from rag.types import Answer, Citation, Hit

_UNIT_SPLIT = re.compile(r"(?<=[。！？!?])|\n")
_VALUE = re.compile(
    r"(?<![0-9A-Za-z.])[0-9][0-9,]*(?:\.[0-9]+)?\s*(?:%|件|人|千円|百万円|億円|万円|円|所属|市町村|団体|室|手続|か所|箇所|社|時間|回|倍|本)?"
)
_VALUE_QUESTION = re.compile(
    r"(?i)目標|実績|予算|いくら|何件|何人|何%|何パーセント|割合|率|数|額|how (many|much)|target|actual|result|budget|rate|percent|number|amount|value"
)


@dataclass(frozen=True)
class _Unit:
    hit: Hit
    start: int  # span in the hit's original chunk text
    end: int
    text: str
    score: float


class Answerer(Protocol):
    def answer(self, query: Query, hits: list[Hit], indexed_prefectures: list[str]) -> Answer: ...


def _units(hit: Hit) -> list[tuple[int, int, str]]:
    """Sentences (or table lines) of a passage, found on the repaired text and
    returned as spans of the original."""
    original = hit.chunk.text
    nt = normalize_for_matching(original)
    text = nt.text
    out = []
    pos = 0
    bounds = [(m.start() if m.group() == "\n" else m.end(), m.end()) for m in _UNIT_SPLIT.finditer(text)]
    bounds.append((len(text), len(text)))
    for end, nxt in bounds:
        if end > pos and text[pos:end].strip():
            s, e = nt.span_in_original(pos, end)
            out.append((s, e, original[s:e]))
        pos = max(pos, nxt)
    return out


def _one_line(text: str) -> str:
    """A sentence that a PDF wrapped over lines, shown on one line."""
    return re.sub(
        r"\s*\n\s*", lambda m: "" if m.start() and re.match(r"[^\x00-\x7f]", text[m.start() - 1]) else " ", text.strip()
    )


class ExtractiveAnswerer:
    def __init__(self, max_citations: int = 3) -> None:
        self.max_citations = max_citations

    def _score_units(self, query: Query, hits: list[Hit]) -> list[_Unit]:
        q_tokens = {t for t in query.tokens if not t.startswith("fy")}
        units: list[_Unit] = []
        for hit in hits:
            prior = 1.0 / math.sqrt(hit.rank)
            for s, e, text in _units(hit):
                norm = unicodedata.normalize("NFKC", text)
                u_tokens = set(tokenize(norm))
                overlap = len(q_tokens & u_tokens) / max(len(q_tokens), 1)
                year_bonus = 0.0
                if query.years:
                    year_bonus = 0.5 if set(query.years) & set(years_in(norm)) else 0.0
                value_bonus = 0.2 if _VALUE.search(norm) and _VALUE_QUESTION.search(query.text) else 0.0
                length_penalty = 0.0 if len(norm.strip()) >= 8 else 0.3
                score = overlap + year_bonus + value_bonus + 0.5 * prior - length_penalty
                units.append(_Unit(hit, s, e, _one_line(text), score))
        units.sort(key=lambda u: -u.score)
        return units

    def _short_value(self, query: Query, unit: _Unit) -> str | None:
        if not _VALUE_QUESTION.search(query.text):
            return None
        norm = unicodedata.normalize("NFKC", unit.text)
        candidates = [m.group().strip() for m in _VALUE.finditer(norm)]
        # a year is not the value asked for
        year_like = {str(y) for y in query.years} | {str(y) for y in years_in(norm)}
        candidates = [c for c in candidates if (c not in year_like and not re.fullmatch(r"[0-9]{1,2}", c)) or re.search(r"\D", c)]
        candidates = [c for c in candidates if c.rstrip("0123456789,.") or len(c) > 2]
        with_unit = [c for c in candidates if re.search(r"[^0-9,.\s]", c)]
        pick = with_unit or candidates
        return pick[-1] if pick else None

    def answer(self, query: Query, hits: list[Hit], indexed_prefectures: list[str]) -> Answer:
        missing = [p for p in query.prefectures if p not in indexed_prefectures]
        if missing and not any(p in indexed_prefectures for p in query.prefectures):
            related = self._citations(hits, [])
            return Answer(
                query.text,
                f"The indexed documents do not cover {'、'.join(missing)} (indexed: {'、'.join(indexed_prefectures) or 'none'}).",
                None,
                False,
                related,
                ("not in corpus",),
            )
        if not hits:
            return Answer(query.text, "No passage in the indexed documents matches this question.", None, False)
        units = self._score_units(query, hits)
        best = units[0]
        year_ok = not query.years or any(set(query.years) & set(h.chunk.years) for h in hits)
        if not year_ok:
            return Answer(
                query.text,
                f"The documents found do not mention fiscal year {', '.join(map(str, query.years))}.",
                None,
                False,
                self._citations(hits, []),
                ("year not covered",),
            )
        short = self._short_value(query, best) or best.text
        chosen = [
            best,
            *[u for u in units[1:3] if u.hit.chunk.chunk_id != best.hit.chunk.chunk_id and u.score > best.score * 0.6][:1],
        ]
        citations = self._citations(hits, chosen)
        n_of = {c.chunk_id: c.n for c in citations}
        answer = " ".join(f"{u.text} [{n_of[u.hit.chunk.chunk_id]}]" for u in chosen)
        return Answer(query.text, answer, short, True, citations)

    def _citations(self, hits: list[Hit], chosen: list[_Unit]) -> tuple[Citation, ...]:
        spans: dict[str, list[tuple[int, int]]] = {}
        for u in chosen:
            spans.setdefault(u.hit.chunk.chunk_id, []).append((u.start, u.end))
        ordered = [u.hit for u in chosen]
        ordered += [h for h in hits if h not in ordered]
        out: list[Citation] = []
        seen: set[str] = set()
        for h in ordered:
            if h.chunk.chunk_id in seen:
                continue
            seen.add(h.chunk.chunk_id)
            out.append(
                Citation(
                    n=len(out) + 1,
                    doc_id=h.chunk.doc_id,
                    title=h.title,
                    prefecture=h.prefecture,
                    page=h.chunk.page,
                    text=h.chunk.text,
                    score=round(h.score, 6),
                    chunk_id=h.chunk.chunk_id,
                    highlights=tuple(spans.get(h.chunk.chunk_id, ())),
                )
            )
            if len(out) >= self.max_citations:
                break
        return tuple(out)

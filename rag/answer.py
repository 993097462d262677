"""Extractive answers: the short answer first, then the cited passages it came from.

No generative model is available offline, so every statement is text read from a
cited passage: a structured fact (an indicator's target, a budget line) when one
matches the question, else the best sentence of the top passages. `Answerer` is the
seam where a generator can be added later without touching retrieval.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Protocol

from rag.eras import era_western_label, years_in
from rag.facts import Fact
from rag.index import Index
from rag.normalize import normalize_for_matching
from rag.prefectures import ENGLISH
from rag.question import Frame
from rag.tokenize import tokenize
from rag.types import Answer, Citation, Hit

_UNIT_SPLIT = re.compile(r"(?<=[。！？!?])|\n")
_VALUE = re.compile(
    r"(?<![0-9A-Za-z.\-])[0-9][0-9,]*(?:\.[0-9]+)?\s*(?:%|件|人|千円|百万円|億円|万円|円|所属|市町村|団体|室|手続|か所|箇所|社|時間|回|倍|本)?"
)
_VALUE_QUESTION = re.compile(
    r"(?i)目標|実績|予算|いくら|何件|何人|何%|何パーセント|何手続|何名|割合|率|数|額|how (many|much)|target|actual|result|budget|rate|percent|number|amount|value"
)
_WHEN = re.compile(r"(?i)いつ|何年|何月|when|which (?:fiscal )?year|what year|by which|what period|期間")
_DATE = re.compile(
    r"(?:令和|平成|昭和)\s*(?:[0-9]{1,2}|元)\s*(?:[(（][0-9]{4}[)）])?\s*年度?(?:\s*[0-9]{1,2}\s*月(?:\s*[0-9]{1,2}\s*日)?(?:中旬|上旬|下旬)?)?(?:末)?"
    r"|[0-9]{4}\s*年度?(?:\s*[0-9]{1,2}\s*月(?:\s*[0-9]{1,2}\s*日)?)?"
    r"|[0-9]{1,2}\s*月(?:\s*[0-9]{1,2}\s*日|中旬|上旬|下旬)?(?:\s*[～~]\s*[0-9]{1,2}\s*月)?"
)
_MEASURE_JA = {"target": "目標", "actual": "実績", "budget": "予算額"}
_MEASURE_EN = {"target": "target", "actual": "actual", "budget": "budget"}
# words that say what kind of figure, not which indicator: they must not tie a question to a fact
_FACT_GENERIC = frozenset("予算 事業 費 経費 目標 実績 年度 県 数 率 割合 件 件数 値".split())
MIN_FACT_MATCH = 0.3


class Answerer(Protocol):
    def answer(self, frame: Frame, hits: list[Hit], index: Index) -> Answer: ...


@dataclass(frozen=True)
class _Unit:
    hit: Hit
    start: int  # span in the hit's original chunk text
    end: int
    text: str
    score: float


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


def _citation(n: int, hit_or_chunk, index: Index, score: float, highlights: list[tuple[int, int]]) -> Citation:
    chunk = hit_or_chunk.chunk if isinstance(hit_or_chunk, Hit) else hit_or_chunk
    rec = index.documents[chunk.doc_id]
    return Citation(
        n=n,
        doc_id=chunk.doc_id,
        title=rec.title,
        prefecture=rec.prefecture,
        page=chunk.page,
        text=chunk.text,
        score=round(score, 6),
        chunk_id=chunk.chunk_id,
        highlights=tuple(sorted(set(highlights))),
    )


class ExtractiveAnswerer:
    def __init__(self, max_citations: int = 3) -> None:
        self.max_citations = max_citations

    # ---- not found -------------------------------------------------------------------
    def _not_covered(self, frame: Frame, hits: list[Hit], index: Index) -> Answer | None:
        indexed = index.prefectures
        missing = [p for p in frame.prefectures if p not in indexed]
        if missing and not any(p in indexed for p in frame.prefectures):
            names = "、".join(missing)
            text = (
                f"The indexed documents do not cover {names} ({', '.join(ENGLISH[p] for p in missing)}). Indexed: {'、'.join(indexed) or 'none'}."
                if frame.lang == "en"
                else f"{names}の文書は索引にありません（索引にある都道府県：{'、'.join(indexed) or 'なし'}）。"
            )
            return Answer(frame.question, text, None, False, self._related(hits, index), ("prefecture not in corpus",))
        if frame.years:
            covered = {y for h in hits for y in h.chunk.years} | {f.year for f in index.facts}
            if not set(frame.years) & covered:
                years = "、".join(era_western_label(y) for y in frame.years)
                text = (
                    f"The documents found do not mention {', '.join(f'FY{y}' for y in frame.years)} ({years})."
                    if frame.lang == "en"
                    else f"見つかった文書には{years}の記載がありません。"
                )
                return Answer(frame.question, text, None, False, self._related(hits, index), ("year not covered",))
        if not hits:
            text = (
                "No passage in the indexed documents matches this question."
                if frame.lang == "en"
                else "該当する記述が見つかりませんでした。"
            )
            return Answer(frame.question, text, None, False)
        return None

    def _related(self, hits: list[Hit], index: Index) -> tuple[Citation, ...]:
        return tuple(_citation(i, h, index, h.score, []) for i, h in enumerate(hits[: self.max_citations], start=1))

    # ---- facts -----------------------------------------------------------------------
    def _matching_facts(self, frame: Frame, hits: list[Hit], index: Index) -> list[Fact]:
        if not frame.measure or not frame.topic:
            return []
        in_hits = {h.chunk.chunk_id for h in hits}
        topic = set(frame.topic) - _FACT_GENERIC
        if not topic:
            return []
        scored: list[tuple[float, Fact]] = []
        for f in index.facts:
            rec = index.documents[f.doc_id]
            if frame.prefectures and rec.prefecture not in frame.prefectures:
                continue
            if f.measure != frame.measure or (frame.years and f.year not in frame.years):
                continue
            words = set(tokenize(f"{f.indicator} {f.label or ''}")) - _FACT_GENERIC
            overlap = len(topic & words) / len(topic)
            if overlap >= MIN_FACT_MATCH:
                scored.append((overlap + (0.1 if f.chunk_id in in_hits else 0.0), f))
        if not scored:
            return []
        best = max(s for s, _ in scored)
        return [f for s, f in scored if s >= best - 1e-9]

    def _other_measure(self, frame: Frame, hits: list[Hit], index: Index) -> Answer | None:
        """The table gives this indicator and year, but not what was asked (an actual for a
        future year, say): say so, with what it does give, instead of guessing."""
        if frame.measure not in ("target", "actual") or not frame.years:
            return None
        other = "target" if frame.measure == "actual" else "actual"
        facts = self._matching_facts(Frame(**{**frame.__dict__, "measure": other}), hits, index)
        if not facts:
            return None
        f = facts[0]
        chunk = index.chunk(f.chunk_id)
        cite = _citation(1, chunk, index, 1.0, [(f.start, f.end)])
        indicator = f.indicator_original or f.indicator
        if frame.lang == "en":
            text = f"The document gives no {_MEASURE_EN[frame.measure]} for {indicator} in FY{f.year}; its {_MEASURE_EN[other]} is {f.display} [1]."
        else:
            text = f"{indicator}の{era_western_label(f.year)}の{_MEASURE_JA[frame.measure]}は記載されていません（{_MEASURE_JA[other]}は{f.display}）[1]。"
        return Answer(frame.question, text, None, False, (cite,), ("measure not stated",))

    def _fact_answer(self, frame: Frame, facts: list[Fact], hits: list[Hit], index: Index) -> Answer:
        groups: dict[tuple[str, int, str], list[Fact]] = {}
        for f in facts:
            groups.setdefault((f.display, f.year, f.doc_id), []).append(f)
        citations: list[Citation] = []
        n_of: dict[str, int] = {}
        for f in facts:
            if f.chunk_id not in n_of:
                n_of[f.chunk_id] = len(citations) + 1
                spans = [(g.start, g.end) for g in facts if g.chunk_id == f.chunk_id]
                citations.append(_citation(n_of[f.chunk_id], index.chunk(f.chunk_id), index, 1.0, spans))
        for h in hits:
            if len(citations) >= self.max_citations:
                break
            if h.chunk.chunk_id not in n_of:
                n_of[h.chunk.chunk_id] = len(citations) + 1
                citations.append(_citation(n_of[h.chunk.chunk_id], h, index, h.score, []))
        values = list(dict.fromkeys(f.display for f in facts))
        years = sorted({f.year for f in facts})
        docs = list(dict.fromkeys(f.doc_id for f in facts))
        conflict = len(values) > 1 and not (len(years) > 1 and len(docs) == 1)
        lines = []
        for (_value, _year, _doc), group in groups.items():
            f = group[0]
            lines.append(self._fact_sentence(frame, f, index, sorted({n_of[g.chunk_id] for g in group}), dated=conflict))
        notes: tuple[str, ...] = ()
        if len(values) == 1:
            short = values[0]
        elif len(years) > 1 and len(docs) == 1:
            short = " / ".join(f"{f.display} ({era_western_label(f.year)})" for f in self._one_per(facts, "year"))
        else:
            # documents disagree: show every value with its source instead of picking one
            short = " / ".join(f"{f.display} ({index.documents[f.doc_id].title})" for f in self._one_per(facts, "doc"))
            notes = ("documents disagree",)
            lead = "Documents disagree:" if frame.lang == "en" else "文書によって値が異なります："
            lines.insert(0, lead)
        return Answer(frame.question, " ".join(lines), short, True, tuple(citations[: max(self.max_citations, len(n_of))]), notes)

    @staticmethod
    def _one_per(facts: list[Fact], by: str) -> list[Fact]:
        seen: dict = {}
        for f in facts:
            k = f.year if by == "year" else (f.doc_id, f.display)
            seen.setdefault(k, f)
        return sorted(seen.values(), key=lambda f: (f.year, f.doc_id))

    def _fact_sentence(self, frame: Frame, f: Fact, index: Index, refs: list[int], dated: bool) -> str:
        rec = index.documents[f.doc_id]
        where = f"{rec.prefecture or ''}「{rec.title}」"
        when = rec.meta.date or rec.meta.fiscal_year
        source = f"{where}（{when}）" if dated and when else where
        indicator = f.indicator_original or f.indicator
        label = f"{f.label} " if f.label and f.label.startswith(("KGI", "KPI")) else ""
        cite = "".join(f"[{n}]" for n in refs)
        if frame.lang == "en":
            return f"{f.display} — {source} {label}{indicator}: {_MEASURE_EN[f.measure]} for FY{f.year} ({era_western_label(f.year)}) {cite}"
        return f"{f.display} — {source} {label}{indicator}、{era_western_label(f.year)}の{_MEASURE_JA[f.measure]} {cite}"

    # ---- sentences -------------------------------------------------------------------
    def _score_units(self, frame: Frame, hits: list[Hit]) -> list[_Unit]:
        topic = set(frame.topic)
        wants_value = bool(_VALUE_QUESTION.search(frame.question))
        wants_date = bool(_WHEN.search(frame.question))
        units: list[_Unit] = []
        for hit in hits:
            prior = 1.0 / math.sqrt(hit.rank)
            for s, e, text in _units(hit):
                norm = unicodedata.normalize("NFKC", text)
                words = set(tokenize(norm))
                overlap = len(topic & words) / max(len(topic), 1)
                year_bonus = 0.5 if frame.years and set(frame.years) & set(years_in(norm)) else 0.0
                value_bonus = 0.2 if wants_value and _VALUE.search(norm) else 0.0
                value_bonus += 0.3 if wants_date and _DATE.search(norm) else 0.0
                # a heading repeats the question's words but says nothing; prefer sentences that add something
                novelty = 0.06 * min(len(words - topic), 5)
                answers_it = (wants_value and _VALUE.search(norm)) or (wants_date and _DATE.search(norm))
                heading_like = len(norm.strip()) < 30 and "。" not in norm and not answers_it
                penalty = 0.3 if len(norm.strip()) < 8 or heading_like else 0.0
                if topic and not overlap:
                    # a year or a number in a sentence about something else is not an answer
                    year_bonus = value_bonus = 0.0
                score = overlap + year_bonus + value_bonus + novelty + 0.5 * prior - penalty
                units.append(_Unit(hit, s, e, _one_line(text), score))
        units.sort(key=lambda u: -u.score)
        return units

    def _short_value(self, frame: Frame, unit: _Unit) -> str | None:
        if _WHEN.search(frame.question):
            norm = unicodedata.normalize("NFKC", unit.text)
            dates = [m.group().strip() for m in _DATE.finditer(norm)]
            if dates:
                return "〜".join(dates[:2]) if len(dates) > 1 and re.search(r"から|〜|~", norm) else dates[0]
        if not _VALUE_QUESTION.search(frame.question):
            return None
        norm = unicodedata.normalize("NFKC", unit.text)
        year_like = {str(y) for y in frame.years} | {str(y) for y in years_in(norm)}
        candidates = [m.group().strip() for m in _VALUE.finditer(norm)]
        candidates = [c for c in candidates if c not in year_like]
        with_unit = [c for c in candidates if re.search(r"[^0-9,.\s]", c)]
        pick = with_unit or candidates
        return pick[-1] if pick else None

    def answer(self, frame: Frame, hits: list[Hit], index: Index) -> Answer:
        not_found = self._not_covered(frame, hits, index)
        if not_found is not None:
            return not_found
        facts = self._matching_facts(frame, hits, index)
        if facts:
            return self._fact_answer(frame, facts, hits, index)
        missing = self._other_measure(frame, hits, index)
        if missing is not None:
            return missing
        units = self._score_units(frame, hits)
        best = units[0]
        short = self._short_value(frame, best) or best.text
        chosen = [
            best,
            *[u for u in units[1:3] if u.hit.chunk.chunk_id != best.hit.chunk.chunk_id and u.score > best.score * 0.6][:1],
        ]
        spans: dict[str, list[tuple[int, int]]] = {}
        for u in chosen:
            spans.setdefault(u.hit.chunk.chunk_id, []).append((u.start, u.end))
        ordered = [u.hit for u in chosen] + [h for h in hits if h not in [u.hit for u in chosen]]
        citations: list[Citation] = []
        for h in ordered:
            if h.chunk.chunk_id in {c.chunk_id for c in citations}:
                continue
            citations.append(_citation(len(citations) + 1, h, index, h.score, spans.get(h.chunk.chunk_id, [])))
            if len(citations) >= self.max_citations:
                break
        n_of = {c.chunk_id: c.n for c in citations}
        text = " ".join(f"{u.text} [{n_of[u.hit.chunk.chunk_id]}]" for u in chosen)
        return Answer(frame.question, text, short, True, tuple(citations))

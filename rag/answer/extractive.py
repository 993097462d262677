"""Extractive answers that say only what a cited span states.

No generative model is available offline, so every statement is text read from a cited
passage. The reader decides between four kinds of answer (`Answer.answer_type`):

- value / date / name / list: a short answer, given only when one cited span satisfies
  everything the question states — its subject (topic words, in the documents' words),
  the fiscal year, the prefecture (asked or filtered), the measure (目標 / 実績 / 予算) and
  the kind of value (an amount, a rate, a count, a date); `grounded` is then true;
- passage: the one to three sentences that best cover the question, in document order,
  each cited (procedures, explanations, and figures the passages do not pin down);
- none: no passage states it; the closest passages follow as related reading.

`Answerer` is the seam where a generator can be added without touching retrieval.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Protocol

import numpy as np

from rag.answer import phrasing
from rag.answer.catalog import Catalog, units_of
from rag.answer.sentences import QUESTION_LINE, Sentence, is_heading_like, score_sentences, share, topic_weights
from rag.facts.extract import kpi_labels
from rag.facts.tables import YearTable, year_tables
from rag.lang.eras import era_western_label, year_mentions, years_in
from rag.lang.normalize import NormText, nfkc, normalize_for_matching
from rag.lang.tokenize import tokenize
from rag.lang.vocab import (
    DATE,
    DATE_RANGE,
    FACT_GENERIC,
    LAW_NUMBER,
    MEASURE_IN_TEXT,
    MONEY,
    NUMERIC_EXPECTS,
    RATE,
    TOTAL,
    TOTAL_LINE,
    VALUE,
    Expect,
    Measure,
    asked_counter,
    counted_in,
    value_pattern,
)
from rag.query.understand import Query
from rag.types import Answer, Citation, Fact, Hit

# passages cited: those the answer quotes, then the other top passages as further reading
MAX_CITATIONS = 5
SUBJECT_MIN = 0.5  # share of the topic (idf-weighted) a span must hold to be about the question
FACT_MIN = 0.5  # share of the topic an indicator's name must hold to answer with its fact
# below this share of the topic in every sentence, nothing retrieved is about the question (answerable
# questions of allganize-dev: 5th percentile 0.30 in Japanese, 0.15 in English)
RELEVANT_MIN = 0.12
# a passage answer reads the best sentence and the three after it (the answer comes first; with chunk
# overlap the sentence before is usually another topic's tail), chosen on allganize-dev (docs/reader.md)
WINDOW = (0, 3)
EXTRA_SENTENCES = 2  # ... and up to this many more from elsewhere


# passages are short and the same neighbours come up question after question
_normalized_passage = lru_cache(maxsize=1024)(normalize_for_matching)


class Answerer(Protocol):
    def answer(self, query: Query, hits: list[Hit], catalog: Catalog, query_vector: np.ndarray | None = None) -> Answer: ...


@dataclass(frozen=True)
class _Grounded:
    """A value one sentence states for everything the question names."""

    sentence: Sentence
    value: str
    start: int  # the value's span in the passage's original text
    end: int


@dataclass(frozen=True)
class _Quote:
    """A span of a passage the answer rests on."""

    hit: Hit
    start: int
    end: int


def _citations(
    quotes: list[_Quote], hits: list[Hit], catalog: Catalog, limit: int = MAX_CITATIONS
) -> tuple[tuple[Citation, ...], dict[str, int]]:
    """Cited passages: those the answer quotes first (numbered in order of use), then the
    other top passages as further reading, up to `limit` (more when the answer needs them)."""
    spans: dict[str, list[tuple[int, int]]] = {}
    order: list[Hit] = []
    for q in quotes:
        if q.hit.chunk.chunk_id not in spans:
            order.append(q.hit)
        spans.setdefault(q.hit.chunk.chunk_id, []).append((q.start, q.end))
    for h in hits:
        if len(order) >= max(limit, len(spans)):
            break
        if h.chunk.chunk_id not in {o.chunk.chunk_id for o in order}:
            order.append(h)
    out = []
    for n, h in enumerate(order, start=1):
        rec = catalog.documents[h.chunk.doc_id]
        out.append(
            Citation(
                n=n,
                doc_id=h.chunk.doc_id,
                title=rec.title,
                prefecture=rec.prefecture,
                page=h.chunk.page,
                text=h.chunk.text,
                score=round(h.score, 6),
                chunk_id=h.chunk.chunk_id,
                highlights=tuple(sorted(set(spans.get(h.chunk.chunk_id, [])))),
                section=h.chunk.heading,
                ocr=h.chunk.ocr,
            )
        )
    return tuple(out), {c.chunk_id: c.n for c in out}


def citations_of(hits: list[Hit], catalog: Catalog) -> tuple[Citation, ...]:
    """The passages themselves, numbered [1]…[n] in retrieval order (what a generator is shown)."""
    return _citations([], hits, catalog, limit=len(hits))[0]


def _hit_for(chunk_id: str, hits: list[Hit], catalog: Catalog) -> Hit:
    for h in hits:
        if h.chunk.chunk_id == chunk_id:
            return h
    chunk = catalog.chunk(chunk_id)
    rec = catalog.documents[chunk.doc_id]
    return Hit(len(hits) + 1, 1.0, chunk, rec.title, rec.prefecture)


def _one_line(text: str) -> str:
    """A span as printed, on one line: a break between Japanese characters is dropped."""
    return re.sub(r"\s*\n\s*", lambda m: "" if _cjk_around(m) else " ", text.strip())


def _cjk_around(m: re.Match[str]) -> bool:
    s = m.string
    return m.start() > 0 and m.end() < len(s) and ord(s[m.start() - 1]) > 0x2E7F and ord(s[m.end()]) > 0x2E7F


def _printed(s: Sentence) -> str:
    """The sentence as the document prints it (users see the original, not the matching text)."""
    return _one_line(s.hit.chunk.text[s.unit.start : s.unit.end])


def _none(
    query: Query, text: str, hits: list[Hit], catalog: Catalog, notes: tuple[str, ...] = (), lead: list[Sentence] = ()
) -> Answer:
    """No passage states it: say so, then the closest passages (their best sentence quoted)."""
    quotes = [_Quote(s.hit, s.unit.start, s.unit.end) for s in lead[:1]]
    citations, _n_of = _citations(quotes, hits, catalog)
    parts = [text]
    if citations:
        label = phrasing.RELATED[query.lang]
        grouped: dict[tuple[str, int | None], list[Citation]] = {}
        for c in citations:
            grouped.setdefault((c.doc_id, c.page), []).append(c)
        refs = []
        for group in grouped.values():
            c = group[0]
            where = phrasing.where(query.lang, c.prefecture, c.title, c.page)
            quoted = next((_printed(s) for s in lead[:1] if s.chunk_id in {g.chunk_id for g in group} and s.coverage > 0), None)
            refs.append(f"{where}{f'「{_clip(quoted)}」' if quoted else ''} " + "".join(f"[{g.n}]" for g in group))
        parts.append(f"{label}: " + " / ".join(refs))
    return Answer(query.question, " ".join(parts), None, False, citations, notes, answer_type="none", grounded=False)


def _clip(text: str, limit: int = 120) -> str:
    text = _one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ExtractiveAnswerer:
    def __init__(self, max_citations: int = MAX_CITATIONS) -> None:
        self.max_citations = max_citations

    # ---- the one entry point ----------------------------------------------------------------
    def answer(
        self,
        query: Query,
        hits: list[Hit],
        catalog: Catalog,
        query_vector: np.ndarray | None = None,
    ) -> Answer:
        if query.dangling:
            return Answer(query.question, phrasing.dangling(query.lang), None, False, (), ("refers to nothing",), "none", False)
        refused = self._not_covered(query, hits, catalog)
        if refused is not None:
            return refused
        numeric = query.expects in NUMERIC_EXPECTS or query.expects == Expect.DIFFERENCE
        if numeric and not query.topic:
            if query.measure == Measure.BUDGET and query.expects in NUMERIC_EXPECTS:
                # 「徳島県の令和3年度予算は？」 names no project: it asks for the total the plan states
                totals = self._matching_facts(query, catalog, total=True)
                if totals:
                    return self._fact_answer(query, totals, hits, catalog)
            return _none(query, phrasing.no_subject(query.lang), hits, catalog, ("no subject",))
        if query.expects == Expect.DIFFERENCE:
            difference = self._difference(query, hits, catalog)
            if difference is not None:
                return difference
        if {Measure.TARGET, Measure.ACTUAL} <= set(query.measures) and query.expects in NUMERIC_EXPECTS:
            both = self._target_and_actual(query, hits, catalog)
            if both is not None:
                return both
        if query.measure is not None and query.expects in NUMERIC_EXPECTS:  # a difference is not one of its figures
            facts = self._matching_facts(query, catalog)
            if facts:
                return self._fact_answer(query, facts, hits, catalog)
        sentences = score_sentences(query, hits, catalog, query_vector)
        if not sentences:
            return _none(query, phrasing.NOT_FOUND[query.lang], hits, catalog, ("nothing retrieved",))
        if query.topic and max(s.context for s in sentences[:5]) < RELEVANT_MIN:
            return _none(query, phrasing.NOT_FOUND[query.lang], hits, catalog, ("no passage is about the question",), sentences)
        if numeric or query.expects in (Expect.DATE, Expect.PERIOD):
            grounded = self._grounded_value(query, sentences, catalog)
            if grounded:
                return self._value_answer(query, grounded, hits, catalog)
            if query.measure is not None and query.expects != Expect.DIFFERENCE:
                missing = self._other_measure(query, catalog, hits)
                if missing is not None:
                    return missing
            if query.years and numeric:
                block = self._table_block(query, hits, catalog)
                if block is not None:
                    return block
            if query.years and not any(set(query.years) & set(years_in(s.text)) for s in sentences[:8]):
                return _none(
                    query,
                    phrasing.not_covered_year(query.lang, list(query.years)),
                    hits,
                    catalog,
                    ("year not stated",),
                    sentences,
                )
        if query.expects == Expect.LIST:
            listed = self._list_answer(query, sentences, hits, catalog)
            if listed is not None:
                return listed
        if query.expects == Expect.WHICH:
            named = self._which_answer(query, sentences, hits, catalog)
            if named is not None:
                return named
        lead = None
        if query.expects == Expect.DEFINITION:
            defining = _defining(query, sentences)
            if not _defining(query, sentences, strongest=2):
                # the definition may sit in a passage retrieval ranked low: look the term up directly
                seen = {h.chunk.chunk_id for h in hits}
                term = _term_pattern(query)
                extra = [
                    c
                    for pattern in _definition_patterns(query)[:2]
                    for c in catalog.find(pattern, holding=term)
                    if c.chunk_id not in seen and self._in_scope(query, c.doc_id, catalog)
                ]
                if extra:
                    hits = [*hits, _hit_for(extra[0].chunk_id, hits, catalog)]
                    sentences = score_sentences(query, hits, catalog, query_vector)
                    defining = _defining(query, sentences, strongest=2) or _defining(query, sentences)
            lead = defining[0] if defining else None
        return self._passage_answer(
            query, sentences, hits, catalog, numeric or query.expects in (Expect.DATE, Expect.PERIOD), lead
        )

    # ---- refusals ---------------------------------------------------------------------------
    def _not_covered(self, query: Query, hits: list[Hit], catalog: Catalog) -> Answer | None:
        indexed = catalog.prefectures
        if query.scope.prefecture and query.prefectures and query.scope.prefecture not in query.prefectures:
            text = phrasing.filtered_out(query.lang, list(query.prefectures), query.scope.prefecture)
            return _none(query, text, hits, catalog, ("filter excludes the asked prefecture",))
        asked = [query.scope.prefecture] if query.scope.prefecture else list(query.prefectures)
        missing = [p for p in asked if p not in indexed]
        if missing and not any(p in indexed for p in asked):
            return _none(
                query, phrasing.not_covered_prefecture(query.lang, missing, indexed), hits, catalog, ("prefecture not in corpus",)
            )
        if not hits:
            return _none(query, phrasing.NOT_FOUND[query.lang], hits, catalog, ("nothing retrieved",))
        if query.years:
            covered = {y for h in hits for y in h.chunk.years} | catalog.fact_years(query.scope.doc_id, query.prefecture)
            if not set(query.years) & covered:
                return _none(
                    query, phrasing.not_covered_year(query.lang, list(query.years)), hits, catalog, ("year not covered",)
                )
        return None

    @staticmethod
    def _in_scope(query: Query, doc_id: str, catalog: Catalog) -> bool:
        if query.scope.doc_id and doc_id != query.scope.doc_id:
            return False
        want = query.prefecture
        return not want or catalog.documents[doc_id].prefecture == want

    # ---- facts read at index time ---------------------------------------------------------
    def _matching_facts(self, query: Query, catalog: Catalog, total: bool | None = None) -> list[Fact]:
        """The facts of the asked measure and year whose indicator holds the question's topic;
        `total`: the total line only (by default when the question says 総額 / 合計)."""
        topic = topic_weights(query, catalog, skip=FACT_GENERIC)
        wants_total = bool(TOTAL.search(query.text)) if total is None else total
        if query.measure is None or not (topic or wants_total):
            return []
        if len(query.years) > 1:
            return []  # several years: a comparison, not one figure
        candidates = (
            [f for y in query.years for f in catalog.facts_for(query.measure.value, y)]
            if query.years
            else catalog.facts_for(query.measure.value)
        )
        counters = asked_counter(query.text)
        scored: list[tuple[float, Fact]] = []
        for f in candidates:
            if not self._in_scope(query, f.doc_id, catalog):
                continue
            if not _of_asked_kind(query.expects, f.display):
                continue  # "how many" is not answered with a rate, nor "what share" with a count
            if counters and counted_in(f.display) not in (*counters, None):
                continue  # 何人 is not answered in 件
            if wants_total != bool(TOTAL_LINE.search(f.indicator)):
                continue  # the total is not one of its lines, and a line is not the total
            words = set(f.words)
            if wants_total:
                # a total names no subject itself ("予算総額"): its passage must be about the asked one
                words |= set(tokenize(catalog.chunk(f.chunk_id).search_text))
            overlap = share(topic, words - FACT_GENERIC) if topic else 1.0
            if overlap >= FACT_MIN:
                scored.append((overlap, f))
        if not scored:
            return []
        best = max(s for s, _ in scored)
        facts = [f for s, f in scored if s >= best - 1e-9]
        if not query.years and len({f.year for f in facts}) > 1:
            return []  # no year asked and the indicator has several: the table, not one value
        return facts

    def _other_measure(self, query: Query, catalog: Catalog, hits: list[Hit]) -> Answer | None:
        """The table gives this indicator and year, but not the measure asked (an actual for a
        future year, say): say so, with what it does give, instead of guessing."""
        if query.measure not in (Measure.TARGET, Measure.ACTUAL) or len(query.years) != 1:
            return None
        other = Measure.ACTUAL if query.measure == Measure.TARGET else Measure.TARGET
        facts = self._matching_facts(replace(query, measure=other), catalog)
        if not facts:
            return None
        f = facts[0]
        hit = _hit_for(f.chunk_id, hits, catalog)
        citations, _ = _citations([_Quote(hit, f.start, f.end)], [], catalog)
        indicator = f.indicator_original or f.indicator
        text = phrasing.measure_missing(query.lang, indicator, f.year, query.measure, other, f.display)
        return Answer(query.question, text, None, False, citations, ("measure not stated",), "none", False)

    def _fact_answer(self, query: Query, facts: list[Fact], hits: list[Hit], catalog: Catalog) -> Answer:
        quotes = [_Quote(_hit_for(f.chunk_id, hits, catalog), f.start, f.end) for f in facts]
        citations, n_of = _citations(quotes, hits, catalog)
        values = list(dict.fromkeys(f.display for f in facts))
        docs = list(dict.fromkeys(f.doc_id for f in facts))
        lines = []
        seen: set[tuple[str, int, str]] = set()
        conflict = len(values) > 1
        for f in facts:
            key = (f.display, f.year, f.doc_id)
            if key in seen:
                continue
            seen.add(key)
            refs = sorted({n_of[g.chunk_id] for g in facts if (g.display, g.year, g.doc_id) == key})
            lines.append(self._fact_sentence(query, f, catalog, refs, dated=conflict))
        notes: tuple[str, ...] = ()
        if len(values) == 1:
            # a note the passage puts right after the figure (（要求中）, （案）) stays with it in bold
            short = values[0] + _stated_note(facts[0], catalog)
        else:
            # documents disagree: every value with its source, nothing silently picked
            short = " / ".join(
                f"{v} ({catalog.documents[d].title})" for v, d in dict.fromkeys((f.display, f.doc_id) for f in facts)
            )
            notes = ("documents disagree",)
            lines.insert(0, phrasing.disagree(query.lang))
        return Answer(query.question, " ".join(lines), short, True, citations, notes, "value", len(docs) >= 1 and not notes)

    def _target_actual_pair(self, query: Query, catalog: Catalog) -> tuple[Fact, Fact] | None:
        """The target and the actual of one indicator, year and document the question names; None
        unless both are found and each is one value."""
        target = self._matching_facts(replace(query, measure=Measure.TARGET), catalog)
        actual = self._matching_facts(replace(query, measure=Measure.ACTUAL), catalog)
        pairs = [(t, a) for t in target for a in actual if (t.doc_id, t.indicator, t.year) == (a.doc_id, a.indicator, a.year)]
        if not pairs or len({(t.display, a.display) for t, a in pairs}) > 1:
            return None
        return pairs[0]

    def _target_and_actual(self, query: Query, hits: list[Hit], catalog: Catalog) -> Answer | None:
        """「目標と実績は」: both figures, each a fact of the same indicator in the same document."""
        pair = self._target_actual_pair(query, catalog)
        if pair is None:
            return None
        t, a = pair
        quotes = [_Quote(_hit_for(f.chunk_id, hits, catalog), f.start, f.end) for f in (t, a)]
        citations, n_of = _citations(quotes, hits, catalog)
        lines = [self._fact_sentence(query, f, catalog, [n_of[f.chunk_id]], dated=False) for f in (t, a)]
        short = " / ".join(f"{phrasing.measure_word(query.lang, f.measure)} {f.display}" for f in (t, a))
        return Answer(query.question, " ".join(lines), short, True, citations, (), "value", True)

    def _fact_sentence(self, query: Query, f: Fact, catalog: Catalog, refs: list[int], dated: bool) -> str:
        rec = catalog.documents[f.doc_id]
        source = phrasing.where(query.lang, rec.prefecture, rec.title, None)
        when = rec.meta.date or rec.meta.fiscal_year
        if dated and when:
            source = f"{source}（{when}）" if query.lang == "ja" else f"{source} ({when})"
        indicator = f.indicator_original or f.indicator
        label = f"{f.label} " if f.label and f.label.startswith(("KGI", "KPI")) else ""
        cite = "".join(f"[{n}]" for n in refs)
        measure = phrasing.measure_word(query.lang, f.measure)
        if query.lang == "en":
            return f"{f.display} — {source} {label}{indicator}: {measure} for {phrasing.year_label('en', f.year)} {cite}"
        return f"{f.display} — {source} {label}{indicator}、{era_western_label(f.year)}の{measure} {cite}"

    # ---- one value read from one sentence -----------------------------------------------------
    def _grounded_value(self, query: Query, sentences: list[Sentence], catalog: Catalog) -> list[_Grounded]:
        """The sentences that state a value of the asked kind for everything the question names,
        best first, each with its value and the value's span in the passage (at most three)."""
        if query.expects == Expect.DIFFERENCE or len(query.years) > 1:
            return []
        pattern = value_pattern(query.expects) or VALUE
        topic = topic_weights(query, catalog)
        out: list[_Grounded] = []
        for s in sentences:
            if len(out) >= 3:
                break
            if s.subject < SUBJECT_MIN or s.coverage <= 0 or is_heading_like(s.text):
                continue
            if _names_another_subject(topic, s):
                continue
            if not self._in_scope(query, s.hit.chunk.doc_id, catalog):
                continue
            mentioned = {m.year for m in year_mentions(s.text)}
            if query.years and not (set(query.years) & mentioned):
                continue
            if query.measure is not None and not self._states_measure(query.measure, s):
                continue
            if query.expects in (Expect.DATE, Expect.PERIOD):
                picked = self._pick_date(query, s.text)
            else:
                picked = self._pick_value(query, s.text, pattern, _anchor_ends(query, s, catalog))
            if picked is None:
                continue
            value, vs, ve = picked
            out.append(_Grounded(s, value, *self._span_in_passage(s, vs, ve)))
        return out

    @staticmethod
    def _states_measure(measure: Measure, s: Sentence) -> bool:
        text = s.text
        heading = s.hit.chunk.heading or ""
        if MEASURE_IN_TEXT[measure].search(text) or MEASURE_IN_TEXT[measure].search(heading):
            others = [m for m in Measure if m != measure and MEASURE_IN_TEXT[m].search(text)]
            return not (others and measure != Measure.BUDGET and not MEASURE_IN_TEXT[measure].search(text))
        return False

    @staticmethod
    def _pick_value(
        query: Query, text: str, pattern: re.Pattern[str], anchor_words: list[int] | None = None
    ) -> tuple[str, int, int] | None:
        """The one value of the asked kind in `text` (not a year, article or page number), or
        the one right after the question's most specific word (`anchor_words`: where it ends) or
        after the asked year; None when it stays ambiguous."""
        anchor_words = anchor_words or []
        unit_asked = next((u for u, p in _UNIT_ASKED if p.search(query.text)), None)
        counters = asked_counter(query.text)
        years = {str(m.year) for m in year_mentions(text)} | {str(y) for y in query.all_years}
        date_spans = [m.span() for m in DATE.finditer(text)] if query.expects != Expect.DATE else []
        found = []
        for m in pattern.finditer(text):
            v = m.group().strip()
            digits = re.sub(r"[^0-9]", "", v)
            if not re.search(r"[0-9]", v) or v in years or digits in years:
                continue
            if any(s <= m.start() < e for s, e in date_spans):
                continue
            before, after = text[max(0, m.start() - 1) : m.start()], text[m.end() : m.end() + 1]
            if before in ("第", "No", "p", "P", "図", "表") or after in ("条", "号", "章", "節", "項", "頁", "ページ", "位"):
                continue
            if query.expects == Expect.VALUE and not re.search(r"[^0-9,.\s]", v):
                continue  # a bare number is not a figure unless it says what it counts
            if unit_asked and unit_asked not in v:
                continue  # asked in % (or 割): a figure in another unit is not the answer
            if counters and counted_in(v) not in counters:
                continue  # 何人 is answered in people, not in years (「3年度」 gave "3年")
            qualifier = _QUALIFIER.search(text, max(0, m.start() - 4), m.start())
            if qualifier:  # 約800手続 is not 800手続: the bold keeps what the passage says
                found.append((text[qualifier.start() : m.start()] + v, qualifier.start(), m.end()))
            else:
                found.append((v, m.start(), m.end()))
        if not found:
            return None
        distinct = list(dict.fromkeys(re.sub(r"\s", "", v) for v, _, _ in found))
        if len(distinct) == 1:
            return found[0]
        # several figures: the one right after the question's most specific word, else after the asked year
        for anchors in (anchor_words, [m.start for m in year_mentions(text) if m.year in query.all_years]):
            near = [f for f in found if any(0 < f[1] - a <= 24 for a in anchors)]
            if len({re.sub(r"\s", "", v) for v, _, _ in near}) == 1:
                return near[0]
        return None

    @staticmethod
    def _pick_date(query: Query, text: str) -> tuple[str, int, int] | None:
        """The one date in `text` (a law's number, 平成28年法律第103号, is not a date); for a
        period, the two ends of "A から B まで"."""
        dates = [m for m in DATE.finditer(text) if not LAW_NUMBER.match(text, m.end())]
        if query.expects == Expect.PERIOD:
            for a, b in itertools.pairwise(dates):
                between = text[a.end() : b.start()]
                if len(between) <= 4 and DATE_RANGE.search(between):
                    return f"{a.group().strip()}〜{b.group().strip()}", a.start(), b.end()
            return None
        distinct = list(dict.fromkeys(re.sub(r"\s", "", m.group()) for m in dates))
        if len(distinct) != 1:
            return None
        return dates[0].group().strip(), dates[0].start(), dates[0].end()

    @staticmethod
    def _span_in_passage(s: Sentence, vs: int, ve: int) -> tuple[int, int]:
        """Map a span of the sentence's normalised text to the passage's original text."""
        nt = nfkc(s.hit.chunk.text[s.unit.start : s.unit.end])
        found = nt.text.find(s.text[vs:ve])
        if found < 0:
            return s.unit.start, s.unit.end
        a, b = nt.span_in_original(found, found + ve - vs)
        return s.unit.start + a, s.unit.start + b

    def _value_answer(self, query: Query, grounded: list[_Grounded], hits: list[Hit], catalog: Catalog) -> Answer:
        """The best grounded value. Other sentences as strongly about the question that state a
        different value are not hidden: from the same passage they are listed with it (a plan
        revised twice has two dates), from other documents they are shown as a disagreement."""
        best = grounded[0]
        peers = [g for g in grounded[1:] if g.sentence.subject >= best.sentence.subject - 1e-9 and g.value != best.value]
        same_passage = [g for g in peers if g.sentence.chunk_id == best.sentence.chunk_id]
        other_docs = [g for g in peers if g.sentence.hit.chunk.doc_id != best.sentence.hit.chunk.doc_id]
        shown = sorted([best, *same_passage], key=lambda g: g.sentence.position) if same_passage else [best, *other_docs[:1]]
        quotes = [
            q
            for g in shown
            for q in (_Quote(g.sentence.hit, g.sentence.unit.start, g.sentence.unit.end), _Quote(g.sentence.hit, g.start, g.end))
        ]
        citations, n_of = _citations(quotes, hits, catalog)
        lines = []
        for g in shown:
            rec = catalog.documents[g.sentence.hit.chunk.doc_id]
            where = phrasing.where(query.lang, rec.prefecture, rec.title, g.sentence.hit.chunk.page)
            lines.append(f"{g.value} — {where}: 「{_clip(_printed(g.sentence), 200)}」 [{n_of[g.sentence.chunk_id]}]")
        kind = "date" if query.expects in (Expect.DATE, Expect.PERIOD) else "value"
        if len(shown) == 1:
            return Answer(query.question, lines[0], best.value, True, citations, (), kind, True)
        if same_passage and kind == "date":
            short = "、".join(dict.fromkeys(g.value for g in shown))
            return Answer(query.question, " ".join(lines), short, True, citations, ("several values stated",), kind, True)
        if same_passage:
            # two figures one passage states as strongly for the question: which is asked is not certain
            text = " ".join(lines) + " " + phrasing.NOT_PINNED[query.lang]
            return Answer(query.question, text, None, True, citations, ("value not pinned down",), "passage", False)
        short = " / ".join(f"{g.value} ({catalog.documents[g.sentence.hit.chunk.doc_id].title})" for g in shown)
        text = phrasing.disagree(query.lang) + " " + " ".join(lines)
        return Answer(query.question, text, short, True, citations, ("documents disagree",), kind, False)

    # ---- KPI tables whose labels can't be tied to their values -------------------------------
    def _table_block(self, query: Query, hits: list[Hit], catalog: Catalog) -> Answer | None:
        """The year-row tables of the passages about the question that hold an asked year,
        shown with the indicator labels around them: the reader cannot tell which label a
        table belongs to (PDF extraction scatters them), so it shows the block, not a value."""
        words = topic_weights(query, catalog)
        found: list[tuple[Hit, YearTable, NormText]] = []
        labels: list[str] = []
        seen: set[str] = set()
        for hit in hits:
            if share(words, set(tokenize(hit.chunk.text + " " + (hit.chunk.heading or "")))) < SUBJECT_MIN:
                continue
            # a table often sits a passage or two away from the indicator's name
            for chunk in catalog.neighbours(hit.chunk.chunk_id):
                if chunk.chunk_id in seen:
                    continue
                seen.add(chunk.chunk_id)
                nt = _normalized_passage(chunk.text)
                labels += [name for _, name, _ in kpi_labels(nt.text)]
                for t in year_tables(nt.text):
                    if set(query.years) & set(t.years) and _unit_fits(query.expects, t.unit):
                        found.append((_hit_for(chunk.chunk_id, hits, catalog), t, nt))
        if not found:
            return None
        found = found[:3]
        quotes = [_Quote(h, *nt.span_in_original(t.start, t.end)) for h, t, nt in found]
        citations, n_of = _citations(quotes, hits, catalog)
        blocks = " ／ ".join(f"{t.render(query.years, query.lang)} [{n_of[h.chunk.chunk_id]}]" for h, t, _ in found)
        # the indicators named around the tables, those closest to the question first
        labels = sorted(dict.fromkeys(labels), key=lambda name: -share(words, set(tokenize(name))))[:4]
        lead = (
            "Table values (which indicator each row belongs to is not certain): "
            if query.lang == "en"
            else "表の値（どの指標の行かは文書で確認してください）："
        )
        text = lead + blocks
        if labels:
            text += (" — indicators on this page: " if query.lang == "en" else " — このページの指標：") + " / ".join(
                dict.fromkeys(labels)
            )
        return Answer(
            query.question, text, None, True, citations, ("table shown, value not tied to its label",), "passage", False
        )

    # ---- differences of two grounded figures -------------------------------------------------
    def _difference(self, query: Query, hits: list[Hit], catalog: Catalog) -> Answer | None:
        """How much a figure grew or fell between two asked years: both values must be facts of
        the same indicator in the same document; both are shown and cited, then the difference."""
        if len(query.years) == 1 and {Measure.TARGET, Measure.ACTUAL} & set(query.measures):
            return self._against_target(query, hits, catalog)
        if len(query.years) != 2 or query.measure is None:
            return None
        first, second = sorted(query.years)
        a = self._matching_facts(replace(query, years=(first,)), catalog)
        b = self._matching_facts(replace(query, years=(second,)), catalog)
        pairs = [(x, y) for x in a for y in b if x.doc_id == y.doc_id and x.indicator == y.indicator and x.unit == y.unit]
        if not pairs:
            return None
        x, y = pairs[0]
        shown = _signed_difference(x, y, x.unit)
        if shown is None:
            return None
        quotes = [_Quote(_hit_for(f.chunk_id, hits, catalog), f.start, f.end) for f in (x, y)]
        citations, n_of = _citations(quotes, hits, catalog)
        indicator = x.indicator_original or x.indicator
        measure = phrasing.measure_word(query.lang, x.measure)
        if query.lang == "en":
            text = (
                f"{shown}: {indicator} {measure} {phrasing.year_label('en', first)} {x.display} [{n_of[x.chunk_id]}] → "
                f"{phrasing.year_label('en', second)} {y.display} [{n_of[y.chunk_id]}]"
            )
        else:
            text = (
                f"{shown}（{indicator}の{measure}：{era_western_label(first)} {x.display} [{n_of[x.chunk_id]}] → "
                f"{era_western_label(second)} {y.display} [{n_of[y.chunk_id]}]）"
            )
        return Answer(query.question, text, shown, True, citations, ("computed from two cited values",), "value", True)

    def _against_target(self, query: Query, hits: list[Hit], catalog: Catalog) -> Answer | None:
        """「目標をどれだけ上回った」「実績と目標の差」 in one year: the actual minus the target, both
        facts of the same indicator in the same document, both shown and cited."""
        pair = self._target_actual_pair(query, catalog)
        if pair is None or pair[0].unit != pair[1].unit:
            return None
        t, a = pair
        unit = "ポイント" if t.unit == "%" and query.lang == "ja" else (" points" if t.unit == "%" else t.unit)
        shown = _signed_difference(t, a, unit)
        both = self._target_and_actual(query, hits, catalog)
        if shown is None or both is None:
            return None
        notes = (*both.notes, "computed from two cited values")
        return replace(both, answer=f"{shown}: {both.answer}", short_answer=shown, notes=notes)

    # ---- which prefecture / which document ----------------------------------------------------
    def _which_answer(self, query: Query, sentences: list[Sentence], hits: list[Hit], catalog: Catalog) -> Answer | None:
        """The prefectures (or documents) whose passages state what the question describes."""
        words = topic_weights(query, catalog)
        # the sentence itself must hold the topic whole: a heading nearby is not enough to name a prefecture
        strong = [s for s in sentences if share(words, s.tokens, strict=True) >= SUBJECT_MIN and not is_heading_like(s.text)]
        if not strong:
            return None
        by_doc: dict[str, Sentence] = {}
        for s in strong:
            by_doc.setdefault(s.hit.chunk.doc_id, s)
        asks_document = bool(re.search(r"(?i)文書|計画|資料|document|plan", query.text))
        names = []
        for doc_id in by_doc:
            rec = catalog.documents[doc_id]
            name = rec.title if asks_document or not rec.prefecture else rec.prefecture
            if name not in names:
                names.append(name)
        chosen = list(by_doc.values())[:3]
        citations, n_of = _citations([_Quote(s.hit, s.unit.start, s.unit.end) for s in chosen], hits, catalog)
        lines = [
            f"{phrasing.where(query.lang, catalog.documents[s.hit.chunk.doc_id].prefecture, catalog.documents[s.hit.chunk.doc_id].title, s.hit.chunk.page)}: "
            f"「{_clip(_printed(s), 160)}」 [{n_of[s.chunk_id]}]"
            for s in chosen
        ]
        return Answer(query.question, " ".join(lines), "、".join(names[:3]), True, citations, (), "name", True)

    # ---- lists -------------------------------------------------------------------------------
    def _list_answer(self, query: Query, sentences: list[Sentence], hits: list[Hit], catalog: Catalog) -> Answer | None:
        """The items of a bulleted or numbered list under a line that names the question's topic."""
        words = topic_weights(query, catalog)
        for lead in sentences[:6]:
            if lead.context < SUBJECT_MIN:
                continue
            units = units_of(lead.hit.chunk.text)
            items = []
            for u in units[lead.position + 1 :]:
                if not _ITEM_MARK.match(u.text):
                    if items:
                        break
                    continue
                items.append(u)
                if len(items) >= 12:
                    break
            if len(items) < 2 or share(words, lead.tokens) <= 0:
                continue
            names = [_item_name(u.text) for u in items]
            quotes = [_Quote(lead.hit, lead.unit.start, lead.unit.end)] + [_Quote(lead.hit, u.start, u.end) for u in items]
            citations, n_of = _citations(quotes, hits, catalog)
            n = n_of[lead.chunk_id]
            rec = catalog.documents[lead.hit.chunk.doc_id]
            where = phrasing.where(query.lang, rec.prefecture, rec.title, lead.hit.chunk.page)
            short = "、".join(names)
            original = lead.hit.chunk.text
            text = (
                f"{_clip(_printed(lead), 100)} [{n}] "
                + " ".join(_one_line(original[u.start : u.end]) for u in items)
                + f" [{n}] — {where}"
            )
            return Answer(query.question, text, short, True, citations, (), "list", True)
        return None

    # ---- sentences ---------------------------------------------------------------------------
    def _passage_answer(
        self,
        query: Query,
        sentences: list[Sentence],
        hits: list[Hit],
        catalog: Catalog,
        note_unpinned: bool,
        lead: Sentence | None = None,
    ) -> Answer:
        """The best sentence read in its place (with the three after it, in document order),
        then up to two more sentences from elsewhere that the question also
        matches, each cited. The window and the extra sentences were chosen on
        allganize-dev (see docs/reader.md), never on eval/qa.jsonl."""
        best = lead or next((s for s in sentences if not is_heading_like(s.text)), sentences[0])
        same = {s.position: s for s in sentences if s.chunk_id == best.chunk_id}
        window = [same[p] for p in range(best.position - WINDOW[0], best.position + WINDOW[1] + 1) if p in same]
        while window[0] is not best and is_heading_like(window[0].text):
            window.pop(0)  # a heading before the sentence says nothing the answer needs
        window = [s for s in window if s is best or not QUESTION_LINE.search(s.text)]
        extra: list[Sentence] = []
        for s in sentences:
            if len(extra) >= EXTRA_SENTENCES:
                break
            near = any(s.chunk_id == x.chunk_id and abs(s.position - x.position) <= 1 for x in window + extra)
            if near or is_heading_like(s.text) or s.coverage <= 0:
                continue
            extra.append(s)
        quotes = [_Quote(s.hit, s.unit.start, s.unit.end) for s in [*window, *extra]]
        citations, n_of = _citations(quotes, hits, catalog)
        rec = catalog.documents[best.hit.chunk.doc_id]
        where = phrasing.where(query.lang, rec.prefecture, rec.title, best.hit.chunk.page)
        parts = [" ".join(_printed(s) for s in window) + f" [{n_of[best.chunk_id]}]"]
        parts += [f"{_printed(s)} [{n_of[s.chunk_id]}]" for s in extra]
        text = " ".join(parts) + f" — {where}"
        notes: tuple[str, ...] = ()
        if note_unpinned:
            text += " " + phrasing.NOT_PINNED[query.lang]
            notes = ("value not pinned down",)
        return Answer(query.question, text, None, True, citations, notes, "passage", False)


def _signed_difference(earlier: Fact, later: Fact, unit: str) -> str | None:
    """later − earlier with its sign, at the precision the two values are written in ("+120人")."""
    try:
        a, b = float(earlier.value.replace(",", "")), float(later.value.replace(",", ""))
    except ValueError:
        return None
    decimals = max(len(v.split(".")[1]) if "." in v else 0 for v in (earlier.value, later.value))
    return f"{b - a:+,.{decimals}f}{unit}"


_STATED_NOTE = re.compile(r"\s*([（(](?:要求中|要求額|案|見込み?|予定|暫定|速報値?|概算)[)）])")


def _stated_note(f: Fact, catalog: Catalog) -> str:
    """The bracketed note a passage writes right after a figure (210,487千円（要求中）), as written; "" if none."""
    m = _STATED_NOTE.match(catalog.chunk(f.chunk_id).text, f.end)
    return m.group(1) if m else ""


def _of_asked_kind(expects: Expect, value: str) -> bool:
    """Whether a figure is of the kind the question asks: an amount of money, a rate, or a count
    (a bare number may be a count; a rate or an amount is not)."""
    if expects == Expect.MONEY:
        return bool(MONEY.search(value))
    if expects == Expect.RATE:
        return bool(RATE.search(value))
    if expects == Expect.COUNT:
        return not (RATE.search(value) or MONEY.search(value))
    return True


_NAMED = re.compile(r"[「『]([^」』]{2,40})[」』]")


def _names_another_subject(topic, s: Sentence) -> bool:
    """The sentence is about something it names in brackets (「自治体DX推進計画」を…策定) that is not
    what the question asks, and does not itself hold the question's subject: its value is that
    thing's, not the asked one's, even when the heading or the document is about the asked subject."""
    names = _NAMED.findall(s.text)
    if not names or share(topic, s.tokens, strict=True) >= SUBJECT_MIN:
        return False
    return all(share(topic, frozenset(tokenize(n)), strict=True) < SUBJECT_MIN for n in names)


def _defined_term(query: Query) -> str | None:
    """X of 「Xとは」 / "what is X" / "what does X mean"."""
    m = re.search(r"[「『]?([^「」『』、。？?\s]{1,40}?)[」』]?\s*(?:とは|の意味|って何)", query.text) or re.search(
        r"(?i)what (?:is|are|does) (?:an? |the )?(.{1,60}?)(?: mean| stand for)?\s*\??$", query.text
    )
    return m.group(1).strip() if m else None


def _term_regex(query: Query) -> str | None:
    """The X of 「Xとは」 as a pattern that lets spaces fall between its characters (PDF text)."""
    term = _defined_term(query)
    if not term or query.lang == "en":
        return None
    return r"\s*".join(re.escape(ch) for ch in unicodedata.normalize("NFKC", term) if not ch.isspace())


def _term_pattern(query: Query) -> re.Pattern[str] | None:
    x = _term_regex(query)
    return re.compile(x) if x else None


def _definition_patterns(query: Query) -> list[re.Pattern[str]]:
    """Ways a document defines the X asked about, strongest first: "X とは …", "…の措置（X）" or
    "X（…）", "X：…", "X は、…"."""
    x = _term_regex(query)
    if not x:
        return []
    return [
        re.compile(x + r"[」』)]*\s*とは"),
        re.compile(r"\S{6,}[(（]\s*" + x + r"\s*[)）]|" + x + r"\s*[(（][^)）]{4,}[)）]"),
        re.compile(x + r"[」』)]*\s*[:：=＝]"),
        re.compile(x + r"[」』)]*\s*は、"),
    ]


def _navigation(text: str) -> bool:
    """A question line or a table-of-contents line: it names the term without defining it."""
    return bool(QUESTION_LINE.search(text)) or (is_heading_like(text) and bool(re.search(r"[_…]{4,}", text)))


def _defining(query: Query, sentences: list[Sentence], strongest: int = 4) -> list[Sentence]:
    """For 「Xとは」: the sentences that define X, the strongest wording first (only the first
    `strongest` kinds of wording), then by score."""
    out: list[Sentence] = []
    for pattern in _definition_patterns(query)[:strongest]:
        out += [s for s in sentences if s not in out and pattern.search(s.text) and not _navigation(s.text)]
    return out


# words before a figure that change what it says (約800手続, 最大5件)
_QUALIFIER = re.compile(r"(?:約|およそ|概ね|おおむね|最大|最小|最低|最高)\s*$")
_UNIT_ASKED = (("%", re.compile(r"(?i)%|パーセント|percent")), ("割", re.compile(r"何割")))


def _anchor_ends(query: Query, s: Sentence, catalog: Catalog) -> list[int]:
    """Where, in the sentence, the question's most specific concept (the rarest one it holds) ends."""
    held = [(w, c) for c, w in topic_weights(query, catalog) if c.found_in(s.tokens)]
    if not held:
        return []
    _, concept = max(held, key=lambda x: x[0])
    ends = []
    for alt in concept.alternatives:
        last = alt[-1] if alt else ""
        ends += [m.end() for m in re.finditer(re.escape(last), s.text.lower())] if last else []
    return ends


def _unit_fits(expect: Expect, unit: str | None) -> bool:
    """Whether a table's unit can answer the kind of figure asked for."""
    if unit is None:
        return True
    if expect == Expect.RATE:
        return unit == "%"
    if expect == Expect.COUNT:
        return unit != "%"
    return True


_ITEM_MARK = re.compile(
    r"^\s*(?:[・•●○◆◇■□▪▶►✓✔☆★]|[①-⑳⑴-⒇❶-❿]|\(?[0-9]{1,2}[)）.．]|[0-9]{1,2}\s+(?=[^\s0-9])|[（(][0-9一二三四五六七八九十]{1,3}[)）]|[ア-ン][.．、)）])"
)


def _item_name(text: str) -> str:
    """A list item without its mark, cut at its first sentence end or colon."""
    body = _ITEM_MARK.sub("", text, count=1).strip()
    return re.split(r"[。：:]", body, maxsplit=1)[0].strip()[:60]

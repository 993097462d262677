"""Structured facts read out of passages at index time: an indicator's target for a
fiscal year ("KGI 公文書の電子化率 2022(R4)年度 100%", "2022年度までに100%…") and budget
amounts ("予算額：(R2) 64,370千円 → (R3) 177,051千円", "令和4年度予算 … 事業 86,700千円").

Only patterns whose reading is unambiguous become facts; a value the parser is not
sure of is left to the passage, never asserted. Each fact keeps its span in the
chunk's original text so the answer can highlight and cite it.
"""

from __future__ import annotations

import re

from rag.facts.tables import CELL, year_tables
from rag.lang.eras import ERA_FISCAL_YEAR, carried_year, era_to_western, year_of_cell
from rag.lang.normalize import normalize_for_matching
from rag.lang.vocab import FACT_UNITS, MONEY_UNITS, NUMBER, UNIT_WORDS, Measure
from rag.types import Chunk, Fact

_UNIT = f"(?:{'|'.join(map(re.escape, FACT_UNITS))})"
# "KGI 公文書の電子化率(電子決裁システム利用率)2022(R4)年度 100%"
_INLINE_TARGET = re.compile(
    rf"(?P<label>KGI|KPI(?:\s*+-?\s*+[0-9]++(?=[\s::]))?)\s*+[::]?\s*+(?P<ind>[^\n]{{2,60}}?)\s*(?P<y>(?:19|20)[0-9]{{2}})\s*(?:\([^)\n]{{1,6}}\))?\s*年度\s*(?P<v>{NUMBER})\s*(?P<u>{_UNIT})"
)
# "…の電子化を推進し、2022(令和4)年度までに100%電子化する。"
_BY_YEAR = re.compile(
    rf"(?P<ind>[^\n。]{{4,80}}?)(?P<y>(?:19|20)[0-9]{{2}})\s*(?:\([^)\n]{{1,6}}\))?\s*年度\s*までに\s*(?P<v>{NUMBER})\s*(?P<u>{_UNIT})"
)
# a project sheet's budget line, last year against this one: "予算額：(R2) 64,370千円 → (R3) 177,051千円"
_BUDGET_THEN_NOW = re.compile(
    r"予算額\s*[::]\s*\((?P<e1>[RH])(?P<n1>[0-9]{1,2})\)\s*(?P<v1>[0-9][0-9,]*|一)\s*千円\s*(?:→\s*)?"
    r"\((?P<e2>[RH])(?P<n2>[0-9]{1,2})\)\s*(?P<v2>[0-9][0-9,]*)\s*千円"
)
# 「令和4年度予算」 with its total alone on the next line (a note in brackets may follow: 「（要求中）」),
# then the projects' lines under it
_BUDGET_HEADER = re.compile(
    r"令和(?P<n>[0-9]{1,2})年度予算[^\n]*\n\s*(?P<v>[0-9][0-9,]*)\s*千円\s*(?:\([^)\n]{1,20}\))?[ \t]*(?=\n|$)"
)
_BUDGET_LINE = re.compile(r"^(?P<name>[^\n]{2,50}?(?:事業|経費|費))\s+(?P<v>[0-9][0-9,]*)\s*千円\s*$", re.M)
# the marks before a project's name: 「- 1 (新)」, 「(一部新)」, 「・」 (a number that starts the name, 5G…, stays)
_PROJECT_PREFIX = re.compile(r"^(?:[\s・.•\-]+|[0-9]+(?![0-9]*[A-Za-z])|[(（](?:一部)?新[)）])*")
# a figure that is not the target the line states: a baseline or actual before it, or a start point
_NOT_A_TARGET = re.compile(r"現状|基準|実績")
_STARTING_POINT = re.compile(r"\s*(?:から|→|->)")
# a table cell holding a value, maybe with the year it is of: "18,765 件 (30年度)"
_VALUE_CELL = re.compile(rf"^(?P<v>{NUMBER})\s*(?P<u>{_UNIT})?(?:\s*\((?P<y>[0-9]{{1,2}})年度\))?$")


def _project_name(text: str, pos: int) -> str | None:
    """The budget's project: the nearest line above that names a 事業 or 費."""
    lines = text[:pos].split("\n")
    for line in reversed(lines[-6:]):
        s = line.strip()
        if not s or s.startswith("【") or s.startswith("予算額"):
            continue
        s = s.split("【")[0].strip()
        s = _PROJECT_PREFIX.sub("", s)
        if re.search(r"(事業|費)$", s):
            return s
        return None
    return None


def _header_years(cells: list[str]) -> tuple[dict[int, int], dict[int, str]]:
    """The year (and its era) of each cell of a header row that is a fiscal year, a bare 「2年度」
    carrying the era and order of the cells before it."""
    years: dict[int, int] = {}
    eras: dict[int, str] = {}
    era: str | None = None
    for k, c in enumerate(cells):
        y = year_of_cell(c, era, years[max(years)] if years else None)
        if y:
            (years[k], era), eras[k] = y, y[1]
    return years, eras


def _tab_tables(text: str, doc_year: int | None, add) -> None:
    """Tables whose rows kept their tab-separated cells. A value is asserted only when
    the header names a year for its column, the row has exactly as many cells as the
    header, and the column says target / actual / budget unambiguously."""
    lines = text.split("\n")
    offsets = []
    pos = 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    i = 0
    while i < len(lines):
        cells = lines[i].split("\t")
        years, eras = _header_years(cells)
        if len(cells) < 3 or len(years) < 2:
            i += 1
            continue
        width = len(cells)
        unit_note = re.search(r"単位\s*[::]\s*([^)）\s]+)", "\n".join(lines[max(0, i - 3) : i]))
        table_unit = unit_note.group(1) if unit_note else ""
        kinds: dict[int, str] = {}
        j = i + 1
        if j < len(lines) and len(lines[j].split("\t")) == width and re.search("目標値|実績値|現状値", lines[j]):
            kinds = {k: c for k, c in enumerate(lines[j].split("\t"))}
            j += 1
        label = None
        while j < len(lines) and "\t" in lines[j]:
            row = lines[j].split("\t")
            if len(row) != width or len(_header_years(row)[0]) >= 2:
                break  # another table's year header starts here: its rows have its own years
            if row[0].strip():
                label = row[0].strip()
            cell_start = offsets[j]
            for k, cell in enumerate(row):
                here = cell_start
                cell_start += len(cell) + 1
                if k == 0 or k not in years or not label:
                    continue
                m = _VALUE_CELL.match(cell.strip())
                if not m:
                    continue
                year = years[k]
                if m["y"]:  # "18,765 件 (30年度)": the cell names its own year, in 平成 if its column is
                    year = carried_year("平成" if eras[k] == "平成" else None, int(m["y"]))[0]
                kind = kinds.get(k, "")
                unit = m["u"] or table_unit
                # a row named 予算… is a budget unless its unit says otherwise (予算執行率 90%)
                if "予算" in label and (not unit or unit in MONEY_UNITS):
                    measure = Measure.BUDGET
                elif "目標値" in kind and "実績値" not in kind:
                    measure = Measure.TARGET
                elif ("実績値" in kind or "現状値" in kind) and "目標値" not in kind:
                    measure = Measure.ACTUAL
                elif "目標値" in kind and doc_year is not None and year > doc_year:
                    measure = Measure.TARGET  # a future year of this document can only hold a target
                else:
                    continue
                lead = len(cell) - len(cell.lstrip())
                vs = here + lead + m.start("v")
                ve = here + lead + (m.end("u") if m["u"] else m.end("v"))
                add(label, year, measure, m["v"], unit, vs, ve, None, (offsets[j], offsets[j] + len(row[0])))
            j += 1
        i = j


_SECTION = re.compile(r"^[^\n]{2,30}\([0-9]{1,2}\)[ \t]*$", re.M)
_KPI_LABEL = re.compile(r"^[ \t]*(?P<tag>KGI|KPI\s*-\s*[0-9]+)\s*[::]\s*(?P<name>[^\n]+)(?:\n(?P<more>[^\n]{1,20}))?$", re.M)


def kpi_labels(section: str) -> list[tuple[str, str, tuple[int, int]]]:
    """(tag, name, span of the name) of each KGI / KPI-n label in a section."""
    labels = []
    for m in _KPI_LABEL.finditer(section):
        name = m["name"].strip()
        end = m.end("name")
        if m["more"] and not re.search(r"年度|担当課|KPI|CSF|KGI", m["more"]):
            name += m["more"].strip()
            end = m.end("more")
        labels.append((re.sub(r"\s", "", m["tag"]), name, (m.start("name"), end)))
    return labels


def sections(text: str) -> list[tuple[int, int]]:
    """Spans of the "主な指標及び工程（１）"-style sections a page's KPI labels and tables share."""
    bounds = [m.start() for m in _SECTION.finditer(text)] + [len(text)]
    return list(zip([0, *bounds[:-1]], bounds, strict=True))


def _year_tables(text: str, add) -> None:
    """Year-row tables (rag.facts.tables). Their labels often come out in another order than the
    tables, so a table is tied to a label only when its unit leaves no doubt: the one %
    table of a section and the one label that names a rate, say. Other tables are not read."""
    for lo, hi in sections(text):
        section = text[lo:hi]
        labels = [(tag, name, (lo + a, lo + b)) for tag, name, (a, b) in kpi_labels(section)]
        tables = year_tables(section)
        for t in tables:
            if t.unit not in UNIT_WORDS:
                continue
            same_unit = [x for x in tables if x.unit == t.unit]
            fitting = [lab for lab in labels if UNIT_WORDS[t.unit].search(lab[1])]
            if len(same_unit) != 1 or len(fitting) != 1:
                continue
            tag, name, span = fitting[0]
            for i, year in enumerate(t.years):
                for k, measure in ((2 * i, Measure.TARGET), (2 * i + 1, Measure.ACTUAL)):
                    s, e = t.cells[k]
                    cell = CELL.fullmatch(section, s, e) or CELL.match(section, s)
                    if cell and cell["v"]:
                        add(name, year, measure, cell["v"], cell["u"] or t.unit, lo + s, lo + e, tag, span)


def extract_facts(chunks: list[Chunk], doc_year: int | None = None) -> list[Fact]:
    """Facts of one document. Chunks of a page are read together, so a budget list
    cut across two chunks still keeps its year header; each fact is then pinned
    to the chunk that holds its value."""
    facts: list[Fact] = []
    pages: dict[int | None, list[Chunk]] = {}
    for c in chunks:
        pages.setdefault(c.page, []).append(c)
    for page_chunks in pages.values():
        facts += _page_facts(page_chunks, doc_year)
    return facts


def _page_facts(chunks: list[Chunk], doc_year: int | None) -> list[Fact]:
    # each chunk's own text once: the tail it repeats from the chunk before (`lead`) is left out
    joined = "\n".join(c.text[c.lead :] for c in chunks)
    bounds = []  # (where the chunk's text would start in joined, chunk)
    pos = 0
    for c in chunks:
        bounds.append((pos - c.lead, c))
        pos += len(c.text) - c.lead + 1
    nt = normalize_for_matching(joined)
    text = nt.text
    facts: list[Fact] = []

    def add(
        indicator: str,
        year: int,
        measure: Measure,
        value: str,
        unit: str,
        vs: int,
        ve: int,
        label: str | None,
        ind: tuple[int, int] | None = None,
    ) -> None:
        s, e = nt.span_in_original(vs, ve)
        base, chunk = next((b, c) for b, c in reversed(bounds) if b + c.lead <= s)
        e = min(e, base + len(chunk.text))
        original = None
        if ind is not None:
            i_s, i_e = nt.span_in_original(*ind)
            original = re.sub(r"\s*\n\s*", "", joined[i_s:i_e]).strip(" :：・、")
        facts.append(
            Fact(
                chunk.chunk_id,
                chunk.doc_id,
                indicator.strip(" :・、"),
                year,
                measure,
                value,
                unit,
                s - base,
                e - base,
                label,
                original,
            )
        )

    for m in _INLINE_TARGET.finditer(text):
        if _NOT_A_TARGET.search(m["ind"]) or _STARTING_POINT.match(text, m.end("u")):
            continue
        add(
            m["ind"],
            int(m["y"]),
            Measure.TARGET,
            m["v"],
            m["u"],
            m.start("v"),
            m.end("u"),
            re.sub(r"\s", "", m["label"]),
            m.span("ind"),
        )
    for m in _BY_YEAR.finditer(text):
        if _STARTING_POINT.match(text, m.end("u")):
            continue
        add(m["ind"], int(m["y"]), Measure.TARGET, m["v"], m["u"], m.start("v"), m.end("u"), None, m.span("ind"))
    for m in _BUDGET_THEN_NOW.finditer(text):
        name = _project_name(text, m.start())
        if name is None:
            continue
        for e, n, v in (("e1", "n1", "v1"), ("e2", "n2", "v2")):
            if m[v] == "一":  # "一千円": no budget that year
                continue
            add(
                name,
                era_to_western(m[e], int(m[n])),
                Measure.BUDGET,
                m[v],
                "千円",
                m.start(v),
                m.end(v) + 2 if text[m.end(v) : m.end(v) + 2] == "千円" else m.end(v),
                name,
            )
    _tab_tables(text, doc_year, add)
    _year_tables(text, add)
    headers = list(_BUDGET_HEADER.finditer(text))
    for i, h in enumerate(headers):
        year = era_to_western("令和", int(h["n"]))
        add("予算総額", year, Measure.BUDGET, h["v"], "千円", h.start("v"), h.end("v") + 2, "予算")
        section_end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
        # any other year named below (「令和5年度予算（案）」, 「令和3年度決算」) ends this year's list
        other = ERA_FISCAL_YEAR.search(text, h.end(), section_end)
        if other:
            section_end = text.rfind("\n", h.end(), other.start()) + 1 or other.start()
        for m in _BUDGET_LINE.finditer(text, h.end(), section_end):
            add(m["name"], year, Measure.BUDGET, m["v"], "千円", m.start("v"), m.end("v") + 2, m["name"], m.span("name"))
    return _dedupe(facts)


def _dedupe(facts: list[Fact]) -> list[Fact]:
    seen: set[tuple] = set()
    out = []
    for f in facts:
        k = (f.year, f.measure, f.value, f.start)
        if k not in seen:
            seen.add(k)
            out.append(f)
    return out

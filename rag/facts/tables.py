"""KPI tables laid out as a row of fiscal years, then 目標 / 実績, then one (target, actual)
pair of cells per year — the shape PDF extraction leaves them in:

    令和２年度 令和３年度 令和４年度
    目標
    実績
    －
    ８７％
    ９０％
    ９５％
    …

`year_tables` finds them in NFKC text with their spans. Facts are read from a table only
when its label is certain (rag.facts.extract); otherwise the reader shows the table block itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.lang.eras import ERA_YEAR_ROW, era_fiscal_years, era_western_label
from rag.lang.vocab import MEASURE_EN, MEASURE_JA, NUMBER, TABLE_UNITS, Measure

ROW_LABELS = re.compile(r"\s*目標\s*\n?\s*実績\s*\n")
CELL = re.compile(rf"(?P<v>{NUMBER})\s*(?P<u>{'|'.join(map(re.escape, TABLE_UNITS))})?(?:\(※\))?|[-－—―]")


@dataclass(frozen=True)
class YearTable:
    years: tuple[int, ...]
    targets: tuple[str, ...]  # one cell per year, "－" where empty
    actuals: tuple[str, ...]
    unit: str | None  # the one unit its cells share, if they share one
    start: int  # span in the text it was found in: from the year row to the last cell
    end: int
    cells: tuple[tuple[int, int], ...]  # (start, end) of each cell, target then actual per year

    def column(self, year: int) -> tuple[str, str] | None:
        if year not in self.years:
            return None
        i = self.years.index(year)
        return self.targets[i], self.actuals[i]

    def render(self, years: tuple[int, ...] = (), lang: str = "ja") -> str:
        """One line: each year (the asked ones, or all) with its target and actual."""
        wanted = [y for y in self.years if not years or y in years] or list(self.years)
        if lang == "en":
            target, actual = MEASURE_EN[Measure.TARGET], MEASURE_EN[Measure.ACTUAL]
            return " | ".join(f"FY{y}: {target} {self.column(y)[0]}, {actual} {self.column(y)[1]}" for y in wanted)
        target, actual = MEASURE_JA[Measure.TARGET], MEASURE_JA[Measure.ACTUAL]
        return " ｜ ".join(f"{era_western_label(y)} {target} {self.column(y)[0]} {actual} {self.column(y)[1]}" for y in wanted)


def year_tables(text: str) -> list[YearTable]:
    """Every year-row table in `text` (NFKC), in order."""
    out = []
    for m in ERA_YEAR_ROW.finditer(text):
        years = era_fiscal_years(m.group())
        head = ROW_LABELS.match(text, m.end() + 1) if m.end() < len(text) else None
        if not head:
            continue
        cells = []
        for c in CELL.finditer(text, head.end()):
            gap = text[cells[-1].end() if cells else head.end() : c.start()]
            if gap.strip():
                break
            cells.append(c)
            if len(cells) == 2 * len(years):
                break
        if len(cells) != 2 * len(years):
            continue
        units = {c["u"] for c in cells if c["v"] and c["u"]}
        values = [re.sub(r"\s", "", c.group()) for c in cells]
        out.append(
            YearTable(
                tuple(years),
                tuple(values[0::2]),
                tuple(values[1::2]),
                units.pop() if len(units) == 1 else None,
                m.start(),
                cells[-1].end(),
                tuple(c.span() for c in cells),
            )
        )
    return out

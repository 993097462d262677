"""Japanese era years <-> Western years.

令和N年(度) = 2018+N, 平成N = 1988+N, 昭和N = 1925+N; 元年 is year 1. Tables abbreviate
them as R4 / H30, and often write a bare "３年度" after a first "令和元年度".
All functions take NFKC-normalised text (half-width digits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ERA_BASE = {"令和": 2018, "平成": 1988, "昭和": 1925}
ERA_LETTER = {"R": "令和", "H": "平成", "S": "昭和"}
_KANJI_DIGITS = {"元": 1, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}

# 令和4年, and 令和3(2021)年 / 令和3（2021）年度: the Western year in brackets before 年 is the same year
_ERA = re.compile(
    r"(令和|平成|昭和)\s*(元|[0-9]{1,2}|[一二三四五六七八九十]{1,3})\s*(?=(?:[(（]\s*(?:19|20)[0-9]{2}\s*[)）]\s*)?年)"
)
_LETTER = re.compile(r"(?<![A-Za-z0-9])([RHS])\s?([0-9]{1,2})(?![0-9A-Za-z])")
_WESTERN = re.compile(r"(?<![0-9])(?:FY\s?|fy\s?)?((?:19[89]|20[0-9])[0-9])(?![0-9])(?=\s*(?:年|[(（]|FY|fy|\s|$|[,、.]))")
_FY_WESTERN = re.compile(r"(?i)(?<![0-9a-z])fy\s?((?:19[89]|20[0-9])[0-9])(?![0-9])")
_BARE = re.compile(r"(?<![0-9令和成昭RHS'’‘])([0-9]{1,2})\s*年度")
# a Western year cut to two digits: '21年度, ’21, FY21 (2000s: plans are not older)
_SHORT_WESTERN = re.compile(r"(?i)(?:(?<![0-9a-z])fy\s?['’‘]?|(?<![0-9A-Za-z])['’‘])([0-9]{2})(?![0-9])")


def _kanji_number(s: str) -> int:
    if s.isdigit():
        return int(s)
    if s == "元":
        return 1
    total, current = 0, 0
    for ch in s:
        v = _KANJI_DIGITS[ch]
        if v == 10:
            total += (current or 1) * 10
            current = 0
        else:
            current = v
    return total + current


def era_to_western(era: str, n: int) -> int:
    era = ERA_LETTER.get(era, era)
    return ERA_BASE[era] + n


def western_to_era(year: int) -> tuple[str, int]:
    if year >= 2019:
        return "令和", year - 2018
    if year >= 1989:
        return "平成", year - 1988
    return "昭和", year - 1925


def era_label(year: int) -> str:
    era, n = western_to_era(year)
    return f"{era}{'元' if n == 1 else n}年度"


def era_western_label(year: int) -> str:
    """2022 -> "令和4(2022)年度"."""
    era, n = western_to_era(year)
    return f"{era}{'元' if n == 1 else n}({year})年度"


_FISCAL_AFTER = re.compile(r"\s*(?:[(（][^)）\n]{1,8}[)）])?\s*年度")
_CALENDAR_AFTER = re.compile(r"\s*(?:[(（][^)）\n]{1,8}[)）])?\s*年(?!度)")
_FISCAL_WORDS = re.compile(r"(?i)(?:fiscal(?: year)?|fy|年度)\s*$")
# a Western year, then within a few characters a bare year that continues it
_WESTERN_RANGE = re.compile(
    r"^((?:19|20)[0-9]{2})\s*(?:[(（][^)）\n]{1,8}[)）])?\s*年度?\s*(?:から|~|〜|～|-|－|と|及び|および|、|・)\s*$"
)


@dataclass(frozen=True)
class YearMention:
    year: int  # Western
    fiscal: bool | None  # True: 年度 / FY / R4; False: a calendar year (2020年, 令和2年); None: a bare year
    start: int


# full-width ASCII (２０２２, （, Ｒ) as half-width, one character for one: positions stay those of the text given
_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def year_mentions(text: str) -> list[YearMention]:
    """Every year `text` mentions, with whether it is a fiscal year, in order of position. Full-width
    digits are read too, so a passage's original text (令和３年度) can be given as it is."""
    text = text.translate(_HALF_WIDTH)
    out: list[YearMention] = []
    for m in _ERA.finditer(text):
        fiscal = bool(_FISCAL_AFTER.match(text, m.end()))
        out.append(YearMention(era_to_western(m.group(1), _kanji_number(m.group(2))), fiscal, m.start()))
    for m in _LETTER.finditer(text):
        out.append(YearMention(era_to_western(m.group(1), int(m.group(2))), True, m.start()))
    for m in _WESTERN.finditer(text):
        fy = bool(_FISCAL_WORDS.search(text[max(0, m.start() - 12) : m.start()])) or m.group(0).lower().startswith("fy")
        if fy or _FISCAL_AFTER.match(text, m.end()):
            fiscal: bool | None = True
        elif _CALENDAR_AFTER.match(text, m.end()):
            fiscal = False
        else:
            fiscal = None
        out.append(YearMention(int(m.group(1)), fiscal, m.start()))
    for m in _FY_WESTERN.finditer(text):
        if not any(x.start <= m.start() + 3 and x.year == int(m.group(1)) for x in out):
            out.append(YearMention(int(m.group(1)), True, m.start()))
    for m in _SHORT_WESTERN.finditer(text):
        fiscal = m.group(0).lower().startswith("fy") or bool(_FISCAL_AFTER.match(text, m.end()))
        out.append(YearMention(2000 + int(m.group(1)), True if fiscal else None, m.start()))
    eras_before = sorted(
        [(m.start(), m.group(1)) for m in _ERA.finditer(text)]
        + [(m.start(), ERA_LETTER[m.group(1)]) for m in _LETTER.finditer(text)]
    )
    for m in _BARE.finditer(text):
        n = int(m.group(1))
        before = [x for x in out if x.start < m.start()]
        last = max(before, key=lambda x: x.start) if before else None
        western = _WESTERN_RANGE.search(text[last.start : m.start()]) if last else None
        if western and int(western.group(1)) % 100 <= n:
            # "2021年度から25年度まで", "2022年度と23年度": the bare year shortens the Western one before it
            year = int(western.group(1)) // 100 * 100 + n
        else:
            # "３年度" in a table header inherits the era named before it; with none, see bare_fiscal_year
            era = next((name for pos, name in reversed(eras_before) if pos < m.start()), None)
            year = carried_year(era, n, last.year if last else None)[0]
        out.append(YearMention(year, True, m.start()))
    return sorted(out, key=lambda x: x.start)


def years_in(text: str) -> list[int]:
    """All years mentioned in `text`, era or Western, as Western years, in order of first mention."""
    return list(dict.fromkeys(m.year for m in year_mentions(text)))


def year_token(year: int) -> str:
    """The shared token that era and Western mentions of a year both map to."""
    return f"fy{year}"


def expand_years(text: str) -> str:
    """Append every other spelling of the years a text mentions, so a query in
    one form matches passages in the other (for the dense side)."""
    years = years_in(text)
    if not years:
        return text
    extra = " ".join(f"{y}年度 {era_label(y)} {ERA_LETTER_REV[western_to_era(y)[0]]}{western_to_era(y)[1]}" for y in years)
    return f"{text} ({extra})"


ERA_LETTER_REV = {v: k for k, v in ERA_LETTER.items()}


def era_year_spans(text: str) -> list[tuple[int, int, int]]:
    """Where `text` names a year by its era (令和4年, 平成三十年, R4), with the Western year: (start, end, year)."""
    out = [(m.start(), m.end(), era_to_western(m.group(1), _kanji_number(m.group(2)))) for m in _ERA.finditer(text)]
    out += [(m.start(), m.end(), era_to_western(ERA_LETTER[m.group(1)], int(m.group(2)))) for m in _LETTER.finditer(text)]
    return sorted(out)


# ---- years as tables write them (NFKC text) ---------------------------------------------------
# one era fiscal year, the era often left to the row: 令和4年度, 平成30年度, ４年度; groups (era, number)
ERA_FISCAL_YEAR = re.compile(r"(令和|平成)?\s*(元|[0-9]{1,2})\s*年度")
# a row of three or more era fiscal years: the header of a year table
ERA_YEAR_ROW = re.compile(r"^[ \t]*(?:(?:令和|平成)\s*(?:元|[0-9]{1,2})\s*年度[ \t]*){3,}$", re.M)
# a cell that is one fiscal year and nothing else: 令和4年度, 4年度, R4年度, R4
_YEAR_CELL = re.compile(r"^(?:(令和|平成)\s*)?(元|[0-9]{1,2})\s*年度$|^([RH])\s*([0-9]{1,2})\s*年度?$")
# any year a table's header may name: an era fiscal year, 2022年度, R4
_YEAR_IN_HEADER = re.compile(r"(令和|平成)?\s*(元|[0-9]{1,2})\s*年度|20[0-9]{2}\s*年度|\b[RH][0-9]{1,2}\b")


def era_fiscal_years(text: str, era: str | None = None) -> list[int]:
    """The Western years of the era fiscal years in `text`, in order; a bare "4年度" carries the
    era before it (see carried_year), `era` or, with none, as bare_fiscal_year reads it."""
    years: list[int] = []
    for e, n in ERA_FISCAL_YEAR.findall(text):
        year, era = carried_year(e or era, 1 if n == "元" else int(n), years[-1] if years else None, bool(e))
        years.append(year)
    return years


def year_of_cell(cell: str, era: str | None = None, after: int | None = None) -> tuple[int, str] | None:
    """(Western year, era) when the table cell is a fiscal year; a bare "4年度" is read in `era`,
    the era of the cells before it (`after` the year of the cell before: see carried_year), or with
    none as bare_fiscal_year reads it."""
    m = _YEAR_CELL.match(cell.strip())
    if not m:
        return None
    if m.group(3):
        return _in_era(ERA_LETTER[m.group(3)], int(m.group(4)))
    return carried_year(m.group(1) or era, 1 if m.group(2) == "元" else int(m.group(2)), after, bool(m.group(1)))


def carried_year(era: str | None, n: int, after: int | None = None, written: bool = False) -> tuple[int, str]:
    """(Western year, era) of a year number read in the era before it. A bare year that would go
    back before the year written just before it, in 平成, has crossed into 令和: 「平成30年度 元年度
    2年度」 are 2018, 2019, 2020 (a number too high for 令和 yet, like 25, stays in 平成: it looks
    back); and a bare 「30年度」 after 令和 years is 平成30. An era written with the number
    (`written`) is taken as it is."""
    if written:
        return _in_era(era, n)
    if era == "令和" and n > 20:
        era = None  # 令和 has not reached 20: a bare 「30年度」 after 令和 years looks back (bare_fiscal_year)
    year, era = _in_era(era, n)
    if era == "平成" and after is not None and year < after and n <= _REIWA_REACH:
        return _in_era("令和", n)
    return year, era


def is_year_header(line: str) -> bool:
    """The line names two or more years and is not a sentence (cells apart by tabs, or no 、。):
    a table's header row, never prose to rejoin or split."""
    if len(_YEAR_IN_HEADER.findall(line)) < 2:
        return False
    return "\t" in line or not re.search("[、。]", line)


def bare_fiscal_year(n: int) -> int:
    """A "30年度" without its era, in a plan of these decades: above 20 it is 平成 (2009–2019),
    else 令和 (令和 has not reached 20)."""
    return _in_era(None, n)[0]


_REIWA_REACH = 15  # the highest 令和 year a plan of these years names (令和15 = 2033)


def _in_era(era: str | None, n: int) -> tuple[int, str]:
    era = era or ("平成" if n > 20 else "令和")
    return era_to_western(era, n), era

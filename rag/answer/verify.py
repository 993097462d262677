"""Checks a generated answer against the passages it cites, before anything is shown.

A sentence is kept only when it carries at least one valid [n] and every figure in it (numbers,
amounts, percentages, dates and years) appears in a passage it cites. Figures are compared after
NFKC (full-width digits), with thousands separators dropped, and with era years (令和4年, R4, H30)
read as Western years on both sides, so "FY2022" in a sentence matches "令和4年度" in a passage.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rag.lang.eras import era_year_spans

_MARKER = re.compile(r"\[(\d{1,3})\]")
_MARKERS = re.compile(r"(?:\s*\[\d{1,3}\])+")
# a sentence ends at 。！？ (or . ! ? before a space or the end), and keeps the [n] that follow it
_SENTENCE = re.compile(r".+?(?:[。！？]|[.!?](?=\s|$|\[)|\n|$)(?:\s*\[\d{1,3}\])*", re.S)
_NUMBER = re.compile(r"(?<![0-9.])[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?")


@dataclass(frozen=True)
class Checked:
    """One sentence of the generated text and what the check found."""

    text: str  # as generated, markers included
    citations: tuple[int, ...]
    ok: bool
    reason: str = ""  # why it was dropped: no citation, unknown citation, or the figure not found


def split_sentences(text: str) -> list[str]:
    out = []
    for m in _SENTENCE.finditer(text.strip()):
        s = m.group(0).strip()
        if s and not _MARKERS.fullmatch(s):
            out.append(s)
        elif s and out:
            out[-1] += s  # markers on a line of their own belong to the sentence before
    return out


def _number(raw: str) -> str:
    n = raw.replace(",", "")
    if "." in n:
        n = n.rstrip("0").rstrip(".")
    return n.lstrip("0") or "0"


def figures(text: str) -> set[str]:
    """The figures a text states, canonical: numbers without separators, era years as Western years."""
    t = unicodedata.normalize("NFKC", _MARKER.sub(" ", text))
    eras = era_year_spans(t)
    found = {str(year) for _, _, year in eras}
    spans = [(a, b) for a, b, _ in eras]
    for m in _NUMBER.finditer(t):
        if any(a <= m.start() < b for a, b in spans):
            continue  # the era year's digits, already read as a Western year
        found.add(_number(m.group(0)))
    return found


def passage_figures(text: str) -> set[str]:
    """What a passage can vouch for: its figures, and also each era year's own digits."""
    t = unicodedata.normalize("NFKC", text)
    return figures(t) | {_number(m.group(0)) for m in _NUMBER.finditer(t)}


def check_sentence(sentence: str, passages: dict[int, str]) -> Checked:
    cited = tuple(dict.fromkeys(int(n) for n in _MARKER.findall(sentence)))
    if not cited:
        return Checked(sentence, cited, False, "no citation")
    unknown = [n for n in cited if n not in passages]
    if unknown:
        return Checked(sentence, cited, False, f"cites [{unknown[0]}], which is not one of the passages")
    vouched: set[str] = set()
    for n in cited:
        vouched |= passage_figures(passages[n])
    missing = sorted(figures(sentence) - vouched)
    if missing:
        return Checked(sentence, cited, False, f"{missing[0]} is not in the cited passage{'s' if len(cited) > 1 else ''}")
    return Checked(sentence, cited, True)


def check_answer(text: str, passages: dict[int, str]) -> list[Checked]:
    """Every sentence of `text`, checked against the numbered passages."""
    return [check_sentence(s, passages) for s in split_sentences(text)]

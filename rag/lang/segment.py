"""Sentences of a passage: the units the reader scores, quotes and highlights.

PDF text comes as lines; a sentence often runs over several of them and a slide's
bullet is one line without a full stop. Lines are joined into one unit until a
sentence ends, a new item starts (・, ①, (1), 1.), a table row (tab-separated cells)
begins or ends, or a blank line comes; units are then cut at every 。 inside them.
Spans always point into the passage's original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.lang.normalize import normalize_for_matching

MAX_UNIT_CHARS = 240
_ENDS = tuple("。！？!?")
_ITEM = re.compile(
    r"^\s*(?:[・•●○◆◇■□▪▶►➡→⇒※✓✔☆★\-－]|[①-⑳⑴-⒇❶-❿]|\(?[0-9]{1,2}[)）.．、]\s*|[0-9]{1,2}\s+(?=[^\s0-9])|[（(][0-9一二三四五六七八九十]{1,3}[)）]|[ア-ン][.．、)）]|[a-zA-Z][.)）]\s|第[0-9一二三四五六七八九十]+[条章節項]|【|〔|\[|Q[0-9]*[.:：\s]|A[0-9]*[.:：\s]|問[0-9]*|答)"
)
_INNER_END = re.compile(r"(?<=[。！？])(?![」』）)])")


@dataclass(frozen=True)
class Unit:
    start: int  # span in the passage's original text
    end: int
    text: str  # normalised text (NFKC, wrapped lines joined) used for matching and embedding


def _segments(text: str) -> list[tuple[int, int]]:
    """Spans of the normalised text: lines joined until a sentence or an item ends."""
    spans: list[tuple[int, int]] = []
    pos = 0
    cur: tuple[int, int] | None = None
    prev_line = ""
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        body = line.strip()
        if not body:
            if cur:
                spans.append(cur)
            cur = None
            prev_line = ""
            continue
        new = (
            cur is None
            or prev_line.rstrip().endswith(_ENDS)
            or "\t" in line
            or "\t" in prev_line
            or bool(_ITEM.match(line))
            or len(prev_line.strip()) <= 2  # a lone mark or number is a label, not half a sentence
        )
        if new:
            if cur:
                spans.append(cur)
            cur = (start, end)
        else:
            cur = (cur[0], end)
        prev_line = line
    if cur:
        spans.append(cur)
    return spans


def _cut(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut a segment at sentence ends inside it, and long pieces at commas or hard."""
    out: list[tuple[int, int]] = []
    cur = start
    for m in _INNER_END.finditer(text, start, end):
        if m.start() > cur and m.start() < end:
            out.append((cur, m.start()))
            cur = m.start()
    out.append((cur, end))
    pieces: list[tuple[int, int]] = []
    for s, e in out:
        while e - s > MAX_UNIT_CHARS:
            comma = text.rfind("、", s + MAX_UNIT_CHARS // 2, s + MAX_UNIT_CHARS)
            cut = comma + 1 if comma > 0 else s + MAX_UNIT_CHARS
            pieces.append((s, cut))
            s = cut
        pieces.append((s, e))
    return pieces


def split_units(original: str) -> list[Unit]:
    nt = normalize_for_matching(original)
    text = nt.text
    units: list[Unit] = []
    for seg_start, seg_end in _segments(text):
        for s, e in _cut(text, seg_start, seg_end):
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e <= s:
                continue
            o_s, o_e = nt.span_in_original(s, e)
            units.append(Unit(o_s, o_e, re.sub(r"\s*\n\s*", _join, text[s:e])))
    return units


def _join(m: re.Match[str]) -> str:
    """A line break inside a unit: nothing between Japanese characters, a space otherwise."""
    text = m.string
    before = text[m.start() - 1] if m.start() else " "
    after = text[m.end()] if m.end() < len(text) else " "
    return "" if (ord(before) > 0x2E7F and ord(after) > 0x2E7F) else " "

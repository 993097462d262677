"""Normalisation for matching, with offsets back to the original text.

Users always see the original; matching runs on `NormText.text`, and
`NormText.offsets[i]` is the index in the original of normalised character i.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rag.lang.eras import is_year_header

_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005\u30fc"
_SPACED_CJK = re.compile(rf"(?:[{_CJK}] ){{3,}}[{_CJK}]")
_JA_CHAR = re.compile(rf"[{_CJK}、「」]")
_ENDS_WITH_VALUE = re.compile(r"[0-9][^\s0-9]{0,2}$")
_SENTENCE_END = set("。．.！!？?」』）)：:")
# Lines that start like a new item, not a continuation of a wrapped sentence.
_ITEM_START = re.compile(
    r"^\s*(?:[・•●○◆◇■□※\-－ー①-⑳]|\(?[0-9０-９]+[)）.．]|[（(][0-9０-９一二三四五六七八九十]+[)）]|[ア-ン][ 　])"
)


@dataclass(frozen=True)
class NormText:
    text: str
    offsets: tuple[int, ...]

    def span_in_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the normalised text back to the original."""
        if start >= end or not self.offsets:
            o = self.offsets[start] if start < len(self.offsets) else (self.offsets[-1] + 1 if self.offsets else 0)
            return o, o
        return self.offsets[start], self.offsets[end - 1] + 1


def _clusters(text: str):
    """Yield (index, cluster) where a cluster is a base char plus combining marks."""
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and (unicodedata.combining(text[j]) or text[j] in "\uff9e\uff9f\u3099\u309a"):
            j += 1
        yield i, text[i:j]
        i = j


def nfkc(text: str) -> NormText:
    """NFKC (Kangxi radicals and compatibility ideographs included), offset-tracked."""
    out: list[str] = []
    offs: list[int] = []
    for i, cluster in _clusters(text):
        norm = unicodedata.normalize("NFKC", cluster)
        out.append(norm)
        offs.extend([i] * len(norm))
    return NormText("".join(out), tuple(offs))


def _drop(nt: NormText, positions: set[int]) -> NormText:
    if not positions:
        return nt
    chars = [c for k, c in enumerate(nt.text) if k not in positions]
    offs = [o for k, o in enumerate(nt.offsets) if k not in positions]
    return NormText("".join(chars), tuple(offs))


def join_spaced_letters(nt: NormText) -> NormText:
    """'電 子 決 裁' (letter-spaced PDF text) -> '電子決裁'."""
    drop: set[int] = set()
    for m in _SPACED_CJK.finditer(nt.text):
        drop.update(m.start() + k for k, c in enumerate(m.group()) if c == " ")
    return _drop(nt, drop)


def _wrap_width(lines: list[str]) -> int:
    lengths = sorted(len(line.strip()) for line in lines if line.strip())
    if not lengths:
        return 0
    return lengths[int(len(lengths) * 0.9) - 1 if len(lengths) > 1 else 0]


def repair_line_breaks(nt: NormText) -> NormText:
    """Join lines that a PDF wrapped in the middle of a Japanese sentence.

    A break is joined when the line before is close to the page's typical full
    line width, does not end a sentence, and the next line does not start a new
    item. Short lines (table cells, headings) keep their breaks.
    """
    text = nt.text
    lines = text.split("\n")
    width = _wrap_width(lines)
    if width < 15:
        return nt
    threshold = max(15, int(width * 0.75))
    drop: set[int] = set()
    pos = 0
    starts = []
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    k = 0
    while k < len(lines) - 1:
        cur = lines[k].rstrip()
        nxt_k = k + 1
        # allow a single blank line between the halves of a wrapped sentence
        if not lines[nxt_k].strip() and nxt_k + 1 < len(lines):
            nxt_k += 1
        nxt = lines[nxt_k].lstrip()
        blank_between = nxt_k > k + 1
        body = cur.strip()
        if (
            len(body) >= (width * 0.9 if blank_between else threshold)
            and not re.search(r"\S\s+\S", body)  # spaced columns are layout, not wrapped prose
            and not _ENDS_WITH_VALUE.search(body)
            and not is_year_header(body)
            and cur
            and cur[-1] not in _SENTENCE_END
            and _JA_CHAR.match(cur[-1])
            and nxt
            and _JA_CHAR.match(nxt[0])
            and not _ITEM_START.match(lines[nxt_k])
        ):
            # drop the trailing spaces of this line, the newline(s), and leading spaces of the next
            line_end = starts[k] + len(cur)
            next_text_start = starts[nxt_k] + (len(lines[nxt_k]) - len(nxt))
            drop.update(range(line_end, next_text_start))
            k = nxt_k
            continue
        k += 1
    return _drop(nt, drop)


def collapse_spaces(nt: NormText) -> NormText:
    """Runs of spaces become one; tabs are kept, since they separate table cells."""
    drop: set[int] = set()
    prev_space = True
    for k, c in enumerate(nt.text):
        if c == " ":
            if prev_space:
                drop.add(k)
            prev_space = True
        else:
            prev_space = c in "\n\t"
    return _drop(nt, drop)


def normalize_for_matching(text: str) -> NormText:
    """The full matching pipeline: NFKC, letter-spacing, wrapped lines, extra spaces."""
    nt = nfkc(text)
    nt = join_spaced_letters(nt)
    nt = collapse_spaces(nt)
    nt = repair_line_breaks(nt)
    return nt


def match_key(text: str) -> str:
    """A compact key for substring tests: NFKC, lower case, no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()

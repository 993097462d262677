"""Split a Document into Chunks that follow sentence and table boundaries.

A page's text is normalised (see `normalize`), cut into blocks at blank lines,
and blocks are packed into chunks of about `max_chars`. A table (a line of
fiscal years followed by short cells) is never cut away from its year header.
Every chunk keeps its character span in the page's original text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from rag.lang.eras import is_year_header, years_in
from rag.lang.normalize import NormText, normalize_for_matching
from rag.types import Chunk, Document

_BLANK = re.compile(r"\n[ \t]*\n+")
_SENTENCE = re.compile(r"(?<=[。！？!?])|\n")
_HEADING = re.compile(
    r"^\s*(?:【[^】]{1,40}】|第[0-9一二三四五六七八九十]+[章節部]\s*\S.*|[0-9]{1,2}(?:[.．][0-9]{1,2})*\s+\S.{0,30}"
    r"|[(（][0-9]{1,2}[)）]\s*\S.{0,30}|[ア-ン]\s+\S.{0,30}|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ].{0,40}|.{2,30}[（(][0-9]{1,2}[)）])\s*$"
)


@dataclass(frozen=True)
class ChunkSettings:
    max_chars: int = 400
    min_chars: int = 80
    table_max_chars: int = 1200
    # a prose chunk starts with the last sentences of the prose before it (up to this many
    # characters), so a statement cut by a chunk boundary is still whole in one passage
    overlap_chars: int = 0

    def __post_init__(self) -> None:
        if self.max_chars < 50:
            raise ValueError(f"max_chars must be at least 50, got {self.max_chars}")
        if not 0 <= self.min_chars < self.max_chars:
            raise ValueError("min_chars must be between 0 and max_chars")
        if self.table_max_chars < self.max_chars:
            raise ValueError("table_max_chars must be at least max_chars")
        if not 0 <= self.overlap_chars < self.max_chars:
            raise ValueError("overlap_chars must be between 0 and max_chars")


@dataclass(frozen=True)
class _Block:
    start: int  # span in the normalised text
    end: int
    kind: str  # "prose" | "table" | "heading"


def _is_cell_line(line: str) -> bool:
    s = line.strip()
    return 0 < len(s) <= 24 and not s.endswith("。")


def _is_heading(text: str) -> bool:
    s = text.strip()
    return "\n" not in s and 2 <= len(s) <= 40 and not s.endswith("。") and bool(_HEADING.match(s))


def _blocks(text: str) -> list[_Block]:
    raw: list[tuple[int, int]] = []
    pos = 0
    for m in _BLANK.finditer(text):
        raw.append((pos, m.start()))
        pos = m.end()
    raw.append((pos, len(text)))
    blocks: list[_Block] = []
    in_table = False
    for start, end in raw:
        body = text[start:end]
        if not body.strip():
            continue
        lines = [ln for ln in body.split("\n") if ln.strip()]
        if any(is_year_header(ln) for ln in lines):
            in_table = True
            blocks.append(_Block(start, end, "table"))
        elif in_table and all(_is_cell_line(ln) for ln in lines):
            blocks.append(_Block(start, end, "table"))
        elif _is_heading(body):
            in_table = False
            blocks.append(_Block(start, end, "heading"))
        else:
            in_table = False
            blocks.append(_Block(start, end, "prose"))
    return blocks


def _split_long(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Cut a long prose span at sentence ends (or line ends), then hard at `limit`."""
    pieces: list[tuple[int, int]] = []
    cur = start
    for m in _SENTENCE.finditer(text, start, end):
        cut = m.end() if m.group() == "" else m.start() + 1
        if (cut - cur >= limit and cut > cur) or (cut - cur > 0 and m.end() - cur >= limit):
            pieces.append((cur, cut))
            cur = cut
    pieces.append((cur, end))
    out: list[tuple[int, int]] = []
    for s, e in pieces:
        while e - s > limit * 1.5:
            out.append((s, s + limit))
            s += limit
        if e > s:
            out.append((s, e))
    # merge sentence pieces up to the limit
    merged: list[tuple[int, int]] = []
    for s, e in out:
        if merged and e - merged[-1][0] <= limit:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def _groups(text: str, blocks: list[_Block], settings: ChunkSettings) -> list[tuple[int, int, str]]:
    """Merge blocks into (start, end, kind) groups: whole tables, and prose split to size."""
    groups: list[tuple[int, int, str]] = []
    for b in blocks:
        if b.kind == "table" and groups and groups[-1][2] == "table" and b.end - groups[-1][0] <= settings.table_max_chars:
            groups[-1] = (groups[-1][0], b.end, "table")
        elif b.kind == "prose" and b.end - b.start > settings.max_chars:
            groups.extend((s, e, "prose") for s, e in _split_long(text, b.start, b.end, settings.max_chars))
        else:
            groups.append((b.start, b.end, b.kind))
    return groups


def _pack(groups: list[tuple[int, int, str]], settings: ChunkSettings) -> list[tuple[int, int, bool]]:
    """(start, end, holds a table) of each chunk."""
    spans: list[tuple[int, int, bool]] = []
    table = False
    cur: tuple[int, int] | None = None
    cur_ends_heading = False
    for start, end, kind in groups:
        if cur is None:
            cur = (start, end)
            table = kind == "table"
        else:
            size = end - cur[0]
            limit = settings.table_max_chars if kind == "table" else settings.max_chars
            # a heading always travels with what follows it; small pieces are merged
            if cur_ends_heading or (size <= limit and (cur[1] - cur[0] < settings.min_chars or size <= settings.max_chars)):
                cur = (cur[0], end)
                table = table or kind == "table"
            else:
                spans.append((*cur, table))
                cur = (start, end)
                table = kind == "table"
        cur_ends_heading = kind == "heading"
    if cur is not None:
        spans.append((*cur, table))
    return spans


def _overlap_start(text: str, prev: tuple[int, int], limit: int) -> int | None:
    """Where the carried-over tail of the previous chunk begins: the earliest sentence start
    within `limit` characters of its end (None when even its last sentence is longer)."""
    p_start, p_end = prev
    for m in _SENTENCE.finditer(text, p_start, p_end):
        cut = m.end() if m.group() == "" else m.start() + 1
        if p_start < cut < p_end and p_end - cut <= limit and text[cut:p_end].strip():
            return cut
    return None


def _headings(nt: NormText, original: str, blocks: list[_Block]) -> list[tuple[int, str]]:
    """(position in normalised text, heading as written in the original)."""
    out = []
    for b in blocks:
        if b.kind == "heading":
            s, e = nt.span_in_original(b.start, b.end)
            out.append((b.start, original[s:e].strip()))
    return out


def chunk_document(doc: Document, settings: ChunkSettings | None = None) -> list[Chunk]:
    settings = settings or ChunkSettings()
    chunks: list[Chunk] = []
    doc_key = hashlib.sha1(doc.doc_id.encode()).hexdigest()[:10]
    last_heading: str | None = None
    for page in doc.pages:
        nt: NormText = normalize_for_matching(page.text)
        text = nt.text
        blocks = _blocks(text)
        headings = _headings(nt, page.text, blocks)
        prev: tuple[int, int, bool] | None = None
        for start, end, table in _pack(_groups(text, blocks, settings), settings):
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if end <= start:
                continue
            for pos, h in headings:
                if pos <= start:
                    last_heading = h
            own = start
            if settings.overlap_chars and prev is not None and not table and not prev[2]:
                carried = _overlap_start(text, prev[:2], settings.overlap_chars)
                if carried is not None:
                    start = carried
                    while text[start].isspace():
                        start += 1
            prev = (own, end, table)
            o_start, o_end = nt.span_in_original(start, end)
            lead = nt.span_in_original(own, end)[0] - o_start
            search = text[start:end]
            chunks.append(
                Chunk(
                    chunk_id=f"{doc_key}-{page.number or 0}-{len(chunks)}",
                    doc_id=doc.doc_id,
                    page=page.number,
                    start=o_start,
                    end=o_end,
                    text=page.text[o_start:o_end],
                    search_text=search,
                    heading=last_heading,
                    years=tuple(years_in(search)),
                    lead=lead,
                    ocr=page.ocr,
                )
            )
    return chunks

"""What the answerer may read besides its hits: documents by id, chunks by id, the facts
read at index time (keyed by measure and year, with their words), and how common a word
is in the indexed passages. Read-only; built once per loaded index."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Protocol

import numpy as np

from rag.lang.segment import Unit, split_units
from rag.lang.tokenize import tokenize
from rag.types import Chunk, DocRecord, Fact


class Indexed(Protocol):
    """What a catalog is built from: `rag.index.store.Index` has these (the answerer never imports it)."""

    documents: Mapping[str, DocRecord]
    chunks: list[Chunk]
    facts: list[Fact]
    bm25: Any  # has .scores (bm25s's CSC arrays) and .vocab_dict
    units: np.ndarray | None
    unit_vectors: np.ndarray | None


@dataclass(frozen=True)
class Catalog:
    documents: Mapping[str, DocRecord]
    chunks_by_id: Mapping[str, Chunk]
    facts: tuple[Fact, ...]
    token_df: Mapping[str, int]  # passages holding each BM25 token
    n_chunks: int
    _facts_by_key: dict = field(default_factory=dict, repr=False)
    _order: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)  # doc -> its chunk ids in order
    _unit_rows: Mapping[str, tuple[int, int]] = field(default_factory=dict, repr=False)
    _unit_spans: np.ndarray | None = field(default=None, repr=False)
    _unit_vectors: np.ndarray | None = field(default=None, repr=False)
    _fact_years: Mapping[tuple[str | None, str | None], frozenset[int]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, index: Indexed) -> Catalog:
        df: dict[str, int] = {}
        bm25 = index.bm25
        if bm25 is not None:
            indptr = np.asarray(bm25.scores["indptr"])
            counts = np.diff(indptr)
            df = {tok: int(counts[i]) for tok, i in bm25.vocab_dict.items() if i < len(counts)}
        by_key: dict[tuple[str, int], list[Fact]] = {}
        for f in index.facts:
            by_key.setdefault((f.measure, f.year), []).append(f)
        rows: dict[str, tuple[int, int]] = {}
        if index.units is not None and len(index.units):
            chunk_rows = np.asarray(index.units[:, 0])
            starts = np.searchsorted(chunk_rows, np.arange(len(index.chunks)), side="left")
            ends = np.searchsorted(chunk_rows, np.arange(len(index.chunks)), side="right")
            rows = {c.chunk_id: (int(a), int(b)) for c, a, b in zip(index.chunks, starts, ends, strict=True) if b > a}
        order: dict[str, list[str]] = {}
        for c in index.chunks:
            order.setdefault(c.doc_id, []).append(c.chunk_id)
        # the years facts are stated for: by document, by prefecture, and in all (None: any)
        years: dict[tuple[str | None, str | None], set[int]] = {}
        for f in index.facts:
            pref = index.documents[f.doc_id].prefecture if f.doc_id in index.documents else None
            for key in ((None, None), (f.doc_id, None), (None, pref), (f.doc_id, pref)):
                years.setdefault(key, set()).add(f.year)
        return cls(
            documents=index.documents,
            _order={d: tuple(ids) for d, ids in order.items()},
            chunks_by_id={c.chunk_id: c for c in index.chunks},
            facts=tuple(index.facts),
            token_df=df,
            n_chunks=len(index.chunks),
            _facts_by_key=by_key,
            _unit_rows=rows,
            _unit_spans=index.units,
            _unit_vectors=index.unit_vectors,
            _fact_years={k: frozenset(v) for k, v in years.items()},
        )

    @cached_property
    def prefectures(self) -> list[str]:
        return sorted({d.prefecture for d in self.documents.values() if d.prefecture})

    def fact_years(self, doc_id: str | None = None, prefecture: str | None = None) -> frozenset[int]:
        """The years the facts of a document, of a prefecture's documents, or of all state."""
        return self._fact_years.get((doc_id, prefecture), frozenset())

    def chunk(self, chunk_id: str) -> Chunk:
        return self.chunks_by_id[chunk_id]

    def facts_for(self, measure: str, year: int | None = None) -> list[Fact]:
        if year is not None:
            return list(self._facts_by_key.get((measure, year), ()))
        return [f for f in self.facts if f.measure == measure]

    def find(self, pattern: re.Pattern[str], limit: int = 3, holding: re.Pattern[str] | None = None) -> list[Chunk]:
        """Passages whose matching text `pattern` finds (a term's definition, say), in index order;
        `holding`, a quick pattern every match must contain (the term itself), spares the slow one
        most passages (a definition pattern took 0.2 ms a passage: 2 s over 10k)."""
        out = []
        for c in self.chunks_by_id.values():
            if (holding is None or holding.search(c.search_text)) and pattern.search(c.search_text):
                out.append(c)
                if len(out) >= limit:
                    break
        return out

    def neighbours(self, chunk_id: str, n: int = 2) -> list[Chunk]:
        """The passage and the `n` before and after it in its document, in order."""
        chunk = self.chunk(chunk_id)
        ids = self._order.get(chunk.doc_id, (chunk_id,))
        i = ids.index(chunk_id)
        return [self.chunk(c) for c in ids[max(0, i - n) : i + n + 1]]

    def sentence_vectors(self, chunk_id: str) -> np.ndarray | None:
        """The vectors of a passage's sentences, in the order of `units_of(chunk.text)`; None
        when the index has none for it."""
        if self._unit_vectors is None or chunk_id not in self._unit_rows:
            return None
        lo, hi = self._unit_rows[chunk_id]
        units = units_of(self.chunk(chunk_id).text)
        stored = self._unit_spans[lo:hi, 1:] if self._unit_spans is not None else None
        if (
            stored is None
            or len(units) != hi - lo
            or any((u.start, u.end) != tuple(r) for u, r in zip(units, stored, strict=True))
        ):
            return None  # sentences split differently at build time: don't pair them wrongly
        return np.asarray(self._unit_vectors[lo:hi], dtype=np.float32)

    def df(self, term: str) -> int:
        """In how many passages every token of `term` occurs (the rarest token's count)."""
        tokens = tokenize(term)
        if not tokens:
            return 0
        return min(self.token_df.get(t, 0) for t in tokens)

    def idf(self, token: str) -> float:
        n = self.token_df.get(token, 0)
        return math.log(1 + (self.n_chunks + 1) / (n + 0.5))


@lru_cache(maxsize=4096)
def units_of(text: str) -> tuple[Unit, ...]:
    """The sentences of a passage (cached: the same passages come back question after question)."""
    return tuple(split_units(text))

"""The search structures an index holds: FAISS for the dense vectors, bm25s for words and for
character bigrams. Built here, saved and loaded by `rag.index.store`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.index.text import bigram_tokens, bm25_tokens
from rag.types import Chunk, DocRecord

HNSW_FROM = 200_000  # exact search is fast enough below this many chunks (see docs/benchmarks.md)


def make_dense(vectors: np.ndarray, dim: int, hnsw_from: int = HNSW_FROM):
    """Exact inner-product search while it is fast enough; HNSW for larger indexes."""
    import faiss

    if len(vectors) >= hnsw_from:
        dense = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        dense.hnsw.efConstruction = 100
        dense.hnsw.efSearch = 256
        dense.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return dense
    dense = faiss.IndexFlatIP(dim)
    if len(vectors):
        dense.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return dense


@dataclass(frozen=True)
class BM25Params:
    # fitted with docs/retrieval.md's protocol (fit half of JSQuAD-test + allganize-dev, reported on the other
    # half): k1 0.9, b 0.5 against bm25s's 1.5 / 0.75 gave JSQuAD held-out R@1 .907 -> .915
    k1: float = 0.9
    b: float = 0.5


def _bm25(token_lists: list[list[str]], params: BM25Params | None):
    import bm25s

    if not token_lists:
        return None
    params = params or BM25Params()
    retriever = bm25s.BM25(k1=params.k1, b=params.b)
    retriever.index(token_lists, show_progress=False)
    return retriever


def make_bm25(chunks: list[Chunk], records: dict[str, DocRecord], params: BM25Params | None = None):
    return _bm25([bm25_tokens(c, records[c.doc_id]) for c in chunks], params)


def make_bigram_bm25(chunks: list[Chunk], records: dict[str, DocRecord], params: BM25Params | None = None):
    return _bm25([bigram_tokens(c, records[c.doc_id]) for c in chunks], params)

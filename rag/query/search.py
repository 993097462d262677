"""Hybrid retrieval: FAISS inner product on normalised vectors plus BM25 on
fugashi tokens, fused as `rag.query.fusion` says; the query's scope filters by prefecture and
document. `Searcher.search` takes a `Query` (see `rag.query.understand`)."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np

from rag.embed.embedders import Embedder
from rag.errors import QueryError
from rag.index.store import Index
from rag.lang.prefectures import canonical
from rag.query.fusion import Fusion, convex, rrf
from rag.query.understand import Query, Scope
from rag.types import Hit

MODES = ("hybrid", "dense", "bm25", "bigram")


class Searcher:
    def __init__(self, index: Index, embedder: Embedder, fusion: Fusion | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.fusion = fusion or Fusion()
        self._doc_of = np.array([c.doc_id for c in index.chunks], dtype=object)
        self._pref_of = np.array([index.documents[c.doc_id].prefecture or "" for c in index.chunks], dtype=object)
        self._sentences: tuple[object, np.ndarray] | None = None
        self._sentences_lock = threading.Lock()

    def check_prefecture(self, prefecture: str | None) -> str | None:
        if not prefecture:
            return None
        name = canonical(prefecture)
        if name is None:
            raise QueryError(f"unknown prefecture {prefecture!r}; the index holds: {', '.join(self.index.prefectures) or 'none'}")
        return name

    def _mask(self, prefecture: str | None, doc_id: str | None) -> np.ndarray | None:
        mask = None
        if prefecture:
            mask = self._pref_of == prefecture
        if doc_id:
            if doc_id not in self.index.documents:
                raise QueryError(f"unknown document {doc_id!r}; see `rag info` for the indexed documents")
            m = self._doc_of == doc_id
            mask = m if mask is None else mask & m
        return mask

    def dense_ranking(
        self, query: Query, mask: np.ndarray | None, depth: int, query_vector: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        qv = query_vector if query_vector is not None else self.embedder.embed_queries([query.dense_text])[0]
        qv = np.ascontiguousarray(qv.reshape(1, -1), dtype=np.float32)
        n = len(self.index.chunks)
        if mask is not None:
            allowed = np.flatnonzero(mask).astype(np.int64)
            if not len(allowed):
                return np.array([], dtype=np.int64), np.array([], dtype=np.float32)
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
            scores, ids = self.index.dense.search(qv, min(depth, len(allowed)), params=params)
        else:
            scores, ids = self.index.dense.search(qv, min(depth, n))
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def _sentence_index(self) -> tuple[object, np.ndarray] | None:
        """The sentence vectors in a FAISS index that keeps them at half precision (the same
        memory as the stored file), and each sentence's chunk row; built on first use."""
        units, vectors = self.index.units, self.index.unit_vectors
        if units is None or vectors is None or not len(units):
            return None
        with self._sentences_lock:
            if self._sentences is None:
                import faiss

                flat = faiss.IndexScalarQuantizer(vectors.shape[1], faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
                for lo in range(0, len(vectors), 8192):  # in blocks: a float32 copy of them all would double the memory
                    flat.add(np.ascontiguousarray(vectors[lo : lo + 8192], dtype=np.float32))
                self._sentences = (flat, np.asarray(units[:, 0], dtype=np.int64))
        return self._sentences

    def sentence_ranking(self, query_vector: np.ndarray, mask: np.ndarray | None, depth: int) -> np.ndarray:
        """Chunks ranked by their best sentence's cosine to the question (max-sim): a passage
        whose one sentence says what was asked ranks high even when the rest is about other things."""
        import faiss

        found = self._sentence_index()
        if found is None:
            return np.array([], dtype=np.int64)
        flat, chunk_of = found
        qv = np.ascontiguousarray(np.asarray(query_vector, dtype=np.float32).reshape(1, -1))
        want = depth * 4  # sentences per chunk vary: read enough to fill `depth` chunks
        if mask is not None:
            allowed = np.flatnonzero(mask[chunk_of]).astype(np.int64)
            if not len(allowed):
                return np.array([], dtype=np.int64)
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
            _, ids = flat.search(qv, min(want, len(allowed)), params=params)
        else:
            _, ids = flat.search(qv, min(want, flat.ntotal))
        rows = chunk_of[ids[0][ids[0] >= 0]]
        _, first = np.unique(rows, return_index=True)
        return rows[np.sort(first)][:depth]

    def bm25_ranking(
        self, query: Query, mask: np.ndarray | None, depth: int, bigrams: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        bm25 = self.index.chars if bigrams else self.index.bm25
        if bm25 is None:
            return np.array([], dtype=np.int64), np.array([], dtype=np.float32)
        ids = [t for t in (query.bigrams if bigrams else query.tokens) if t in bm25.vocab_dict]
        if not ids:
            return np.array([], dtype=np.int64), np.array([], dtype=np.float32)
        scores = bm25.get_scores(ids)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        top = np.argsort(-scores, kind="stable")[:depth]
        top = top[scores[top] > 0]
        return top, scores[top]

    def ranked(
        self,
        query: Query,
        k: int,
        modes: tuple[str, ...] = ("hybrid",),
        mask: np.ndarray | None = None,
        query_vector: np.ndarray | None = None,
    ) -> dict[str, list[tuple[int, float, int | None, int | None]]]:
        """Top-k (chunk index, score, dense rank, bm25 rank) for each mode, sharing one embedding."""
        depth = max(100, k * 4)
        empty = (np.array([], np.int64), np.array([], np.float32))
        need_dense = any(m in ("hybrid", "dense") for m in modes)
        need_bm25 = any(m in ("hybrid", "bm25") for m in modes)
        convex_hybrid = "hybrid" in modes and self.fusion.method(query.lang) == "convex"
        need_bigram = "bigram" in modes or (convex_hybrid and self.fusion.bigram_share > 0)
        if need_dense and query_vector is None:
            query_vector = self.query_vector(query)
        dense_ids, dense_scores = self.dense_ranking(query, mask, depth, query_vector) if need_dense else empty
        bm25_ids, bm25_scores = self.bm25_ranking(query, mask, depth) if need_bm25 else empty
        bigram_ids, bigram_scores = self.bm25_ranking(query, mask, depth, bigrams=True) if need_bigram else empty
        dense_rank = {int(i): r + 1 for r, i in enumerate(dense_ids)}
        bm25_rank = {int(i): r + 1 for r, i in enumerate(bm25_ids)}
        out = {}
        for mode in modes:
            if mode == "dense":
                fused = {int(i): float(s) for i, s in zip(dense_ids, dense_scores, strict=True)}
            elif mode == "bm25":
                fused = {int(i): float(s) for i, s in zip(bm25_ids, bm25_scores, strict=True)}
            elif mode == "bigram":
                fused = {int(i): float(s) for i, s in zip(bigram_ids, bigram_scores, strict=True)}
            elif convex_hybrid:
                qv = query_vector if query_vector is not None else self.embedder.embed_queries([query.dense_text])[0]
                candidates = np.union1d(np.union1d(dense_ids, bm25_ids), bigram_ids).astype(np.int64)
                # every candidate gets its exact dense score, also those only a lexical ranking found
                cosine = self.index.vectors[candidates] @ np.asarray(qv, dtype=np.float32) if len(candidates) else []
                fused = convex(
                    {int(i): float(c) for i, c in zip(candidates, cosine, strict=True)},
                    ({int(i): float(s) for i, s in zip(bm25_ids, bm25_scores, strict=True)}, self.fusion.bm25_share),
                    ({int(i): float(s) for i, s in zip(bigram_ids, bigram_scores, strict=True)}, self.fusion.bigram_share),
                )
            else:
                f = self.fusion
                lists, weights = [dense_ids, bm25_ids], [f.dense_weight, f.bm25_weight]
                if f.sentence_weight > 0 and query_vector is not None:
                    lists.append(self.sentence_ranking(query_vector, mask, depth))
                    weights.append(f.sentence_weight)
                fused = rrf(lists, weights, f.rrf_k)
            order = sorted(fused, key=lambda i: (-fused[i], i))[:k]
            out[mode] = [(i, fused[i], dense_rank.get(i), bm25_rank.get(i)) for i in order]
        return out

    def scoped(self, query: Query) -> Query:
        """Check the query's filters against the index (one-line errors for unknown ones)."""
        return replace(query, scope=Scope(self.check_prefecture(query.scope.prefecture), query.scope.doc_id))

    def query_vector(self, query: Query) -> np.ndarray:
        return self.embedder.embed_queries([query.dense_text])[0]

    def search(self, query: Query, k: int = 5, mode: str = "hybrid", query_vector: np.ndarray | None = None) -> list[Hit]:
        """The k best chunks for the query (one `understand` reading, with its reader's English
        words: a raw string would be read without them, so it is not taken)."""
        if k <= 0:
            raise QueryError(f"k must be positive, got {k}")
        if mode not in MODES:
            raise QueryError(f"mode must be one of {MODES}, got {mode!r}")
        if not isinstance(query, Query):
            raise TypeError("Searcher.search takes a Query: read the question with rag.query.understand.understand")
        query = self.scoped(query)
        if not self.index.chunks:
            return []
        mask = self._mask(query.scope.prefecture, query.scope.doc_id)
        hits = []
        for rank, (i, score, d_rank, b_rank) in enumerate(self.ranked(query, k, (mode,), mask, query_vector)[mode], start=1):
            chunk = self.index.chunks[i]
            rec = self.index.documents[chunk.doc_id]
            hits.append(Hit(rank, score, chunk, rec.title, rec.prefecture, d_rank, b_rank))
        return hits

"""BM25 scores read straight from the files bm25s writes, so a question never imports bm25s
(and scipy with it: a third of a cold `rag ask`). bm25s still builds the index; this reads its
precomputed per-(term, passage) scores (a CSC matrix: one column of passages per term) and
adds up the columns of the question's terms, as `bm25s.BM25.get_scores` does.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


class SavedBM25:
    def __init__(self, folder: Path, mmap: bool = True) -> None:
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        mode = "r" if mmap else None
        vocab: dict[str, int] = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        self.scores = {
            "data": np.load(folder / "data.csc.index.npy", mmap_mode=mode, allow_pickle=False),
            "indices": np.load(folder / "indices.csc.index.npy", mmap_mode=mode, allow_pickle=False),
            "indptr": np.load(folder / "indptr.csc.index.npy", allow_pickle=False),
            "num_docs": int(params["num_docs"]),
        }
        # bm25l / bm25+ add a score for terms a passage lacks; Lucene's scoring (ours) has none
        nonocc = folder / "nonoccurrence_array.index.npy"
        self._nonoccurrence = np.load(nonocc, allow_pickle=False) if nonocc.exists() else None
        columns = len(self.scores["indptr"]) - 1
        # bm25s keeps "" as a last term without a column; any other term beyond the columns is damage
        self.vocab_dict = {t: i for t, i in vocab.items() if t}
        if any(not 0 <= i < columns for i in self.vocab_dict.values()):
            raise ValueError(f"{len(vocab)} terms but {columns} score columns")

    def get_scores(self, tokens: list[str]) -> np.ndarray:
        """The BM25 score of every passage for `tokens` (a repeated token counts again)."""
        n = self.scores["num_docs"]
        ids = np.array([self.vocab_dict[t] for t in tokens if t in self.vocab_dict], dtype=np.int64)
        if not len(ids):
            return np.zeros(n, dtype=np.float32)
        indptr, indices, data = self.scores["indptr"], self.scores["indices"], self.scores["data"]
        spans = [slice(int(indptr[i]), int(indptr[i + 1])) for i in ids]
        rows = np.concatenate([indices[s] for s in spans])
        weights = np.concatenate([data[s] for s in spans])
        scores = np.bincount(rows, weights=weights, minlength=n).astype(np.float32)
        if self._nonoccurrence is not None:
            scores += self._nonoccurrence[ids].sum()
        return scores

"""Test doubles: an embedder that needs no model and no network."""

from __future__ import annotations

import hashlib
import itertools

import numpy as np


class FakeEmbedder:
    """Deterministic bag-of-character-bigrams vectors: similar texts get similar
    vectors, with no model and no network. For tests only."""

    def __init__(self, dim: int = 64) -> None:
        self.model_id = "fake"
        self.fingerprint = f"fake-{dim}"
        self.dim = dim

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        t = "".join(text.split())
        for a, b in itertools.pairwise(t):
            v[int(hashlib.md5((a + b).encode()).hexdigest()[:8], 16) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)

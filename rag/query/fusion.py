"""How the dense and BM25 rankings become one.

Japanese questions: a convex combination of scores — the dense cosine, plus `bm25_share` ×
the word BM25 score over the question's best, plus `bigram_share` × the same for the BM25
over character bigrams (it matches words the dictionary splits or joins differently).
English questions: weighted reciprocal-rank fusion of three rankings: dense over whole
chunks, word BM25 (it sees only the Japanese words found for the English ones, so its scores
say less; ranks are safer), and dense over sentences (a chunk ranked by its best sentence:
an English question meets one Japanese sentence more surely than a 400-character chunk).

All were chosen with the protocol of docs/retrieval.md: fitted on one half of JSQuAD-test
and of ../shared/datasets/allganize-dev (and its English version for English), reported on
the other half. Japanese, JSQuAD held-out half R@1 / R@5: dense + 0.1 BM25 + 0.15 bigrams
.924 / .977 (dense + 0.2 BM25, before: .915 / .980; BM25 alone .889, bigrams alone .907,
dense .799).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

METHODS = ("convex", "rrf")


@dataclass(frozen=True)
class Fusion:
    japanese: str = "convex"
    english: str = "rrf"
    bm25_share: float = 0.1  # convex: weight of BM25 / best BM25 next to the dense cosine (fitted)
    bigram_share: float = 0.15  # convex: weight of the character-bigram BM25 / its best (fitted)
    rrf_k: int = 60
    dense_weight: float = 1.0  # rrf weights
    bm25_weight: float = 1.0
    # rrf weight of the sentence max-sim ranking (0: off). Equal weights won on both halves of
    # allganize-dev-en (docs/retrieval.md); 0.5, 1.5 and 2 were worse on the fit half
    sentence_weight: float = 1.0

    def __post_init__(self) -> None:
        for name in (self.japanese, self.english):
            if name not in METHODS:
                raise ValueError(f"fusion must be one of {METHODS}, got {name!r}")
        if self.rrf_k <= 0:
            raise ValueError(f"rrf_k must be positive, got {self.rrf_k}")
        shares = (self.bm25_share, self.bigram_share, self.sentence_weight)
        if not all(math.isfinite(x) and x >= 0 for x in shares):
            raise ValueError(f"bm25_share, bigram_share and sentence_weight must be finite and not negative, got {shares}")

    def method(self, lang: str) -> str:
        return self.english if lang == "en" else self.japanese


def rrf(ranked: list[np.ndarray], weights: list[float], k: int) -> dict[int, float]:
    scores: dict[int, float] = {}
    for ids, w in zip(ranked, weights, strict=True):
        for rank, i in enumerate(ids):
            scores[int(i)] = scores.get(int(i), 0.0) + w / (k + rank + 1)
    return scores


def convex(dense: dict[int, float], *lexical: tuple[dict[int, float], float]) -> dict[int, float]:
    """Dense cosine (every candidate has one) plus, for each lexical ranking, its share × its
    score relative to its best score for the question."""
    fused = dict(dense)
    for scores, share in lexical:
        best = max(scores.values(), default=0.0)
        if best <= 0 or share <= 0:
            continue
        for i in fused:
            fused[i] += share * scores.get(i, 0.0) / best
    return fused

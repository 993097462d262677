"""`rag eval --benchmark jsquad`: passage retrieval on JSQuAD (public Japanese QA data,
CC BY-SA 4.0), hybrid vs BM25-only vs dense-only in one run.

Each passage (title + text) is one chunk; the whole pipeline's tokenizer, normaliser,
embedder and fusion are used, so the figures move when they do.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.embed.embedders import Embedder
from rag.errors import RagError
from rag.index.build import in_memory_index
from rag.lang.normalize import normalize_for_matching
from rag.query.fusion import Fusion
from rag.query.search import MODES, Searcher
from rag.query.understand import understand
from rag.types import Chunk, DocRecord, DocumentMeta

DEFAULT_DATA = Path("eval/benchmarks/jsquad")
CACHE = Path("eval/reports/.cache")


@dataclass(frozen=True)
class BenchmarkResult:
    corpus_size: int
    queries: int
    model: str
    settings: dict
    metrics: dict[str, dict[str, float]]  # mode -> metric -> value
    seconds: float

    def markdown(self) -> str:
        lines = [
            f"JSQuAD passage retrieval: {self.corpus_size} passages, {self.queries} questions, model `{self.model}`, "
            f"settings {self.settings}, {self.seconds:.0f} s",
            "",
            "| mode | Recall@1 | Recall@5 | Recall@10 | MRR@10 |",
            "|---|---|---|---|---|",
        ]
        for mode, m in self.metrics.items():
            lines.append(f"| {mode} | {m['recall@1']:.3f} | {m['recall@5']:.3f} | {m['recall@10']:.3f} | {m['mrr@10']:.3f} |")
        return "\n".join(lines)


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        raise RagError(f"benchmark file {path} does not exist")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _passage_vectors(embedder: Embedder, chunks: list[Chunk], records: dict[str, DocRecord], progress: bool) -> np.ndarray:
    """Embed passages once per model; the vectors are cached beside the reports."""
    from rag.index.text import passage_text

    texts = [passage_text(c, records[c.doc_id]) for c in chunks]
    digest = hashlib.sha256(("\n".join(texts) + embedder.fingerprint).encode()).hexdigest()[:16]
    cache = CACHE / f"jsquad-{digest}.npy"
    if cache.exists():
        return np.load(cache, allow_pickle=False)
    vectors = embedder.embed_passages(texts, progress=progress)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors, allow_pickle=False)
    return vectors


def run_benchmark(
    embedder: Embedder, data: Path | None = None, limit: int | None = None, progress: bool = True, fusion: Fusion | None = None
) -> BenchmarkResult:
    import pytrec_eval

    started = time.perf_counter()
    data = data or DEFAULT_DATA
    passages = _read_jsonl(data / "corpus.jsonl")
    queries = _read_jsonl(data / "queries.jsonl")[: limit or None]
    records: dict[str, DocRecord] = {}
    chunks: list[Chunk] = []
    for p in passages:
        text = f"{p['title']}\n{p['text']}"
        # the title already leads the text; keep it out of the record's title so it is not doubled
        records[p["id"]] = DocRecord(p["id"], "", DocumentMeta(), 1, 1)
        chunks.append(Chunk(p["id"], p["id"], None, 0, len(text), text, normalize_for_matching(text).text))
    vectors = _passage_vectors(embedder, chunks, records, progress)
    index = in_memory_index(list(records.values()), chunks, vectors, embedder.dim)
    fusion = fusion or Fusion()
    searcher = Searcher(index, embedder, fusion)
    parsed = [understand(q["question"]) for q in queries]
    qvecs = embedder.embed_queries([q.dense_text for q in parsed]) if parsed else np.zeros((0, embedder.dim))
    runs: dict[str, dict[str, dict[str, float]]] = {m: {} for m in MODES}
    for q, query, qv in zip(queries, parsed, qvecs, strict=True):
        ranked = searcher.ranked(query, 10, MODES, query_vector=qv)
        for mode, rows in ranked.items():
            runs[mode][q["id"]] = {chunks[i].chunk_id: 1.0 / r for r, (i, *_rest) in enumerate(rows, start=1)} or {
                "__nothing__": 0.0
            }
    qrels = {q["id"]: {q["passage_id"]: 1} for q in queries}
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank", "success.1,5,10"})
    metrics = {}
    for mode in ("hybrid", "bm25", "bigram", "dense"):
        per_q = evaluator.evaluate(runs[mode]).values()
        n = max(len(per_q), 1)
        metrics[mode] = {
            "recall@1": sum(v["success_1"] for v in per_q) / n,
            "recall@5": sum(v["success_5"] for v in per_q) / n,
            "recall@10": sum(v["success_10"] for v in per_q) / n,
            "mrr@10": sum(v["recip_rank"] for v in per_q) / n,
        }
    return BenchmarkResult(
        len(chunks),
        len(queries),
        embedder.model_id,
        {"fusion": f"{fusion.japanese} (bm25_share {fusion.bm25_share}, bigram_share {fusion.bigram_share})"},
        metrics,
        time.perf_counter() - started,
    )

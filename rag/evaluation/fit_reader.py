"""Fit the reader's sentence weights (`rag.answer.sentences.WEIGHTS`) on data nobody here wrote.

    python -m rag.evaluation.fit_reader [--jsquad N] [--set DIR ...]

Examples come from JSQuAD (the sentences of each question's gold passage; positive: the
sentence holding the answer span) and from question sets in the eval schema, such as
../shared/datasets/allganize-dev (the sentences of the passages the ask path retrieves;
positive: a sentence holding every answer key, or lying inside the evidence and holding
one). A listwise softmax over each question's sentences is fitted on half of the
questions (split by id) and reported on the other half; the weights printed at the end
are refitted on all of them. eval/qa.jsonl is never used.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag.answer.catalog import Catalog, units_of
from rag.answer.sentences import FEATURES, WEIGHTS, score_sentences
from rag.evaluation.evaluate import contains, key, load_set
from rag.index.build import in_memory_index
from rag.lang.normalize import normalize_for_matching
from rag.pipeline import Rag
from rag.query.understand import understand
from rag.settings import load_settings
from rag.types import Chunk, DocRecord, DocumentMeta, Hit

Group = tuple[str, np.ndarray, np.ndarray]  # question id, features [n, f], labels [n]


def jsquad_groups(n: int, data: Path, seed: int = 0) -> list[Group]:
    from rag.embed.embedders import load_embedder

    settings = load_settings()
    embedder = load_embedder(settings.model, settings.models_dir)
    passages = {p["id"]: p for p in map(json.loads, (data / "corpus.jsonl").read_text(encoding="utf-8").splitlines())}
    queries = [json.loads(line) for line in (data / "queries.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(seed).shuffle(queries)
    queries = queries[:n]
    records = {pid: DocRecord(pid, "", DocumentMeta(title=p["title"]), 1, 1) for pid, p in passages.items()}
    chunks = [
        Chunk(pid, pid, None, 0, len(p["text"]), p["text"], normalize_for_matching(p["text"]).text) for pid, p in passages.items()
    ]
    needed = {q["passage_id"] for q in queries}
    spans, texts = [], []
    for row, c in enumerate(chunks):
        if c.chunk_id in needed:
            for u in units_of(c.text):
                spans.append((row, u.start, u.end))
                texts.append(u.text)
    vectors = embedder.embed_passages(texts).astype(np.float16) if texts else np.zeros((0, embedder.dim), np.float16)
    index = in_memory_index(
        list(records.values()),
        chunks,
        np.zeros((len(chunks), embedder.dim), np.float32),
        embedder.dim,
        (np.array(spans, np.int32).reshape(-1, 3), vectors),
    )
    catalog = Catalog.of(index)
    by_id = {c.chunk_id: c for c in chunks}
    groups = []
    qvecs = embedder.embed_queries([q["question"] for q in queries])
    for q, qv in zip(queries, qvecs, strict=True):
        chunk = by_id[q["passage_id"]]
        hit = Hit(1, 1.0, chunk, chunk.doc_id, None)
        sentences = score_sentences(understand(q["question"]), [hit], catalog, qv)
        labels = [any(key(a) in key(s.text) for a in q["answers"]) for s in sentences]
        if len(sentences) > 1 and any(labels):
            groups.append((f"jsquad-{q['id']}", np.array([s.features for s in sentences]), np.array(labels, float)))
    return groups


def set_groups(folder: Path, depth: int = 8) -> list[Group]:

    eval_set = load_set(folder)
    rag = Rag(replace(load_settings(), corpus=eval_set.corpus, index=eval_set.cache))
    groups = []
    for item in eval_set.items:
        if not item.answerable:
            continue
        turn = rag.run(item.question, history=list(item.history), depth=depth)
        qv = rag.searcher.query_vector(turn.query)
        sentences = score_sentences(turn.query, turn.hits[:depth], rag.loaded.catalog, qv)
        evidence = key(item.evidence or "")
        labels = [
            contains(s.text, item.answers, item.match)
            or (len(key(s.text)) > 10 and key(s.text) in evidence and contains(s.text, item.answers, "any"))
            for s in sentences
        ]
        if len(sentences) > 1 and any(labels):
            groups.append((f"{eval_set.name}-{item.id}", np.array([s.features for s in sentences]), np.array(labels, float)))
    return groups


def _source(qid: str) -> str:
    return qid.split("-", 1)[0]


def fit(groups: list[Group], l2: float = 1e-3, steps: int = 800, lr: float = 0.3) -> tuple[np.ndarray, float]:
    """Listwise softmax: each question's probability mass on its positive sentences. Every
    source (JSQuAD, each set) weighs the same in total, however many questions it has."""
    allx = np.concatenate([x for _, x, _ in groups])
    mu, sd = allx.mean(0), allx.std(0) + 1e-9
    per_source: dict[str, int] = {}
    for qid, _, _ in groups:
        per_source[_source(qid)] = per_source.get(_source(qid), 0) + 1
    zs = [((x - mu) / sd, y / y.sum(), 1.0 / (per_source[_source(q)] * len(per_source))) for q, x, y in groups]
    w = np.zeros(allx.shape[1])
    for _ in range(steps):
        grad = l2 * w
        for z, target, weight in zs:
            s = z @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            grad += weight * (z.T @ (p - target))
        w -= lr * grad
    raw = w / sd
    return raw, float(-(w * mu / sd).sum())


def top1(groups: list[Group], w: np.ndarray, b: float = 0.0) -> float:
    return float(np.mean([y[int(np.argmax(x @ w + b))] for _, x, y in groups])) if groups else float("nan")


def _half(qid: str) -> bool:
    return int(hashlib.sha1(qid.encode()).hexdigest(), 16) % 2 == 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rag.evaluation.fit_reader", description=__doc__.split("\n\n")[0])
    p.add_argument("--jsquad", type=int, default=1000, help="JSQuAD questions to use (0: none)")
    p.add_argument("--jsquad-data", default="eval/benchmarks/jsquad")
    p.add_argument("--set", action="append", default=[], help="an eval set folder (repeat)")
    p.add_argument("--dump", help="also save the examples (npz) for further study")
    args = p.parse_args(argv)
    groups: list[Group] = []
    if args.jsquad:
        groups += jsquad_groups(args.jsquad, Path(args.jsquad_data))
    for folder in args.set:
        groups += set_groups(Path(folder))
    if not groups:
        print("no examples", file=sys.stderr)
        return 1
    train = [g for g in groups if _half(g[0])]
    test = [g for g in groups if not _half(g[0])]
    w, b = fit(train)
    current = np.array(WEIGHTS.values)
    if args.dump:
        np.savez(args.dump, **{g[0]: np.concatenate([g[1], g[2][:, None]], axis=1) for g in groups})
    print(f"examples: {len(groups)} questions ({len(train)} fit / {len(test)} held out)")
    print("held-out top-1 sentence holds the answer:")
    print(f"  current weights {top1(test, current):.3f}   fitted {top1(test, w, b):.3f}")
    for name in sorted({_source(g[0]) for g in groups}):
        sub = [g for g in test if g[0].startswith(name)]
        print(f"  {name:>12}: current {top1(sub, current):.3f}  fitted {top1(sub, w, b):.3f}  (n={len(sub)})")
    for i, name in enumerate(FEATURES):
        one = np.zeros(len(FEATURES))
        one[i] = 1
        print(f"  {name:>10} alone {top1(test, one):.3f}")
    w_all, b_all = fit(groups)
    print("weights fitted on all: values=(" + ", ".join(f"{v:.3f}" for v in w_all) + f"), bias={b_all:.3f}")
    print(dict(zip(FEATURES, np.round(w_all, 3), strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`rag bench`: speed and scale figures measured in one run on this machine.

Prints one table (and writes it to docs/benchmarks.md with --out): index build vs a bare
SentenceTransformer.encode loop, incremental vs full rebuild, warm query latency for
search and ask at 1k / 10k / 100k chunks (hybrid, BM25-only, dense-only), FAISS flat vs
HNSW at 100k, peak RSS while serving 10k chunks, growth (1k to 1M chunks written to disk and
served from it: disk, load time, ask latency, peak RSS), and cold starts of `rag ask` and the app.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from rag.embed.embedders import Embedder
from rag.evaluation.jsquad import DEFAULT_DATA, _passage_vectors, _read_jsonl
from rag.index.backends import BM25Params, make_dense
from rag.index.build import MIN_UNIT_CHARS, build_index
from rag.index.store import Index
from rag.index.text import bigram_tokens, bm25_tokens, passage_text
from rag.lang.normalize import normalize_for_matching
from rag.lang.segment import split_units
from rag.pipeline import Rag
from rag.settings import Settings
from rag.types import Chunk, DocRecord, DocumentMeta

TARGETS = {  # issue 14 (and 11 for search at 100k)
    "ask_p50_10k_ms": 12,
    "ask_p95_10k_ms": 30,
    "search_p50_100k_ms": 100,
    "hnsw_recall": 0.98,
    "incremental_speedup": 10,
    "pipeline_overhead": 0.10,
    "rss_10k_mb": 800,
    "ask_cold_start_s": 2.0,
    "app_cold_start_s": 5.0,
    "embed_speedup": 3.0,
}


@dataclass
class BenchResult:
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # (what, figure, target, verdict)
    figures: dict[str, float] = field(default_factory=dict)

    def add(self, what: str, figure: str, target: str = "", ok: bool | None = None) -> None:
        self.rows.append((what, figure, target, "" if ok is None else ("met" if ok else "MISSED")))

    def markdown(self) -> str:
        lines = ["| measurement | figure | target | |", "|---|---|---|---|"]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in self.rows]
        return "\n".join(lines)


def _ms(seconds: list[float]) -> tuple[float, float]:
    s = sorted(seconds)
    return statistics.median(s) * 1000, s[min(len(s) - 1, round(0.95 * (len(s) - 1)))] * 1000


def _jsquad(limit: int | None = None) -> tuple[list[dict], list[dict]]:
    passages = _read_jsonl(DEFAULT_DATA / "corpus.jsonl")
    queries = _read_jsonl(DEFAULT_DATA / "queries.jsonl")
    return passages[:limit] if limit else passages, queries


def bench_build(embedder: Embedder, corpus: Path, result: BenchResult) -> None:
    embedder.embed_passages(["準備運転の文章です。"] * 16)  # both timings below start warm
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        report = build_index(corpus, Path(tmp) / "index", embedder, rebuild=True)
        pipeline = time.perf_counter() - started
        from rag.index.store import load_index

        index = load_index(Path(tmp) / "index", embedder)
        texts = [passage_text(c, index.documents[c.doc_id]) for c in index.chunks]
        # the build embeds every sentence too (for the reader): the bare loop encodes the same texts
        sentences = [u.text for c in index.chunks for u in split_units(c.text) if len(u.text) >= MIN_UNIT_CHARS]
    started = time.perf_counter()
    embedder.embed_passages(texts)
    embedder.embed_passages(sentences)
    bare = time.perf_counter() - started
    torch_s = _bare_torch_encode(texts + sentences)
    overhead = pipeline / bare - 1
    result.figures.update(build_s=pipeline, bare_s=bare, overhead=overhead, chunks=report.chunks)
    result.add(
        "index build, bundled corpus (full)",
        f"{report.chunks} chunks + {len(sentences)} sentences in {pipeline:.1f} s = {report.chunks / pipeline:.1f} chunks/s",
    )
    result.add(f"the runtime's bare encode ({type(embedder).__name__}), same texts", f"{bare:.1f} s")
    result.add(
        "pipeline overhead over the bare encode", f"{overhead * 100:+.1f}%", "≤ 10%", overhead <= TARGETS["pipeline_overhead"]
    )
    if torch_s:
        speedup = torch_s / bare
        result.figures.update(torch_s=torch_s, embed_speedup=speedup)
        result.add("bare SentenceTransformer.encode on torch, same texts", f"{torch_s:.1f} s")
        result.add("embedding speed-up over torch", f"{speedup:.2f}×", "≥ 3×", speedup >= TARGETS["embed_speedup"])


def _bare_torch_encode(texts: list[str]) -> float | None:
    """Seconds for sentence-transformers on torch to embed `texts` (the baseline), None without torch."""
    from rag.embed.embedders import SentenceTransformerEmbedder, resolve_model

    try:
        model = SentenceTransformerEmbedder(resolve_model("multilingual-e5-small", Path("models")))._model
    except Exception:
        return None
    prompt = "passage: "
    model.encode([prompt + "準備運転の文章です。"] * 16, batch_size=16)
    started = time.perf_counter()
    model.encode([prompt + t for t in texts], batch_size=16, normalize_embeddings=True)
    return time.perf_counter() - started


def bench_incremental(embedder: Embedder, n_docs: int, result: BenchResult) -> None:
    passages, _ = _jsquad()
    by_title: dict[str, list[str]] = {}
    for p in passages:
        by_title.setdefault(p["title"], []).append(p["text"])
    titles = list(by_title)[: n_docs + 1]
    with tempfile.TemporaryDirectory() as tmp:
        corpus, index = Path(tmp) / "corpus", Path(tmp) / "index"
        corpus.mkdir()
        for i, t in enumerate(titles[:n_docs]):
            (corpus / f"doc{i:03d}.txt").write_text(t + "\n\n" + "\n\n".join(by_title[t]), encoding="utf-8")
        started = time.perf_counter()
        full = build_index(corpus, index, embedder, rebuild=True)
        full_s = time.perf_counter() - started
        t = titles[n_docs]
        (corpus / "new.txt").write_text(t + "\n\n" + "\n\n".join(by_title[t]), encoding="utf-8")
        started = time.perf_counter()
        inc = build_index(corpus, index, embedder)
        inc_s = time.perf_counter() - started
    ratio = full_s / inc_s
    result.figures.update(incremental_speedup=ratio)
    result.add(f"full rebuild, {n_docs}-document corpus", f"{full.chunks} chunks in {full_s:.1f} s")
    result.add(
        "add one document (incremental)",
        f"{inc.embedded} chunks embedded in {inc_s:.2f} s: {ratio:.0f}× faster",
        "≥ 10×",
        ratio >= 10,
    )


@dataclass(frozen=True)
class BenchBase:
    """The passages a scaled index repeats: JSQuAD's 1,159 and the bundled corpus's (which
    carry facts and sentence vectors), with their records, vectors and BM25 tokens."""

    chunks: list[Chunk]
    records: dict[str, DocRecord]
    vectors: np.ndarray
    tokens: list[list[str]]
    unit_spans: list[np.ndarray]  # per chunk: [n, 2] sentence spans
    unit_vectors: list[np.ndarray]  # per chunk: [n, dim]
    questions: list[str]
    bigrams: list[list[str]]  # per chunk: the character-bigram BM25's tokens


def bench_base(embedder: Embedder, bundled: Index | None, limit: int | None = None) -> BenchBase:
    jsquad, vectors, tokens, queries = _jsquad_base(embedder, limit)
    records = {c.doc_id: DocRecord(c.doc_id, "", DocumentMeta(), 1, 1) for c in jsquad}
    chunks = list(jsquad)
    rng = np.random.default_rng(1)
    spans: list[np.ndarray] = []
    unit_vecs: list[np.ndarray] = []
    for c in jsquad:
        units = split_units(c.text)
        spans.append(np.array([(u.start, u.end) for u in units], np.int32).reshape(-1, 2))
        v = rng.standard_normal((len(units), embedder.dim)).astype(np.float32)
        unit_vecs.append((v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float16))
    questions = [q["question"] for q in queries]
    if bundled is not None:
        records.update(bundled.documents)
        chunks += bundled.chunks
        vectors = np.concatenate([vectors, bundled.vectors])
        tokens += [bm25_tokens(c, bundled.documents[c.doc_id]) for c in bundled.chunks]
        for row in range(len(bundled.chunks)):
            mine = bundled.units[bundled.units[:, 0] == row] if bundled.units is not None else np.zeros((0, 3), np.int32)
            spans.append(mine[:, 1:])
            unit_vecs.append(
                np.asarray(bundled.unit_vectors[bundled.units[:, 0] == row])
                if bundled.unit_vectors is not None
                else np.zeros((0, embedder.dim), np.float16)
            )
        # questions over the bundled plans, so the ask path reads facts too (no answers are read from this file)
        qa = Path("eval/qa.jsonl")
        if qa.exists():
            plan_questions = [
                json.loads(line)["question"] for line in qa.read_text(encoding="utf-8").splitlines() if line.strip()
            ]
            questions = [q for pair in zip(questions, plan_questions, strict=False) for q in pair] + questions[
                len(plan_questions) :
            ]
    bigrams = [bigram_tokens(c, records[c.doc_id]) for c in chunks]
    return BenchBase(chunks, records, vectors, tokens, spans, unit_vecs, questions, bigrams)


def scaled_index(embedder: Embedder, size: int, base: BenchBase, random_vectors: bool) -> Index:
    """`size` chunks repeating the base passages (vectors with small noise for repeats, or
    random unit vectors when asked), with their sentences and the facts of the plans."""
    import bm25s

    from rag.index.build import document_facts

    rng = np.random.default_rng(0)
    n = len(base.chunks)
    reps = [i % n for i in range(size)]
    # each repeat of the base is a document of its own, so facts grow with the index as they would
    chunks = [replace(base.chunks[j], chunk_id=f"c{i}", doc_id=f"{base.chunks[j].doc_id}#{i // n}") for i, j in enumerate(reps)]
    records = {c.doc_id: replace(base.records[c.doc_id.rsplit("#", 1)[0]], doc_id=c.doc_id) for c in chunks}
    if random_vectors:
        vectors = rng.standard_normal((size, embedder.dim)).astype(np.float32)
    else:
        vectors = base.vectors[reps] + (
            rng.standard_normal((size, embedder.dim)).astype(np.float32) * 0.01 * (np.array(reps) != np.arange(size))[:, None]
        )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    params = BM25Params()
    bm25 = bm25s.BM25(k1=params.k1, b=params.b)
    bm25.index([base.tokens[j] for j in reps], show_progress=False)
    chars = bm25s.BM25(k1=params.k1, b=params.b)
    chars.index([base.bigrams[j] for j in reps], show_progress=False)
    units = np.concatenate(
        [
            np.concatenate([np.full((len(base.unit_spans[j]), 1), i, np.int32), base.unit_spans[j]], axis=1)
            for i, j in enumerate(reps)
        ]
    )
    unit_vectors = np.concatenate([base.unit_vectors[j] for j in reps])
    return Index(
        Path("."),
        {"chunks": size, "built_at": "bench"},
        records,
        chunks,
        vectors,
        make_dense(vectors, embedder.dim),
        bm25,
        document_facts(chunks, records),
        units,
        unit_vectors,
        chars,
    )


def _latencies(rag: Rag, questions: list[str]) -> dict[str, list[float]]:
    """Warm latency per question: search in each mode, and ask through `Rag.run`, the path users hit."""
    out: dict[str, list[float]] = {"search": [], "ask": [], "bm25": [], "dense": []}
    for q in questions[:5]:  # warm up
        rag.ask(q)
    for q in questions:
        for mode, key in (("hybrid", "search"), ("bm25", "bm25"), ("dense", "dense")):
            t0 = time.perf_counter()
            rag.search(q, 5, mode=mode)
            out[key].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        rag.ask(q)
        out["ask"].append(time.perf_counter() - t0)
    return out


def _jsquad_base(embedder: Embedder, limit: int | None = None):
    """JSQuAD passages as chunks, with their (cached) vectors and BM25 tokens, and the questions."""
    passages, queries = _jsquad(limit)
    base = []
    for p in passages:
        text = f"{p['title']}\n{p['text']}"
        base.append(Chunk(p["id"], p["id"], None, 0, len(text), text, normalize_for_matching(text).text))
    records = {c.doc_id: DocRecord(c.doc_id, "", DocumentMeta(), 1, 1) for c in base}
    vectors = _passage_vectors(embedder, base, records, progress=False)
    tokens = [bm25_tokens(c, records[c.doc_id]) for c in base]
    return base, vectors, tokens, queries


def bench_latency(rag: Rag, base: BenchBase, sizes: list[int], n_queries: int, result: BenchResult) -> None:
    embedder = rag.embedder
    questions = base.questions[:n_queries]
    for size in sizes:
        random_vectors = size >= 100_000
        index = scaled_index(embedder, size, base, random_vectors)
        lat = _latencies(Rag.over(rag.settings, index, embedder), questions)
        label = f"{size // 1000}k chunks" + (" (random unit vectors)" if random_vectors else "")
        for key, name in (
            ("search", "search (hybrid)"),
            ("ask", "ask (Rag.run: read, retrieve, answer; facts and sentences)"),
            ("bm25", "search BM25-only"),
            ("dense", "search dense-only"),
        ):
            p50, p95 = _ms(lat[key])
            result.figures[f"{key}_p50_{size}"] = p50
            result.figures[f"{key}_p95_{size}"] = p95
            target, ok = "", None
            if key == "ask" and size == 10_000:
                target = f"p50 ≤ {TARGETS['ask_p50_10k_ms']}, p95 ≤ {TARGETS['ask_p95_10k_ms']}"
                ok = p50 <= TARGETS["ask_p50_10k_ms"] and p95 <= TARGETS["ask_p95_10k_ms"]
            if key == "search" and size == 100_000:
                target, ok = "p50 ≤ 100", p50 <= TARGETS["search_p50_100k_ms"]
            result.add(f"{name}, warm, {label}", f"p50 {p50:.1f} ms, p95 {p95:.1f} ms", target, ok)
        if size >= 100_000:
            bench_hnsw(base.vectors, size, embedder, questions, result)


def bench_hnsw(real_vectors: np.ndarray, size: int, embedder: Embedder, questions: list[str], result: BenchResult) -> None:
    """HNSW against exact search on `size` vectors shaped like real embeddings (mixtures of
    2-3 real passage vectors plus noise), probed with real question embeddings."""
    rng = np.random.default_rng(2)
    picks = rng.integers(0, len(real_vectors), (size, 3))
    weights = rng.dirichlet(np.ones(3), size).astype(np.float32)
    noise = 0.02 * rng.standard_normal((size, embedder.dim)).astype(np.float32)
    vectors = np.einsum("nk,nkd->nd", weights, real_vectors[picks]) + noise
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    flat = make_dense(vectors, embedder.dim, hnsw_from=10**12)
    started = time.perf_counter()
    hnsw = make_dense(vectors, embedder.dim, hnsw_from=0)
    build_s = time.perf_counter() - started
    probes = np.ascontiguousarray(embedder.embed_queries(questions), dtype=np.float32)
    times: dict[str, list[float]] = {"flat": [], "hnsw": []}
    found: dict[str, list[set]] = {}
    for name, idx in (("flat", flat), ("hnsw", hnsw)):
        ids = []
        for p in probes:
            t0 = time.perf_counter()
            _, i = idx.search(p.reshape(1, -1), 10)
            times[name].append(time.perf_counter() - t0)
            ids.append(set(i[0].tolist()))
        found[name] = ids
    recall = float(np.mean([len(a & b) / 10 for a, b in zip(found["flat"], found["hnsw"], strict=True)]))
    f50, _ = _ms(times["flat"])
    h50, _ = _ms(times["hnsw"])
    result.figures.update(hnsw_recall=recall, flat_p50_100k=f50, hnsw_p50_100k=h50)
    result.add(
        f"FAISS at {size // 1000}k (mixtures of real vectors): exact vs HNSW (M=32, efConstruction=100, efSearch=256)",
        f"exact p50 {f50:.1f} ms; HNSW p50 {h50:.2f} ms, build {build_s:.0f} s, recall@10 vs exact {recall:.3f}",
        "recall ≥ 0.98",
        recall >= TARGETS["hnsw_recall"],
    )


GROWTH_SIZES = (1_000, 10_000, 100_000, 1_000_000)


def write_scaled(index: Index, embedder: Embedder, index_dir: Path) -> int:
    """Write an in-memory index as a build on disk (the layout `rag index` writes); its size in bytes."""
    from rag.index.store import SCHEMA_VERSION, swap_in, write_build

    build = index_dir / "builds" / "bench"
    build.mkdir(parents=True)
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "build_id": "bench",
        "built_at": "bench",
        "model": {"id": embedder.model_id, "fingerprint": embedder.fingerprint, "dim": embedder.dim},
        "chunks": len(index.chunks),
    }
    units = (index.units, np.asarray(index.unit_vectors)) if index.units is not None and index.unit_vectors is not None else None
    write_build(
        build,
        manifest,
        list(index.documents.values()),
        index.chunks,
        index.vectors,
        index.facts,
        index.dense,
        index.bm25,
        index.chars,
        units,
    )
    swap_in(index_dir, build)
    return sum(f.stat().st_size for f in build.rglob("*") if f.is_file())


def serve_from_disk(index_dir: str, n_queries: int, models_dir: str) -> dict:
    """Run in a child process: load the model and an index from disk, answer JSQuAD questions
    through `Rag.ask`; report the load time, warm ask latency and the peak RSS."""
    from rag.embed.embedders import load_embedder
    from rag.index.store import load_index

    embedder = load_embedder("multilingual-e5-small", Path(models_dir))
    started = time.perf_counter()
    index = load_index(Path(index_dir), embedder)
    load_s = time.perf_counter() - started
    rag = Rag.over(Settings(models_dir=Path(models_dir)), index, embedder)
    questions = [q["question"] for q in _jsquad()[1][:n_queries]]
    for q in questions[:3]:
        rag.ask(q)
    times = []
    for q in questions:
        t0 = time.perf_counter()
        rag.ask(q)
        times.append(time.perf_counter() - t0)
    p50, p95 = _ms(times)
    return {"load_s": load_s, "p50": p50, "p95": p95, "peak_mb": _status_mb("VmHWM")}


def bench_growth(embedder: Embedder, base: BenchBase, sizes: tuple[int, ...], models_dir: Path, result: BenchResult) -> None:
    """Each size written to disk as `rag index` would, then served from it by a fresh process:
    disk, load time, warm ask latency and peak RSS. From 100k the vectors are random unit vectors
    (nobody has a million real plan passages; search cost depends on the count, not the content)."""
    import gc
    import shutil

    for size in sizes:
        index = scaled_index(embedder, size, base, size >= 100_000)
        folder = Path(tempfile.mkdtemp(prefix="rag-growth-"))
        try:
            disk = write_scaled(index, embedder, folder / "index")
            del index
            gc.collect()
            f = _in_child(f"serve_from_disk({str(folder / 'index')!r}, 50, {str(models_dir)!r})")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        label = f"{size // 1000}k" if size < 1_000_000 else f"{size // 1_000_000}M"
        result.figures.update(
            {f"growth_load_s_{size}": f["load_s"], f"growth_peak_mb_{size}": f["peak_mb"], f"growth_disk_mb_{size}": disk / 2**20}
        )
        result.add(
            f"growth, {label} chunks from disk" + (" (random unit vectors)" if size >= 100_000 else ""),
            f"disk {disk / 2**20:,.0f} MB; load {f['load_s']:.1f} s; ask p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f} ms; peak RSS {f['peak_mb']:,.0f} MB",
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_cold_starts(settings: Settings, result: BenchResult) -> None:
    env = {
        **os.environ,
        "RAG_INDEX": str(settings.index),
        "RAG_CORPUS": str(settings.corpus),
        "RAG_MODELS_DIR": str(settings.models_dir),
    }
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rag", "ask", "徳島県の2022年度の電子決裁の目標は？"], env=env, check=True, capture_output=True
    )
    ask_s = time.perf_counter() - started
    result.figures["ask_cold_start_s"] = ask_s
    result.add(
        "cold start: `rag ask` (process start to answer)",
        f"{ask_s:.1f} s",
        f"≤ {TARGETS['ask_cold_start_s']:g} s",
        ask_s <= TARGETS["ask_cold_start_s"],
    )
    app = Path(__file__).resolve().parents[2] / "app.py"
    if not app.exists():
        return
    port = _free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(app), "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while time.perf_counter() - started < 120:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        app_s = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    result.figures["app_cold_start_s"] = app_s
    result.add(
        "cold start: app (process start to first page)",
        f"{app_s:.1f} s",
        f"≤ {TARGETS['app_cold_start_s']:g} s",
        app_s <= TARGETS["app_cold_start_s"],
    )


def serve_rss(size: int, n_queries: int, models_dir: str) -> dict:
    """Run in a child process: load the model, serve `size` chunks, answer queries; report peak RSS."""
    from rag.embed.embedders import load_embedder

    embedder = load_embedder("multilingual-e5-small", Path(models_dir))
    settings = Settings(models_dir=Path(models_dir))
    base = bench_base(embedder, Rag(settings, embedder).index)
    index = scaled_index(embedder, size, base, False)
    _latencies(Rag.over(settings, index, embedder), base.questions[:n_queries])
    return {"rss_mb": _status_mb("VmRSS"), "peak_mb": _status_mb("VmHWM")}


def _status_mb(field: str) -> float:
    """This process's memory figure from /proc (VmHWM for the peak, not ru_maxrss: the latter keeps
    the forking parent's peak across exec)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split(f"{field}:")[1].split()[0]) / 1024


def _in_child(call: str) -> dict:
    """Run `rag.evaluation.bench.<call>` in a fresh Python process; its printed JSON."""
    code = f"import json; from rag.evaluation import bench; print(json.dumps(bench.{call}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_rss(settings: Settings, size: int, result: BenchResult) -> None:
    figures = _in_child(f"serve_rss({size}, 50, {str(settings.models_dir)!r})")
    rss, peak = figures["rss_mb"], figures["peak_mb"]
    result.figures.update(rss_mb=rss, peak_mb=peak)
    result.add(
        f"RSS while serving {size // 1000}k chunks, model loaded (peak since start)",
        f"{rss:.0f} MB ({peak:.0f} MB)",
        f"≤ {TARGETS['rss_10k_mb']} MB",
        peak <= TARGETS["rss_10k_mb"],
    )


def run_bench(rag: Rag, quick: bool = False, progress=print) -> BenchResult:
    from functools import cache

    result = BenchResult()
    embedder = rag.embedder

    @cache
    def base() -> BenchBase:  # the passages the latency and growth steps repeat, read once
        return bench_base(embedder, rag.index, 300 if quick else None)

    steps = [
        ("build", lambda: bench_build(embedder, rag.settings.corpus, result)),
        ("incremental", lambda: bench_incremental(embedder, 10 if quick else 50, result)),
        (
            "latency",
            lambda: bench_latency(rag, base(), [1000] if quick else [1000, 10_000, 100_000], 20 if quick else 100, result),
        ),
        ("rss", lambda: None if quick else bench_rss(rag.settings, 10_000, result)),
        (
            "growth",
            lambda: bench_growth(embedder, base(), (1_000,) if quick else GROWTH_SIZES, rag.settings.models_dir, result),
        ),
        ("cold starts", lambda: bench_cold_starts(rag.settings, result)),
    ]
    for name, step in steps:
        progress(f"bench: {name} …")
        step()
    return result


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def write_doc(result: BenchResult, path: Path, command: str) -> None:
    """Write the table at the top of `path`; the notes below it (its first "## " section on) are kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    notes = old[old.index("\n## ") :] if "\n## " in old else ""
    path.write_text(
        "# Benchmarks\n\n"
        f"Machine: {machine()}. Command: `{command}` (one run; `rag bench --quick` is the CI-sized version).\n\n"
        "Latencies are warm, per question, over JSQuAD questions; chunks beyond the 1,159 JSQuAD passages are\n"
        "repeats of them (vectors with small noise), and from 100k the vectors are random unit vectors.\n\n"
        + result.markdown()
        + "\n"
        + notes,
        encoding="utf-8",
    )

"""The index: a folder of plain files plus a manifest, built in a temporary
folder and swapped in atomically.

    index/current -> builds/<build id>/   (a symlink, replaced atomically)
    index/builds/<build id>/manifest.json   schema, model, settings, documents, failures
                            documents.json  one record per document
                            chunks.jsonl    one chunk per line
                            vectors.npy     float32 [n_chunks, dim], no pickle
                            units.npy       int32 [n_sentences, 3]: chunk row, start, end of each sentence
                            unit_vectors.npy float16 [n_sentences, dim] (zeros for sentences too short to embed)
                            dense.faiss     FAISS inner-product index over vectors
                            bm25/           bm25s files (npy + json) over fugashi words
                            bm25_chars/     bm25s files over character bigrams (rag.lang.tokenize.char_bigrams)

Unchanged documents keep their chunks and vectors; only new or changed text is embedded.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from rag.embed.embedders import Embedder
from rag.errors import IndexMismatchError, IndexNotFoundError, IngestError, RagError
from rag.facts.extract import Fact, extract_facts
from rag.index.bm25 import SavedBM25
from rag.ingest.chunk import ChunkSettings, chunk_document
from rag.ingest.documents import IngestFailure, OcrOptions, document_hash, load_metadata, read_document, scan_corpus
from rag.lang.eras import year_token, years_in
from rag.lang.prefectures import ENGLISH
from rag.lang.segment import split_units
from rag.lang.tokenize import char_bigrams, tokenize
from rag.stopwatch import Stopwatch
from rag.types import Chunk, Document, DocumentMeta

SCHEMA_VERSION = 2
# Bump when ingest, normalisation, chunking or fact extraction change what an index holds.
PIPELINE_VERSION = 8  # 6: chunk overlap, facts once per chunk, prefecture from a title; 7, 8: OCR
KEEP_BUILDS = 2


@dataclass(frozen=True)
class DocRecord:
    doc_id: str
    content_hash: str
    meta: DocumentMeta
    pages: int
    chunks: int
    warnings: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return self.meta.title or self.doc_id

    @property
    def prefecture(self) -> str | None:
        return self.meta.prefecture

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> DocRecord:
        return cls(
            d["doc_id"], d["content_hash"], DocumentMeta(**d["meta"]), d["pages"], d["chunks"], tuple(d.get("warnings", ()))
        )


@dataclass(frozen=True)
class BuildReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[IngestFailure] = field(default_factory=list)
    kept_previous: list[str] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0
    embedded_sentences: int = 0
    seconds: float = 0.0
    path: str = ""
    profile: dict[str, float] = field(default_factory=dict)  # seconds per stage

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def passage_text(chunk: Chunk, record: DocRecord) -> str:
    """What the embedder sees: where the passage comes from, then the passage."""
    head = " ".join(x for x in (record.prefecture, record.title, chunk.heading) if x)
    return f"{head}\n{chunk.search_text}" if head else chunk.search_text


def _head(chunk: Chunk, record: DocRecord) -> str:
    return " ".join(x for x in (record.prefecture, record.title, chunk.heading) if x)


def bm25_tokens(chunk: Chunk, record: DocRecord) -> list[str]:
    tokens = tokenize(chunk.search_text)
    tokens += tokenize(_head(chunk, record))
    if record.prefecture:
        tokens.append(ENGLISH[record.prefecture].lower())
    tokens += [year_token(y) for y in chunk.years]
    return tokens


def bigram_tokens(chunk: Chunk, record: DocRecord) -> list[str]:
    return char_bigrams(chunk.search_text) + char_bigrams(_head(chunk, record))


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class Index:
    path: Path
    manifest: dict
    documents: dict[str, DocRecord]
    chunks: list[Chunk]
    vectors: np.ndarray
    dense: object  # faiss.Index
    bm25: object  # rag.index.bm25.SavedBM25 when loaded, bm25s.BM25 when built in memory (same get_scores)
    facts: list[Fact] = field(default_factory=list)
    units: np.ndarray | None = None  # [n_sentences, 3] chunk row, start, end (None: built before sentences had vectors)
    unit_vectors: np.ndarray | None = None
    chars: object | None = None  # the same over character bigrams (None: built before it existed)

    @property
    def prefectures(self) -> list[str]:
        return sorted({d.prefecture for d in self.documents.values() if d.prefecture})

    def record(self, doc_id: str) -> DocRecord:
        return self.documents[doc_id]

    def chunk(self, chunk_id: str) -> Chunk:
        by_id = self.__dict__.get("_chunk_by_id")
        if by_id is None:
            by_id = self.__dict__["_chunk_by_id"] = {c.chunk_id: c for c in self.chunks}
        return by_id[chunk_id]


def _resolve(index_dir: Path) -> Path:
    if (index_dir / "manifest.json").exists():
        return index_dir
    current = index_dir / "current"
    if current.exists() and (current / "manifest.json").exists():
        return current.resolve()
    raise IndexNotFoundError(f"no index in {index_dir}: run `rag index` first (it builds one from corpus/)")


def read_manifest(index_dir: Path) -> dict:
    path = _resolve(index_dir)
    try:
        return json.loads((path / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise IndexMismatchError(f"{path}/manifest.json is unreadable ({e}): run `rag index --rebuild`") from e


def _short(fingerprint: str) -> str:
    """Enough of a model fingerprint to tell two apart: the weights' digest, and the runtime's export."""
    weights, _, runtime = fingerprint.partition("+")
    return f"{weights[:24]}…" + (f" on {runtime}" if runtime else " on torch")


def load_index(index_dir: Path, embedder: Embedder | None = None) -> Index:
    """Load an index, checking its schema and that it was built with `embedder`'s model."""
    import faiss

    path = _resolve(index_dir)
    manifest = read_manifest(path)
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise IndexMismatchError(
            f"index {path} has schema version {manifest.get('schema_version')}, this version reads {SCHEMA_VERSION}: "
            "run `rag index --rebuild`"
        )
    if embedder is not None:
        m = manifest["model"]
        if m["fingerprint"] != embedder.fingerprint or m["dim"] != embedder.dim:
            raise IndexMismatchError(
                f"index {path} was built with model {m['id']!r} ({_short(m['fingerprint'])}, dim {m['dim']}) but the "
                f"configured model is {embedder.model_id!r} ({_short(embedder.fingerprint)}, dim {embedder.dim}): "
                "run `rag index --rebuild` or set RAG_MODEL / RAG_BACKEND back"
            )
    _check_sizes(path, manifest)
    dim = manifest["model"]["dim"]
    with _reading(path, "documents.json"):
        documents = {
            d["doc_id"]: DocRecord.from_dict(d) for d in json.loads((path / "documents.json").read_text(encoding="utf-8"))
        }
    with _reading(path, "chunks.jsonl"), (path / "chunks.jsonl").open(encoding="utf-8") as f:
        chunks = [Chunk.from_dict(json.loads(line)) for line in f if line.strip()]
    with _reading(path, "vectors.npy"):
        vectors = np.load(path / "vectors.npy", allow_pickle=False)
    _expect(
        path, "chunks.jsonl", len(chunks) == manifest["chunks"], f"{len(chunks)} chunks, the manifest says {manifest['chunks']}"
    )
    _expect(
        path,
        "vectors.npy",
        vectors.ndim == 2 and vectors.shape == (len(chunks), dim),
        f"shape {vectors.shape}, expected ({len(chunks)}, {dim})",
    )
    with _reading(path, "dense.faiss"):
        dense = faiss.read_index(str(path / "dense.faiss"))
    _expect(path, "dense.faiss", dense.ntotal == len(chunks) and dense.d == dim, f"{dense.ntotal} vectors of dim {dense.d}")
    with _reading(path, "bm25"):
        bm25 = SavedBM25(path / "bm25") if chunks else None
    if bm25 is not None:
        _expect(path, "bm25", int(bm25.scores["num_docs"]) == len(chunks), f"{bm25.scores['num_docs']} documents")
    chars = None
    if chunks and (path / "bm25_chars").exists():
        with _reading(path, "bm25_chars"):
            chars = SavedBM25(path / "bm25_chars")
        _expect(path, "bm25_chars", int(chars.scores["num_docs"]) == len(chunks), f"{chars.scores['num_docs']} documents")
    with _reading(path, "facts.jsonl"), (path / "facts.jsonl").open(encoding="utf-8") as f:
        facts = [Fact.from_dict(json.loads(line)) for line in f if line.strip()]
    units = unit_vectors = None
    if (path / "units.npy").exists() or (path / "unit_vectors.npy").exists():
        with _reading(path, "units.npy"):
            units = np.load(path / "units.npy", allow_pickle=False)
        with _reading(path, "unit_vectors.npy"):
            unit_vectors = np.load(path / "unit_vectors.npy", allow_pickle=False, mmap_mode="r")
        ok = units.ndim == 2 and units.shape[1:] == (3,) and len(units) == len(unit_vectors) and unit_vectors.shape[1:] == (dim,)
        _expect(path, "units.npy", ok and (not len(units) or units[:, 0].max() < len(chunks)), "does not match unit_vectors.npy")
    return Index(path, manifest, documents, chunks, vectors, dense, bm25, facts, units, unit_vectors, chars)


INDEX_FILES = ("documents.json", "chunks.jsonl", "vectors.npy", "dense.faiss", "facts.jsonl", "units.npy", "unit_vectors.npy")


def _damaged(path: Path, name: str, why: str) -> IndexMismatchError:
    return IndexMismatchError(f"index file {path / name} is damaged ({why}): run `rag index --rebuild`")


@contextmanager
def _reading(path: Path, name: str) -> Iterator[None]:
    """Any failure reading one index file becomes one line naming it."""
    try:
        yield
    except IndexMismatchError:
        raise
    except FileNotFoundError as e:
        raise _damaged(path, name, "missing") from e
    except Exception as e:
        raise _damaged(path, name, f"{e.__class__.__name__}: {str(e)[:120]}") from e


def _expect(path: Path, name: str, ok: bool, why: str) -> None:
    if not ok:
        raise _damaged(path, name, why)


def _file_records(path: Path) -> dict[str, dict]:
    """Size and hash of every file of a build, for the manifest."""
    out = {}
    for f in sorted(p for p in path.rglob("*") if p.is_file() and p.name != "manifest.json"):
        data = f.read_bytes()
        out[f.relative_to(path).as_posix()] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return out


def _check_sizes(path: Path, manifest: dict) -> None:
    """Cheap on every load: each file the manifest lists is there with its size."""
    for name, rec in (manifest.get("files") or {}).items():
        f = path / name
        if not f.exists():
            raise _damaged(path, name, "missing")
        if f.stat().st_size != rec["bytes"]:
            raise _damaged(path, name, f"{f.stat().st_size} bytes, the manifest says {rec['bytes']}")


def _changed_files(path: Path, manifest: dict) -> list[str]:
    """Files whose content no longer hashes to what the manifest recorded (same size, other bytes)."""
    changed = []
    for name, rec in (manifest.get("files") or {}).items():
        f = path / name
        if f.exists() and hashlib.sha256(f.read_bytes()).hexdigest() != rec["sha256"]:
            changed.append(name)
    return changed


def verify_index(index_dir: Path, embedder: Embedder | None = None) -> list[str]:
    """Thorough: every file's hash against the manifest, then a full load. The problems found, one line each."""
    try:
        path = _resolve(index_dir)
        manifest = read_manifest(path)
    except RagError as e:
        return [str(e)]
    problems = [str(_damaged(path, name, "its content changed since the build")) for name in _changed_files(path, manifest)]
    try:
        load_index(path, embedder)
    except RagError as e:
        problems.append(str(e))
    return list(dict.fromkeys(problems))


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise RagError(f"another build of {index_dir} is running; try again when it ends") from e
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _previous(index_dir: Path, embedder: Embedder) -> Index | None:
    """The current build, if it was made with this model and is whole: its vectors can be reused.
    A build is rare next to loads, so here every file is also checked against its hash: a damaged
    build (even one whose sizes still match) is not reused, and the new build replaces it."""
    try:
        old = load_index(index_dir, embedder)
        if _changed_files(_resolve(index_dir), old.manifest):
            return None
        return old
    except (IndexNotFoundError, IndexMismatchError):
        return None
    except (OSError, ValueError, KeyError, RuntimeError):
        return None  # a damaged old build is simply not reused


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


def in_memory_index(
    records: list[DocRecord],
    chunks: list[Chunk],
    vectors: np.ndarray,
    dim: int,
    units: tuple[np.ndarray, np.ndarray] | None = None,
) -> Index:
    """An Index that lives only in memory (benchmarks, tests)."""
    by_id = {r.doc_id: r for r in records}
    manifest = {"schema_version": SCHEMA_VERSION, "chunks": len(chunks), "built_at": "in memory"}
    facts = document_facts(chunks, by_id)
    spans, unit_vectors = units if units is not None else (None, None)
    return Index(
        Path("."),
        manifest,
        by_id,
        chunks,
        vectors,
        make_dense(vectors, dim),
        make_bm25(chunks, by_id),
        facts,
        spans,
        unit_vectors,
        make_bigram_bm25(chunks, by_id),
    )


def document_facts(chunks: list[Chunk], records: dict[str, DocRecord]) -> list[Fact]:
    by_doc: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    facts = []
    for doc_id, doc_chunks in by_doc.items():
        meta = records[doc_id].meta
        years = years_in(unicodedata.normalize("NFKC", meta.fiscal_year or meta.date or ""))
        facts += [
            replace(f, words=tuple(dict.fromkeys(tokenize(f"{f.indicator} {f.label or ''}"))))
            for f in extract_facts(doc_chunks, years[0] if years else None)
        ]
    return facts


MIN_UNIT_CHARS = 8  # shorter sentences (a mark, a number, a word) are not embedded


def sentence_vectors(
    chunks: list[Chunk], embedder: Embedder, old: Index | None = None, progress: ProgressFn | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Spans and vectors of every sentence of `chunks` (see rag.lang.segment), reusing the previous
    build's vectors for unchanged sentences; returns (units, vectors, number embedded)."""
    spans: list[tuple[int, int, int]] = []
    texts: list[str] = []
    for row, c in enumerate(chunks):
        for u in split_units(c.text):
            spans.append((row, u.start, u.end))
            texts.append(u.text)
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float16)
    cached: dict[str, np.ndarray] = {}
    if old is not None and old.units is not None and old.unit_vectors is not None:
        for (row, start, end), vec in zip(old.units, old.unit_vectors, strict=True):
            cached[_text_key(old.chunks[row].text[start:end])] = vec
    todo = []
    for i, (row, start, end) in enumerate(spans):
        if len(texts[i]) < MIN_UNIT_CHARS:
            continue
        hit = cached.get(_text_key(chunks[row].text[start:end]))
        if hit is not None:
            vectors[i] = hit
        else:
            todo.append(i)
    # a sentence two overlapping chunks share is embedded once
    rows_of: dict[str, list[int]] = {}
    for i in todo:
        rows_of.setdefault(texts[i], []).append(i)
    unique = sorted(rows_of, key=len)
    batch = 128
    for start in range(0, len(unique), batch):
        if progress:
            progress("sentences", start, len(unique))
        part = unique[start : start + batch]
        for text, vec in zip(part, embedder.embed_passages(part).astype(np.float16), strict=True):
            vectors[rows_of[text]] = vec
    if progress:
        progress("sentences", len(unique), len(unique))
    return np.array(spans, dtype=np.int32).reshape(-1, 3), vectors, len(unique)


def _write_build(
    target: Path,
    manifest: dict,
    records: list[DocRecord],
    chunks: list[Chunk],
    vectors: np.ndarray,
    dim: int,
    units: tuple[np.ndarray, np.ndarray] | None = None,
    bm25_params: BM25Params | None = None,
    watch: Stopwatch | None = None,
) -> None:
    import faiss

    watch = watch or Stopwatch()

    if units is not None:
        np.save(target / "units.npy", units[0], allow_pickle=False)
        np.save(target / "unit_vectors.npy", units[1], allow_pickle=False)
    (target / "documents.json").write_text(
        json.dumps([r.to_dict() for r in records], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    with (target / "chunks.jsonl").open("w", encoding="utf-8") as f:
        for c in chunks:
            f.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
    np.save(target / "vectors.npy", vectors, allow_pickle=False)
    with watch.stage("facts"), (target / "facts.jsonl").open("w", encoding="utf-8") as f:
        for fact in document_facts(chunks, {r.doc_id: r for r in records}):
            f.write(json.dumps(fact.to_dict(), ensure_ascii=False) + "\n")
    with watch.stage("dense index"):
        faiss.write_index(make_dense(vectors, dim), str(target / "dense.faiss"))
    with watch.stage("bm25 (tokenize, index)"):
        bm25 = make_bm25(chunks, {r.doc_id: r for r in records}, bm25_params)
        if bm25 is not None:
            bm25.save(str(target / "bm25"), show_progress=False)
    with watch.stage("bm25 (character bigrams)"):
        chars = make_bigram_bm25(chunks, {r.doc_id: r for r in records}, bm25_params)
        if chars is not None:
            chars.save(str(target / "bm25_chars"), show_progress=False)
    manifest = {**manifest, "files": _file_records(target)}
    (target / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def _swap_in(index_dir: Path, build: Path) -> None:
    link = index_dir / "current"
    tmp_link = index_dir / f".current-{os.getpid()}"
    if tmp_link.exists() or tmp_link.is_symlink():
        tmp_link.unlink()
    tmp_link.symlink_to(build.relative_to(index_dir))
    os.replace(tmp_link, link)  # atomic: readers see the old build or the new one, never neither
    builds = sorted((p for p in (index_dir / "builds").iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in builds[:-KEEP_BUILDS]:
        if old.resolve() != build.resolve():
            shutil.rmtree(old, ignore_errors=True)


ProgressFn = Callable[[str, int, int], None]


def _with_ocr_pages(seconds: dict[str, float], pages: int) -> dict[str, float]:
    """The profile with OCR as its own stage (not also inside reading), per page read."""
    out = dict(seconds)
    if "ocr" in out:
        spent = out.pop("ocr")
        out["read (extract, grids)"] = max(0.0, out.get("read (extract, grids)", 0.0) - spent)
        per_page = f", {spent / pages:.2f} s/page" if pages else ""
        out[f"ocr ({pages} pages{per_page})"] = spent
    return out


def build_index(
    corpus: Path,
    index_dir: Path,
    embedder: Embedder,
    chunk_settings: ChunkSettings | None = None,
    rebuild: bool = False,
    progress: ProgressFn | None = None,
    bm25_params: BM25Params | None = None,
    ocr: str = "auto",
) -> BuildReport:
    """Build or update the index at `index_dir` from the files in `corpus`.

    Files that can't be read are reported in `BuildReport.failed`; the others are
    indexed. A document that indexed before but now fails keeps its previous version.
    """
    started = time.perf_counter()
    watch = Stopwatch()
    chunk_settings = chunk_settings or ChunkSettings()
    bm25_params = bm25_params or BM25Params()
    OcrOptions(ocr)  # an unknown mode is refused before anything is read
    settings = {"chunk": asdict(chunk_settings), "bm25": asdict(bm25_params), "pipeline": PIPELINE_VERSION, "ocr": ocr}
    with _build_lock(index_dir):
        metadata = load_metadata(corpus)
        sources, skipped = scan_corpus(corpus)
        old = None if rebuild else _previous(index_dir, embedder)
        # other chunking settings or pipeline code: re-read every document (vectors of unchanged text are still reused)
        same_pipeline = old is not None and old.manifest.get("settings") == settings
        old_chunks: dict[str, list[tuple[Chunk, np.ndarray]]] = {}
        old_vectors: dict[str, np.ndarray] = {}
        if old is not None:
            for i, c in enumerate(old.chunks):
                old_chunks.setdefault(c.doc_id, []).append((c, old.vectors[i]))
                old_vectors[_text_key(passage_text(c, old.documents[c.doc_id]))] = old.vectors[i]
        old_docs = old.documents if old else {}

        report = BuildReport()
        ocr_pages = 0
        records: list[DocRecord] = []
        doc_chunks: dict[str, list[Chunk]] = {}
        reused_vectors: dict[str, np.ndarray] = {}

        def keep(prev: DocRecord) -> None:
            """Carry a document over from the previous build, chunks and vectors as they were."""
            records.append(prev)
            doc_chunks[prev.doc_id] = [c for c, _ in old_chunks.get(prev.doc_id, [])]
            for c, v in old_chunks.get(prev.doc_id, []):
                reused_vectors[c.chunk_id] = v

        for n, source in enumerate(sources):
            if progress:
                progress("read", n, len(sources))
            meta = metadata.get(source.doc_id)
            content_hash = document_hash(source.file_hash, meta or DocumentMeta())
            prev = old_docs.get(source.doc_id)
            if prev is not None and prev.content_hash == content_hash and same_pipeline:
                keep(prev)
                report.unchanged.append(source.doc_id)
                continue
            try:
                on_page = (lambda i, total: progress("pages", i, total)) if progress else None
                on_ocr = (lambda i, total: progress("ocr", i, total)) if progress else None
                options = OcrOptions(ocr, on_ocr, watch)
                with watch.stage("read (extract, grids)"):
                    doc: Document = read_document(source, meta, on_page, ocr=options)
                with watch.stage("chunk (normalise, split)"):
                    chunks = chunk_document(doc, chunk_settings)
            except Exception as e:
                reason = e.reason if isinstance(e, IngestError) else f"could not be read ({e.__class__.__name__}: {e})"
                report.failed.append(IngestFailure(source.doc_id, reason[:300]))
                if prev is not None:
                    keep(prev)
                    report.kept_previous.append(source.doc_id)
                continue
            ocr_pages += sum(1 for p in doc.pages if p.ocr)
            records.append(DocRecord(doc.doc_id, doc.content_hash, doc.meta, len(doc.pages), len(chunks), doc.warnings))
            doc_chunks[doc.doc_id] = chunks
            if prev is not None and prev.content_hash == content_hash:
                report.unchanged.append(doc.doc_id)
            else:
                (report.updated if prev is not None else report.added).append(doc.doc_id)
        report.failed.extend(skipped)
        present = {s.doc_id for s in sources}
        report.removed.extend(sorted(d for d in old_docs if d not in present))
        if progress:
            progress("read", len(sources), len(sources))

        by_id = {r.doc_id: r for r in records}
        all_chunks = [c for r in records for c in doc_chunks[r.doc_id]]
        vectors = np.zeros((len(all_chunks), embedder.dim), dtype=np.float32)
        todo: list[int] = []
        for i, c in enumerate(all_chunks):
            if c.chunk_id in reused_vectors:
                vectors[i] = reused_vectors[c.chunk_id]
                continue
            cached = old_vectors.get(_text_key(passage_text(c, by_id[c.doc_id])))
            if cached is not None:
                vectors[i] = cached
            else:
                todo.append(i)
        # one length-sorted pass, as SentenceTransformer.encode itself does, so batches pad little
        todo.sort(key=lambda i: len(passage_text(all_chunks[i], by_id[all_chunks[i].doc_id])))
        batch = 64
        for start in range(0, len(todo), batch):
            if progress:
                progress("embed", start, len(todo))
            idx = todo[start : start + batch]
            with watch.stage("embed passages"):
                vectors[idx] = embedder.embed_passages([passage_text(all_chunks[i], by_id[all_chunks[i].doc_id]) for i in idx])
        if progress:
            progress("embed", len(todo), len(todo))

        if (
            old is not None
            and same_pipeline
            and not report.changed
            and not rebuild
            and old.units is not None
            and (old.chars is not None or not old.chunks)
            and [asdict(f) for f in report.failed] == old.manifest.get("failures")
        ):
            return _finish(report, started, all_chunks, 0, old.path, watch=watch)
        with watch.stage("embed sentences"):
            unit_spans, unit_vectors, n_sentences = sentence_vectors(all_chunks, embedder, old, progress)

        built_at = datetime.now(UTC)
        build_id = built_at.strftime("%Y%m%dT%H%M%S%fZ")
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "build_id": build_id,
            "built_at": built_at.isoformat(),
            "model": {"id": embedder.model_id, "fingerprint": embedder.fingerprint, "dim": embedder.dim},
            "settings": settings,
            "corpus": str(corpus),
            "chunks": len(all_chunks),
            "documents": {r.doc_id: r.content_hash for r in records},
            "failures": [asdict(f) for f in report.failed],
            "versions": _versions(),
        }
        (index_dir / "builds").mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=index_dir / "builds"))
        try:
            _write_build(
                tmp, manifest, records, all_chunks, vectors, embedder.dim, (unit_spans, unit_vectors), bm25_params, watch
            )
            final = index_dir / "builds" / build_id
            tmp.rename(final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _swap_in(index_dir, final)
        watch.seconds = _with_ocr_pages(watch.seconds, ocr_pages)
        return _finish(report, started, all_chunks, len(todo), final, n_sentences, watch)


def _finish(
    report: BuildReport,
    started: float,
    chunks: list[Chunk],
    embedded: int,
    path: Path,
    sentences: int = 0,
    watch: Stopwatch | None = None,
) -> BuildReport:
    return BuildReport(
        report.added,
        report.updated,
        report.removed,
        report.unchanged,
        report.failed,
        report.kept_previous,
        chunks=len(chunks),
        embedded=embedded,
        embedded_sentences=sentences,
        seconds=time.perf_counter() - started,
        path=str(path),
        profile=dict(watch.seconds) if watch else {},
    )


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("rag", "sentence-transformers", "faiss-cpu", "bm25s", "fugashi", "unidic-lite"):
        with suppress(PackageNotFoundError):
            out[pkg] = version(pkg)
    return out

"""`rag index`: plan -> read and chunk -> reuse -> embed -> write, each a small step.

Unchanged documents keep their chunks and vectors; only new or changed text is embedded. A file
that cannot be read is reported and, when it indexed before, keeps its previous version. The new
build is written beside the current one and swapped in atomically (`rag.index.store`)."""

from __future__ import annotations

import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from rag.embed.embedders import Embedder
from rag.errors import IndexMismatchError, IndexNotFoundError, IngestError
from rag.facts.extract import extract_facts
from rag.index import store
from rag.index.backends import BM25Params, make_bigram_bm25, make_bm25, make_dense
from rag.index.store import SCHEMA_VERSION, Index
from rag.index.text import passage_text, text_key
from rag.ingest.chunk import ChunkSettings, chunk_document
from rag.ingest.documents import IngestFailure, OcrOptions, SourceFile, document_hash, load_metadata, read_document, scan_corpus
from rag.lang.eras import years_in
from rag.lang.segment import split_units
from rag.lang.tokenize import tokenize
from rag.stopwatch import Stopwatch
from rag.types import Chunk, DocRecord, Document, DocumentMeta, Fact

# Bump when ingest, normalisation, chunking or fact extraction change what an index holds.
# 6: chunk overlap, facts once per chunk, prefecture from a title; 7, 8: OCR; 9-15: year rules, budget lists, baselines and project names;
# 16: 令和3(2021)年度 and full-width years read as years; 17: '21年度 and FY21
PIPELINE_VERSION = 17
MIN_UNIT_CHARS = 8  # shorter sentences (a mark, a number, a word) are not embedded

ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BuildReport:
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    failed: tuple[IngestFailure, ...] = ()
    kept_previous: tuple[str, ...] = ()
    chunks: int = 0
    embedded: int = 0
    embedded_sentences: int = 0
    seconds: float = 0.0
    path: str = ""
    profile: dict[str, float] = field(default_factory=dict)  # seconds per stage

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass
class _Changes:
    """What a build found, collected while it reads; frozen into a BuildReport at the end."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[IngestFailure] = field(default_factory=list)
    kept_previous: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def report(self, **figures) -> BuildReport:
        lists = {k: tuple(v) for k, v in asdict(self).items()}
        lists["failed"] = tuple(self.failed)
        return BuildReport(**lists, **figures)


@dataclass
class _Previous:
    """The current build, when its vectors can be reused: by document and by passage text."""

    index: Index | None
    same_pipeline: bool
    chunks: dict[str, list[tuple[Chunk, np.ndarray]]] = field(default_factory=dict)
    vectors_by_text: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def documents(self) -> dict[str, DocRecord]:
        return self.index.documents if self.index else {}


@dataclass
class _Read:
    """The documents of the new build, in corpus order, with their chunks."""

    records: list[DocRecord] = field(default_factory=list)
    chunks: dict[str, list[Chunk]] = field(default_factory=dict)
    reused_vectors: dict[str, np.ndarray] = field(default_factory=dict)  # chunk id -> vector
    ocr_pages: int = 0

    def keep(self, prev: DocRecord, previous: _Previous) -> None:
        """Carry a document over from the previous build, chunks and vectors as they were."""
        self.records.append(prev)
        self.chunks[prev.doc_id] = [c for c, _ in previous.chunks.get(prev.doc_id, [])]
        for c, v in previous.chunks.get(prev.doc_id, []):
            self.reused_vectors[c.chunk_id] = v

    def all_chunks(self) -> list[Chunk]:
        return [c for r in self.records for c in self.chunks[r.doc_id]]


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
    with store.build_lock(index_dir):
        sources, skipped = scan_corpus(corpus)
        previous = _plan(index_dir, embedder, rebuild, settings)
        changes = _Changes()
        read = _read_all(sources, load_metadata(corpus), previous, changes, chunk_settings, ocr, progress, watch)
        changes.failed.extend(skipped)
        present = {s.doc_id for s in sources}
        changes.removed.extend(sorted(d for d in previous.documents if d not in present))

        all_chunks = read.all_chunks()
        by_id = {r.doc_id: r for r in read.records}
        vectors, embedded = _embed_chunks(all_chunks, by_id, read, previous, embedder, progress, watch)

        def finish(path: Path, sentences: int = 0) -> BuildReport:
            return changes.report(
                chunks=len(all_chunks),
                embedded=embedded,
                embedded_sentences=sentences,
                seconds=time.perf_counter() - started,
                path=str(path),
                profile=dict(watch.seconds),
            )

        old = previous.index
        if old is not None and not rebuild and _nothing_to_write(old, previous, changes):
            return finish(old.path)
        with watch.stage("embed sentences"):
            unit_spans, unit_vectors, n_sentences = sentence_vectors(all_chunks, embedder, old, progress)
        manifest = _manifest(corpus, embedder, settings, read.records, all_chunks, changes)
        final = _write(
            index_dir, manifest, read.records, all_chunks, vectors, (unit_spans, unit_vectors), embedder.dim, bm25_params, watch
        )
        store.swap_in(index_dir, final)
        watch.seconds = _with_ocr_pages(watch.seconds, read.ocr_pages)
        return finish(final, n_sentences)


def _plan(index_dir: Path, embedder: Embedder, rebuild: bool, settings: dict) -> _Previous:
    old = None if rebuild else _reusable(index_dir, embedder)
    # other chunking settings or pipeline code: re-read every document (vectors of unchanged text are still reused)
    previous = _Previous(old, old is not None and old.manifest.get("settings") == settings)
    if old is not None:
        for i, c in enumerate(old.chunks):
            previous.chunks.setdefault(c.doc_id, []).append((c, old.vectors[i]))
            previous.vectors_by_text[text_key(passage_text(c, old.documents[c.doc_id]))] = old.vectors[i]
    return previous


def _reusable(index_dir: Path, embedder: Embedder) -> Index | None:
    """The current build, if it was made with this model and is whole: its vectors can be reused.
    A build is rare next to loads, so here every file is also checked against its hash: a damaged
    build (even one whose sizes still match) is not reused, and the new build replaces it."""
    try:
        old = store.load_index(index_dir, embedder)
        if store.changed_files(store.resolve(index_dir), old.manifest):
            return None
        return old
    except (IndexNotFoundError, IndexMismatchError):
        return None
    except (OSError, ValueError, KeyError, RuntimeError):
        return None  # a damaged old build is simply not reused


def _read_all(
    sources: list[SourceFile],
    metadata: dict[str, DocumentMeta],
    previous: _Previous,
    changes: _Changes,
    chunk_settings: ChunkSettings,
    ocr: str,
    progress: ProgressFn | None,
    watch: Stopwatch,
) -> _Read:
    read = _Read()
    for n, source in enumerate(sources):
        if progress:
            progress("read", n, len(sources))
        meta = metadata.get(source.doc_id)
        content_hash = document_hash(source.file_hash, meta or DocumentMeta())
        prev = previous.documents.get(source.doc_id)
        if prev is not None and prev.content_hash == content_hash and previous.same_pipeline:
            read.keep(prev, previous)
            changes.unchanged.append(source.doc_id)
            continue
        try:
            on_page = (lambda i, total: progress("pages", i, total)) if progress else None
            on_ocr = (lambda i, total: progress("ocr", i, total)) if progress else None
            with watch.stage("read (extract, grids)"):
                doc: Document = read_document(source, meta, on_page, ocr=OcrOptions(ocr, on_ocr, watch))
            with watch.stage("chunk (normalise, split)"):
                chunks = chunk_document(doc, chunk_settings)
        except Exception as e:
            reason = e.reason if isinstance(e, IngestError) else f"could not be read ({e.__class__.__name__}: {e})"
            changes.failed.append(IngestFailure(source.doc_id, reason[:300]))
            if prev is not None:
                read.keep(prev, previous)
                changes.kept_previous.append(source.doc_id)
            continue
        read.ocr_pages += sum(1 for p in doc.pages if p.ocr)
        read.records.append(DocRecord(doc.doc_id, doc.content_hash, doc.meta, len(doc.pages), len(chunks), doc.warnings))
        read.chunks[doc.doc_id] = chunks
        if prev is not None and prev.content_hash == content_hash:
            changes.unchanged.append(doc.doc_id)
        else:
            (changes.updated if prev is not None else changes.added).append(doc.doc_id)
    if progress:
        progress("read", len(sources), len(sources))
    return read


def _embed_chunks(
    chunks: list[Chunk],
    by_id: dict[str, DocRecord],
    read: _Read,
    previous: _Previous,
    embedder: Embedder,
    progress: ProgressFn | None,
    watch: Stopwatch,
) -> tuple[np.ndarray, int]:
    """Vectors for every chunk: reused where the chunk or its passage text is unchanged, else embedded."""
    vectors = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
    todo: list[int] = []
    for i, c in enumerate(chunks):
        if c.chunk_id in read.reused_vectors:
            vectors[i] = read.reused_vectors[c.chunk_id]
            continue
        cached = previous.vectors_by_text.get(text_key(passage_text(c, by_id[c.doc_id])))
        if cached is not None:
            vectors[i] = cached
        else:
            todo.append(i)
    # one length-sorted pass, as SentenceTransformer.encode itself does, so batches pad little
    todo.sort(key=lambda i: len(passage_text(chunks[i], by_id[chunks[i].doc_id])))
    batch = 64
    for start in range(0, len(todo), batch):
        if progress:
            progress("embed", start, len(todo))
        idx = todo[start : start + batch]
        with watch.stage("embed passages"):
            vectors[idx] = embedder.embed_passages([passage_text(chunks[i], by_id[chunks[i].doc_id]) for i in idx])
    if progress:
        progress("embed", len(todo), len(todo))
    return vectors, len(todo)


def _nothing_to_write(old: Index, previous: _Previous, changes: _Changes) -> bool:
    """The current build already holds exactly this: same pipeline, no document changed, the same
    failures, and every file a current build has (sentences, character bigrams)."""
    return (
        previous.same_pipeline
        and not changes.changed
        and old.units is not None
        and (old.chars is not None or not old.chunks)
        and [asdict(f) for f in changes.failed] == old.manifest.get("failures")
    )


def _manifest(
    corpus: Path, embedder: Embedder, settings: dict, records: list[DocRecord], chunks: list[Chunk], changes: _Changes
) -> dict:
    built_at = datetime.now(UTC)
    return {
        "schema_version": SCHEMA_VERSION,
        "build_id": built_at.strftime("%Y%m%dT%H%M%S%fZ"),
        "built_at": built_at.isoformat(),
        "model": {"id": embedder.model_id, "fingerprint": embedder.fingerprint, "dim": embedder.dim},
        "settings": settings,
        "corpus": str(corpus),
        "chunks": len(chunks),
        "documents": {r.doc_id: r.content_hash for r in records},
        "failures": [asdict(f) for f in changes.failed],
        "versions": _versions(),
    }


def _write(
    index_dir: Path,
    manifest: dict,
    records: list[DocRecord],
    chunks: list[Chunk],
    vectors: np.ndarray,
    units: tuple[np.ndarray, np.ndarray],
    dim: int,
    bm25_params: BM25Params,
    watch: Stopwatch,
) -> Path:
    """Facts and search structures built, then all written into a temporary folder renamed to the build's id."""
    by_id = {r.doc_id: r for r in records}
    with watch.stage("facts"):
        facts = document_facts(chunks, by_id)
    with watch.stage("dense index"):
        dense = make_dense(vectors, dim)
    with watch.stage("bm25 (tokenize, index)"):
        bm25 = make_bm25(chunks, by_id, bm25_params)
    with watch.stage("bm25 (character bigrams)"):
        chars = make_bigram_bm25(chunks, by_id, bm25_params)
    (index_dir / "builds").mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=index_dir / "builds"))
    try:
        store.write_build(tmp, manifest, records, chunks, vectors, facts, dense, bm25, chars, units)
        final = index_dir / "builds" / manifest["build_id"]
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


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
    spans, unit_vectors = units if units is not None else (None, None)
    return Index(
        Path("."),
        manifest,
        by_id,
        chunks,
        vectors,
        make_dense(vectors, dim),
        make_bm25(chunks, by_id),
        document_facts(chunks, by_id),
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
            cached[text_key(old.chunks[row].text[start:end])] = vec
    todo = []
    for i, (row, start, end) in enumerate(spans):
        if len(texts[i]) < MIN_UNIT_CHARS:
            continue
        hit = cached.get(text_key(chunks[row].text[start:end]))
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


def _with_ocr_pages(seconds: dict[str, float], pages: int) -> dict[str, float]:
    """The profile with OCR as its own stage (not also inside reading), per page read."""
    out = dict(seconds)
    if "ocr" in out:
        spent = out.pop("ocr")
        out["read (extract, grids)"] = max(0.0, out.get("read (extract, grids)", 0.0) - spent)
        per_page = f", {spent / pages:.2f} s/page" if pages else ""
        out[f"ocr ({pages} pages{per_page})"] = spent
    return out


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("rag", "sentence-transformers", "faiss-cpu", "bm25s", "fugashi", "unidic-lite"):
        with suppress(PackageNotFoundError):
            out[pkg] = version(pkg)
    return out

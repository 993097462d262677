"""The index: a folder of plain files plus a manifest, built in a temporary
folder and swapped in atomically.

    index/current -> builds/<build id>/   (a symlink, replaced atomically)
    index/builds/<build id>/manifest.json   schema, model, settings, documents, failures
                            documents.json  one record per document
                            chunks.jsonl    one chunk per line
                            vectors.npy     float32 [n_chunks, dim], no pickle
                            units.npy       int32 [n_sentences, 3]: chunk row, start, end of each sentence
                            unit_vectors.npy float16 [n_sentences, dim] (zeros for sentences too short to embed)
                            facts.jsonl     one Fact per line (read out of the chunks by rag.facts)
                            dense.faiss     FAISS inner-product index over vectors
                            bm25/           bm25s files (npy + json) over fugashi words
                            bm25_chars/     bm25s files over character bigrams (rag.lang.tokenize.char_bigrams)

This module reads and writes that folder and nothing else: what goes in it (chunks, vectors, facts,
search structures) is built by `rag.index.build` and handed in.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rag.embed.embedders import Embedder
from rag.errors import IndexMismatchError, IndexNotFoundError, RagError
from rag.index.bm25 import SavedBM25
from rag.types import Chunk, DocRecord, Fact

SCHEMA_VERSION = 2
KEEP_BUILDS = 2


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

    def info(self) -> dict:
        """What the index holds, as `rag info`, the app and the eval reports show it."""
        m = self.manifest
        return {
            "path": str(self.path),
            "build_id": m.get("build_id", ""),
            "built_at": m["built_at"],
            "model": m["model"],
            "chunks": m["chunks"],
            "documents": [asdict(d) | {"title": d.title} for d in self.documents.values()],
            "prefectures": self.prefectures,
            "failures": m.get("failures", []),
            "settings": m.get("settings", {}),
        }


def resolve(index_dir: Path) -> Path:
    if (index_dir / "manifest.json").exists():
        return index_dir
    current = index_dir / "current"
    if current.exists() and (current / "manifest.json").exists():
        return current.resolve()
    raise IndexNotFoundError(f"no index in {index_dir}: run `rag index` first (it builds one from corpus/)")


def read_manifest(index_dir: Path) -> dict:
    path = resolve(index_dir)
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

    path = resolve(index_dir)
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


def changed_files(path: Path, manifest: dict) -> list[str]:
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
        path = resolve(index_dir)
        manifest = read_manifest(path)
    except RagError as e:
        return [str(e)]
    problems = [str(_damaged(path, name, "its content changed since the build")) for name in changed_files(path, manifest)]
    try:
        load_index(path, embedder)
    except RagError as e:
        problems.append(str(e))
    return list(dict.fromkeys(problems))


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
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


def write_build(
    target: Path,
    manifest: dict,
    records: list[DocRecord],
    chunks: list[Chunk],
    vectors: np.ndarray,
    facts: list[Fact],
    dense: object,
    bm25: object | None,
    chars: object | None,
    units: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """Write one build's files into `target`, then its manifest (with every file's size and hash)."""
    import faiss

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
    with (target / "facts.jsonl").open("w", encoding="utf-8") as f:
        for fact in facts:
            f.write(json.dumps(fact.to_dict(), ensure_ascii=False) + "\n")
    faiss.write_index(dense, str(target / "dense.faiss"))
    if bm25 is not None:
        bm25.save(str(target / "bm25"), show_progress=False)
    if chars is not None:
        chars.save(str(target / "bm25_chars"), show_progress=False)
    manifest = {**manifest, "files": _file_records(target)}
    (target / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def swap_in(index_dir: Path, build: Path) -> None:
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

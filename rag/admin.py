"""Admin actions behind the app: add uploaded plan files to the corpus safely.
Core code: raises RagError subclasses; the app turns them into messages."""

from __future__ import annotations

import hmac
import json
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError
from rag.ingest import MAX_FILE_BYTES, METADATA_FILE, SUPPORTED, file_hash, list_sources
from rag.prefectures import canonical


class UploadError(RagError):
    pass


class AdminAuthError(RagError):
    pass


@dataclass(frozen=True)
class UploadResult:
    doc_id: str
    duplicate_of: str | None = None  # an existing document with the same content

    @property
    def added(self) -> bool:
        return self.duplicate_of is None


def check_token(given: str | None, expected: str | None) -> None:
    if not expected:
        raise AdminAuthError("admin actions are turned off (RAG_ADMIN_TOKEN is not set)")
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise AdminAuthError("wrong admin token")


def safe_name(name: str) -> str:
    """A file name that stays inside the corpus: no folders, no '..', no control characters."""
    base = unicodedata.normalize("NFKC", Path(name.replace("\\", "/")).name).strip()
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^\w\-.()（）「」・ 　]+", "_", stem).strip(" ._") or "document"
    suffix = suffix.lower()
    return f"{stem[:120]}.{suffix}" if suffix else stem[:120]


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def add_upload(
    corpus: Path,
    upload: Path,
    original_name: str,
    prefecture: str | None = None,
    title: str | None = None,
    fiscal_year: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> UploadResult:
    """Copy an uploaded file into the corpus (and its metadata into metadata.toml)."""
    name = safe_name(original_name)
    suffix = Path(name).suffix
    if suffix not in SUPPORTED:
        raise UploadError(f"{original_name}: file type {suffix or '(none)'} is not accepted; allowed: {', '.join(SUPPORTED)}")
    size = upload.stat().st_size
    if size == 0:
        raise UploadError(f"{original_name}: the file is empty")
    if size > max_bytes:
        raise UploadError(f"{original_name}: {size / 2**20:.0f} MB is over the {max_bytes / 2**20:.0f} MB limit")
    pref = None
    if prefecture and prefecture.strip():
        pref = canonical(prefecture)
        if pref is None:
            raise UploadError(f"{prefecture!r} is not a prefecture")
    digest = file_hash(upload)
    for existing in list_sources(corpus):
        if existing.file_hash == digest:
            return UploadResult(existing.doc_id, duplicate_of=existing.doc_id)
    target = corpus / name
    n = 2
    while target.exists():
        target = corpus / f"{Path(name).stem}-{n}{suffix}"
        n += 1
    tmp = target.with_name(f".{target.name}.part")
    shutil.copyfile(upload, tmp)
    tmp.replace(target)
    entries = {"prefecture": pref, "title": (title or "").strip() or None, "fiscal_year": (fiscal_year or "").strip() or None}
    entries = {k: v for k, v in entries.items() if v}
    if entries:
        lines = [f"\n[documents.{_toml_string(target.name)}]"] + [f"{k} = {_toml_string(v)}" for k, v in entries.items()]
        with (corpus / METADATA_FILE).open("a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    return UploadResult(target.name)

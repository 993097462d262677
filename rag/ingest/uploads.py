"""Admin actions behind the app: add uploaded plan files to the corpus safely.
Core code: raises RagError subclasses; the app turns them into messages."""

from __future__ import annotations

import hmac
import json
import re
import shutil
import time
import tomllib
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.errors import RagError
from rag.ingest.documents import (
    MAX_FILE_BYTES,
    METADATA_FILE,
    NO_PREFECTURE,
    SUPPORTED,
    file_hash,
    list_sources,
    load_metadata,
    source_path,
)
from rag.lang.prefectures import canonical


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


WRONG_TOKEN_DELAY = 1.0  # seconds a wrong token costs: guessing stays slow (one try a second per worker)


def check_token(given: str | None, expected: str | None) -> None:
    if not expected:
        raise AdminAuthError("admin actions are turned off (RAG_ADMIN_TOKEN is not set)")
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        time.sleep(WRONG_TOKEN_DELAY)
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


NATIONAL, OTHER = NO_PREFECTURE


def issuer_fields(issuer: str | None) -> dict[str, str]:
    """Metadata for who issued a document: a prefecture (also its prefecture), 国 or その他
    (national and other documents have no prefecture), or nothing."""
    value = (issuer or "").strip()
    if not value:
        return {}
    if value in (NATIONAL, OTHER):
        return {"issuer": value}
    pref = canonical(value)
    if pref is None:
        raise UploadError(f"{value!r} is not a prefecture, {NATIONAL} or {OTHER}")
    return {"prefecture": pref, "issuer": pref}


def _entry_header(doc_id: str) -> re.Pattern[str]:
    quoted = re.escape(_toml_string(doc_id))
    return re.compile(rf"^\[documents\.(?:{quoted}|'{re.escape(doc_id)}')\][^\n]*\n(?:(?!\[)[^\n]*\n?)*", re.M)


def write_entry(corpus: Path, doc_id: str, values: dict[str, str] | None) -> None:
    """Replace (or with None remove) a document's table in metadata.toml, keeping the rest of
    the file as it is, written atomically; the result must still parse."""
    path = corpus / METADATA_FILE
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    text = _entry_header(doc_id).sub("", text).rstrip("\n") + "\n"
    if values:
        lines = [f"\n[documents.{_toml_string(doc_id)}]"] + [f"{k} = {_toml_string(v)}" for k, v in values.items() if v]
        text += "\n".join(lines) + "\n"
    tomllib.loads(text)  # never write a file the next build cannot read
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def corpus_file(corpus: Path, doc_id: str) -> Path:
    try:
        return source_path(corpus, doc_id)
    except RagError as e:
        raise UploadError(str(e)) from e


def remove_document(corpus: Path, doc_id: str) -> None:
    """Delete a document's file and its metadata; the next build drops it from the index."""
    corpus_file(corpus, doc_id).unlink()
    write_entry(corpus, doc_id, None)


def current_metadata(corpus: Path, doc_id: str) -> tuple[str, str, str]:
    """(issuer, title, fiscal year) as metadata.toml holds them now, for the edit form."""
    meta = load_metadata(corpus).get(doc_id)
    if meta is None:
        return "", "", ""
    who = meta.prefecture or (meta.issuer if meta.issuer in NO_PREFECTURE else "")  # the form's choices
    return who or "", meta.title or "", meta.fiscal_year or ""


def edit_metadata(corpus: Path, doc_id: str, issuer: str | None, title: str | None, fiscal_year: str | None) -> None:
    """Set who issued a document, its title and fiscal year; what the form does not show
    (date, source) stays as it was."""
    corpus_file(corpus, doc_id)
    old = load_metadata(corpus).get(doc_id)
    kept = {k: v for k, v in asdict(old).items() if v and k in ("date", "source")} if old else {}
    who = issuer_fields(issuer)
    if old and old.issuer and old.prefecture and old.prefecture == who.get("prefecture"):
        who["issuer"] = old.issuer  # the same prefecture: a finer issuer ("三重県 総務部") stays
    values = kept | who | {"title": (title or "").strip(), "fiscal_year": (fiscal_year or "").strip()}
    write_entry(corpus, doc_id, {k: v for k, v in values.items() if v})


def replace_document(corpus: Path, doc_id: str, upload: Path, max_bytes: int = MAX_FILE_BYTES) -> None:
    """A new version of a document under the same name (its metadata stays)."""
    target = corpus_file(corpus, doc_id)
    if upload.suffix.lower() != target.suffix.lower():
        raise UploadError(f"{upload.name}: a {target.suffix} file can only be replaced by a {target.suffix} file")
    size = upload.stat().st_size
    if size == 0 or size > max_bytes:
        raise UploadError(f"{upload.name}: the file is empty or over the {max_bytes / 2**20:.0f} MB limit")
    tmp = target.with_name(f".{target.name}.part")
    shutil.copyfile(upload, tmp)
    tmp.replace(target)


def add_upload(
    corpus: Path,
    upload: Path,
    original_name: str,
    prefecture: str | None = None,
    title: str | None = None,
    fiscal_year: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    issuer: str | None = None,
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
    who = issuer_fields(issuer or prefecture)
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
    entries = who | {"title": (title or "").strip(), "fiscal_year": (fiscal_year or "").strip()}
    entries = {k: v for k, v in entries.items() if v}
    if entries:
        write_entry(corpus, target.name, entries)
    return UploadResult(target.name)

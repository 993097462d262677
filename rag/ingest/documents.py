"""Read corpus files into Documents. One unreadable file never stops the others:
`read_corpus` returns the documents it could read and a failure per file it could not."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.errors import CorpusError, IngestError
from rag.ingest.ocr import OCR_MODES, OcrError, figure_pages, new_words, read_pdf_figures, read_pdf_page, usable
from rag.ingest.ocr import available as ocr_available
from rag.lang.prefectures import canonical, detect_in_document
from rag.stopwatch import Stopwatch
from rag.types import Document, DocumentMeta, Page

SUPPORTED = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")
METADATA_FILE = "metadata.toml"
_TEXT_ENCODINGS = ("utf-8-sig", "cp932", "euc-jp")


@dataclass(frozen=True)
class IngestFailure:
    doc_id: str
    reason: str


@dataclass(frozen=True)
class SourceFile:
    doc_id: str
    path: Path
    file_hash: str


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


NO_PREFECTURE = ("国", "その他")  # issuers of documents that belong to no prefecture


def load_metadata(corpus: Path) -> dict[str, DocumentMeta]:
    """Read corpus/metadata.toml: one `[documents."file name"]` table per document."""
    path = corpus / METADATA_FILE
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise CorpusError(f"{path}: not valid TOML ({e})") from e
    fields = set(DocumentMeta.__dataclass_fields__)
    out: dict[str, DocumentMeta] = {}
    for doc_id, entry in data.get("documents", {}).items():
        if not isinstance(entry, dict):
            raise CorpusError(f'{path}: [documents."{doc_id}"] must be a table')
        unknown = set(entry) - fields
        if unknown:
            raise CorpusError(f'{path}: [documents."{doc_id}"] has unknown keys {sorted(unknown)}; allowed: {sorted(fields)}')
        values = {k: (str(v) if v is not None else None) for k, v in entry.items()}
        if values.get("prefecture"):
            pref = canonical(values["prefecture"])
            if pref is None:
                raise CorpusError(f'{path}: [documents."{doc_id}"] prefecture {values["prefecture"]!r} is not a prefecture')
            values["prefecture"] = pref
        out[doc_id] = DocumentMeta(**values)
    return out


def readable_name(name: str) -> str:
    """A file name as text. Names that are not UTF-8 (zips made on Japanese Windows carry
    Shift_JIS names) come from the OS with surrogate escapes; decode their bytes as cp932,
    else replace what cannot be read. The file itself is still opened by its real path."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "surrogateescape")
        for enc in ("cp932", "euc-jp"):
            try:
                return raw.decode(enc)
            except UnicodeDecodeError:
                continue
        return raw.decode("utf-8", "replace")


def scan_corpus(corpus: Path) -> tuple[list[SourceFile], list[IngestFailure]]:
    """The corpus's documents, and the entries that are not read, each with its reason: links
    that lead outside the corpus folder or nowhere, and anything that cannot be opened."""
    if not corpus.is_dir():
        raise CorpusError(f"corpus folder {corpus} {'is a file, not a folder' if corpus.exists() else 'does not exist'}")
    root = corpus.resolve()
    sources: list[SourceFile] = []
    skipped: list[IngestFailure] = []
    for path in sorted(corpus.rglob("*")):
        rel = readable_name(path.relative_to(corpus).as_posix())
        if path.name == METADATA_FILE or path.name.startswith(".") or path.name.lower() in _NOT_DOCUMENTS:
            continue
        if path.is_symlink() or any(p.is_symlink() for p in path.relative_to(corpus).parents if str(p) != "."):
            target = path.resolve()
            if not path.exists():
                skipped.append(IngestFailure(rel, "a link that leads nowhere"))
                continue
            if root not in target.parents:
                skipped.append(IngestFailure(rel, "a link that leads outside the corpus folder; not read"))
                continue
            if target.is_file():  # a link to a document of the corpus: read once, under its own name
                skipped.append(
                    IngestFailure(rel, f"a link to {target.relative_to(root).as_posix()}, which is read under its own name")
                )
                continue
        if not path.is_file():
            continue
        try:
            sources.append(SourceFile(rel, path, file_hash(path)))
        except OSError as e:
            skipped.append(IngestFailure(rel, f"cannot be read ({e.strerror or e.__class__.__name__})"))
    return sources, skipped


_NOT_DOCUMENTS = ("readme.md", "license", "licence", "notice")


def source_path(corpus: Path, doc_id: str) -> Path:
    """The file a document id names, inside the corpus (an id read from a non-UTF-8 file name
    is found by its readable name); CorpusError when there is none."""
    root = corpus.resolve()
    direct = corpus / doc_id
    if direct.is_file() and root in direct.resolve().parents:
        return direct
    for source in scan_corpus(corpus)[0]:
        if source.doc_id == doc_id:
            return source.path
    raise CorpusError(f"{doc_id} is not a file of the corpus")


def list_sources(corpus: Path) -> Iterator[SourceFile]:
    yield from scan_corpus(corpus)[0]


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text saved without a byte-order mark: every character decodes and the result is
    text (letters, kana, kanji, punctuation, line breaks), not a binary file read as pairs."""
    if len(data) % 2:
        return None
    best: tuple[float, str] | None = None
    for enc in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if not text.strip() or "\x00" in text:
            continue
        # the right byte order gives ASCII, kana, common kanji and Japanese punctuation; the wrong one
        # turns ASCII into rare CJK (0x0035 -> U+3500)
        common = sum(
            ch.isascii() or "\u3000" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in text
        )
        share = common / len(text)
        if share > 0.9 and (best is None or share > best[0]):
            best = (share, text)
    return best[1] if best else None


def _decode_text(data: bytes, doc_id: str) -> str:
    if not data.strip():
        raise IngestError(doc_id, "the file is empty")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with its byte-order mark (Windows Notepad)
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise IngestError(doc_id, "UTF-16 text that cannot be decoded") from e
    if b"\x00" in data[:8192]:
        bom_less = _utf16_without_bom(data)
        if bom_less is not None:
            return bom_less
        raise IngestError(doc_id, "looks like a binary file, not text")
    for enc in _TEXT_ENCODINGS:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise IngestError(doc_id, "text is not UTF-8, Shift_JIS or EUC-JP and cannot be decoded")


def _read_text(path: Path, doc_id: str) -> list[Page]:
    text = _decode_text(path.read_bytes(), doc_id).replace("\r\n", "\n").replace("\r", "\n")
    if "\f" in text:  # form feeds mark pages in text extracted from PDFs
        return [Page(i + 1, t) for i, t in enumerate(text.split("\f"))]
    return [Page(None, text)]


MAX_FILE_BYTES = 100 * 1024 * 1024
# a text file of tens of MB would hold the build lock for most of an hour (tens of thousands of chunks)
MAX_DOCUMENT_CHARS = 3_000_000
_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-－‐–—]\s*)?(?:p\.?\s*)?[0-9０-９]{1,4}(?:\s*[/／]\s*[0-9０-９]{1,4})?(?:\s*[-－‐–—])?\s*$", re.I
)
_BLANK_NOTICE = re.compile(r"(?i)intentionally left blank|このページは(?:意図的に)?空白|白紙")
PageProgress = Callable[[int, int], None]


def _furniture_key(line: str) -> str:
    """Lines that differ only in their numbers (page headers, footers) share a key."""
    return re.sub(r"[0-9０-９]+", "#", "".join(line.split()))


def strip_page_furniture(pages: list[tuple[int, str]]) -> tuple[list[tuple[int, str]], list[int]]:
    """Drop bare page numbers and the header/footer lines repeated on most pages;
    return the pages left and the numbers of pages that are blank without them."""
    edge: dict[str, int] = {}
    for _, text in pages:
        lines = [ln for ln in text.split("\n") if ln.strip()]
        for ln in {*lines[:2], *lines[-2:]}:
            edge[_furniture_key(ln)] = edge.get(_furniture_key(ln), 0) + 1
    repeated = {k for k, n in edge.items() if len(pages) >= 3 and n >= max(3, len(pages) // 2)}
    kept, blank = [], []
    for number, text in pages:
        lines = text.split("\n")
        nonempty = [i for i, ln in enumerate(lines) if ln.strip()]
        edges = set(nonempty[:2] + nonempty[-2:])
        out = [
            ln for i, ln in enumerate(lines) if not (i in edges and (_PAGE_NUMBER.match(ln) or _furniture_key(ln) in repeated))
        ]
        body = "\n".join(out)
        compact = "".join(body.split())
        if not compact or (_BLANK_NOTICE.search(body) and len(compact) < 60):
            blank.append(number)
        else:
            kept.append((number, body))
    return kept, blank


def _grid_tables(plumber_page) -> list[str]:
    """Tables that the PDF draws as a grid, one row per line with tab-separated cells."""
    out = []
    try:
        tables = plumber_page.find_tables()
    except Exception:  # a layout pdfplumber can't read just has no grid
        return out
    for t in tables:
        rows = [[" ".join((c or "").split()) for c in row] for row in t.extract()]
        cells = [c for r in rows for c in r]
        filled = [c for c in cells if c]
        if len(rows) >= 2 and max(len(r) for r in rows) >= 2 and len(filled) >= 4 and len(filled) >= 0.5 * len(cells):
            out.append("\n".join("\t".join(r) for r in rows))
    return out


def _read_pdf(
    path: Path, doc_id: str, on_page: PageProgress | None = None, ocr: OcrOptions | None = None
) -> tuple[list[Page], list[str]]:
    import pdfplumber
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            # owner-password-only PDFs ("copying restricted") open with the empty user password
            try:
                ok = reader.decrypt("")
            except Exception as e:  # pypdf raises several types for missing crypto support
                raise IngestError(doc_id, f"encrypted PDF could not be decrypted ({e})") from e
            if not ok:
                raise IngestError(doc_id, "the PDF needs a password to open")
        raw: list[tuple[int, str]] = []
        empty: list[int] = []
        garbled: list[int] = []
        total = len(reader.pages)
        for i, page in enumerate(reader.pages, start=1):
            try:
                text = page.extract_text() or ""
            except Exception:  # one bad page should not lose the document
                text = ""
            if not text.strip():
                empty.append(i)
            elif not usable(text):
                garbled.append(i)  # glyph names or codes: no words to index
            else:
                raw.append((i, text))
            if on_page:
                on_page(i, total)
    except IngestError:
        raise
    except FileNotDecryptedError as e:
        raise IngestError(doc_id, "the PDF needs a password to open") from e
    except (PdfReadError, ValueError, OSError, KeyError, TypeError) as e:
        raise IngestError(doc_id, f"not a readable PDF ({e.__class__.__name__}: {e})") from e
    ocr = ocr or OcrOptions()
    wanted = sorted(empty + garbled) if ocr.mode == "auto" else list(range(1, total + 1)) if ocr.mode == "force" else []
    read_by_ocr, ocr_notes = _ocr_pages(path, wanted, ocr)
    figures = _ocr_figures(path, [n for n, _ in raw], dict(raw), ocr) if ocr.mode == "auto" else []
    if not raw and not read_by_ocr:
        why = "; ".join(ocr_notes) or ("OCR is off" if ocr.mode == "off" else "OCR found no text")
        raise IngestError(doc_id, f"no usable text layer on any of its {total} pages ({why})")
    if ocr.mode == "force":
        raw = []  # every page from its image
    kept, blank = strip_page_furniture(raw) if raw else ([], [])
    grids: dict[int, list[str]] = {}
    try:
        with pdfplumber.open(str(path), password="") as pdf:
            for number, _ in kept:
                page = pdf.pages[number - 1]
                grids[number] = _grid_tables(page)
                page.close()  # bounded memory on long documents
    except Exception:  # grids are a bonus; the text layer above is the document
        grids = {}
    pages = [Page(number, text + "".join(f"\n\n{g}\n" for g in grids.get(number, []))) for number, text in kept]
    # a page read by OCR, and the words OCR found in a page's figures, follow the page they belong to
    pages = sorted(pages + [Page(n, t, ocr=True) for n, t in [*read_by_ocr.items(), *figures]], key=lambda p: p.number or 0)
    warnings = list(ocr_notes)
    if read_by_ocr:
        warnings.append(f"read by OCR: pages {_ranges(sorted(read_by_ocr))}")
    if figures:
        warnings.append(f"figures read by OCR on pages {_ranges(sorted({n for n, _ in figures}))}")
    unread = [n for n in sorted(empty + garbled) if n not in read_by_ocr]
    if unread and ocr.mode == "off":
        warnings.append(f"no usable text on pages {_ranges(unread)}; OCR is off")
    elif unread:
        warnings.append(f"no text found on pages {_ranges(unread)}")
    if blank:
        warnings.append(f"blank pages skipped: {_ranges(blank)}")
    return pages, warnings


@dataclass(frozen=True)
class OcrOptions:
    mode: str = "auto"  # auto: pages without a usable text layer; force: every page; off
    on_page: PageProgress | None = None  # (pages read, pages to read)
    watch: Stopwatch | None = None  # OCR seconds go to their own stage of `rag index --profile`

    def __post_init__(self) -> None:
        if self.mode not in OCR_MODES:
            raise OcrError(f"OCR mode must be one of {', '.join(OCR_MODES)}, got {self.mode!r}")

    def timed(self) -> AbstractContextManager:
        return self.watch.stage("ocr") if self.watch else nullcontext()


def _ocr_pages(path: Path, numbers: list[int], ocr: OcrOptions) -> tuple[dict[int, str], list[str]]:
    """The text OCR reads on each page in `numbers`; a page that fails is reported and skipped."""
    if not numbers:
        return {}, []
    if not ocr_available():
        return {}, [f"pages {_ranges(numbers)} need OCR, which is not installed"]
    out: dict[int, str] = {}
    failed: list[str] = []
    for k, n in enumerate(numbers, start=1):
        try:
            with ocr.timed():
                text = read_pdf_page(path, n)
        except Exception as e:  # one page's failure never loses the others
            failed.append(f"OCR failed on page {n} ({e.__class__.__name__})")
            text = ""
        if text.strip():
            out[n] = text
        if ocr.on_page:
            ocr.on_page(k, len(numbers))
    return out, failed


def _ocr_figures(path: Path, numbers: list[int], texts: dict[int, str], ocr: OcrOptions) -> list[tuple[int, str]]:
    """(page, text) for the words OCR reads in large raster figures of pages that have a text
    layer, when the text layer does not already hold them."""
    if not numbers:
        return []
    try:
        found = figure_pages(path, numbers)
    except Exception:  # figures are a bonus; the text layer is the document
        return []
    if not found or not ocr_available():  # the engine is loaded only for a document that has figures
        return []
    out: list[tuple[int, str]] = []
    for k, (n, boxes) in enumerate(sorted(found.items()), start=1):
        try:
            with ocr.timed():
                read = read_pdf_figures(path, n, boxes)
        except Exception:
            read = []
        out += [(n, t) for t in read if new_words(t, texts.get(n, ""))]
        if ocr.on_page:
            ocr.on_page(k, len(found))
    return out


def _ranges(numbers: list[int]) -> str:
    out: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:  # type: ignore[list-item]
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(f"{start}" if start == prev else f"{start}–{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(out)


def _read_docx(path: Path, doc_id: str) -> list[Page]:
    import zipfile

    try:
        import docx
    except ImportError as e:  # pragma: no cover - dependency of the package
        raise IngestError(doc_id, "python-docx is not installed") from e
    try:
        d = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise IngestError(doc_id, f"not a readable .docx file ({e})") from e
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            parts.append(" ".join(cell.text.strip() for cell in row.cells))
    return [Page(None, "\n".join(parts))]


def _read_html(path: Path, doc_id: str) -> list[Page]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode_text(path.read_bytes(), doc_id), "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    for tr in soup.find_all("tr"):
        cells = [c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"])]
        tr.replace_with(soup.new_string("\n" + " ".join(cells) + "\n"))
    return [Page(None, soup.get_text("\n"))]


def read_document(
    source: SourceFile,
    meta: DocumentMeta | None,
    on_page: PageProgress | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    ocr: OcrOptions | None = None,
) -> Document:
    suffix = source.path.suffix.lower()
    warnings: list[str] = []
    if suffix not in SUPPORTED:
        raise IngestError(source.doc_id, f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED)}")
    size = source.path.stat().st_size
    if size == 0:
        raise IngestError(source.doc_id, "the file is empty")
    if size > max_bytes:
        raise IngestError(source.doc_id, f"the file is {size / 2**20:.0f} MB; the limit is {max_bytes / 2**20:.0f} MB")
    if suffix in (".txt", ".md"):
        pages = _read_text(source.path, source.doc_id)
    elif suffix == ".pdf":
        pages, warnings = _read_pdf(source.path, source.doc_id, on_page, ocr)
    elif suffix == ".docx":
        pages = _read_docx(source.path, source.doc_id)
    else:
        pages = _read_html(source.path, source.doc_id)
    pages = [p for p in pages if p.text.strip()]
    if not pages:
        raise IngestError(source.doc_id, "no text found in the file")
    chars = sum(len(p.text) for p in pages)
    if chars > MAX_DOCUMENT_CHARS:
        raise IngestError(
            source.doc_id,
            f"{chars / 1e6:.1f} million characters of text; one document may hold {MAX_DOCUMENT_CHARS / 1e6:.0f} million "
            "(about 2,000 pages): split it into several files",
        )
    meta = meta or DocumentMeta()
    content_hash = document_hash(source.file_hash, meta)
    # an issuer given as 国 or その他 says the document belongs to no prefecture: nothing is guessed
    if not meta.prefecture and meta.issuer not in NO_PREFECTURE:
        detected = detect_in_document("\n".join(p.text for p in pages))
        if detected:
            meta = DocumentMeta(**{**asdict(meta), "prefecture": detected})
    return Document(source.doc_id, content_hash, meta, tuple(pages), tuple(warnings))


def document_hash(file_hash: str, meta: DocumentMeta) -> str:
    """Changes when the file or its hand-written metadata changes."""
    payload = json.dumps({"file": file_hash, "meta": asdict(meta)}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()

"""A cited source, opened inside the app at the cited place with the supporting text marked:
a PDF page rendered to an image (pypdfium2) with boxes over the marked text, and the page's
text below; any other document as its text with the span marked. Nothing is served raw, so
a document's own HTML or script never runs."""

from __future__ import annotations

import base64
import html
import io
import unicodedata
from pathlib import Path

from rag.errors import RagError
from rag.ingest.documents import OcrOptions, SourceFile, read_document, source_path
from rag.types import Chunk, Citation
from rag.web.strings import t

WINDOW = 6000  # characters of a long text shown around the cited span
SCALE = 1.5  # PDF points -> pixels


class ViewerError(RagError):
    pass


def _inside(corpus: Path, doc_id: str) -> Path:
    try:
        return source_path(corpus, doc_id)
    except RagError as e:
        raise ViewerError(str(e)) from e


def _spans(citation: Citation, chunk: Chunk) -> list[tuple[int, int]]:
    """The citation's highlights as spans of the page text (the whole passage when it has none)."""
    spans = [(chunk.start + s, chunk.start + e) for s, e in citation.highlights]
    return spans or [(chunk.start, chunk.end)]


def _marked(text: str, spans: list[tuple[int, int]], focus: bool = True) -> str:
    pieces, pos = [], 0
    for k, (s, e) in enumerate(sorted(spans)):
        if s < pos:
            continue
        pieces.append(html.escape(text[pos:s]))
        mark_focus = ' id="viewer-focus" class="focus"' if k == 0 and focus else ' class="focus"' if k == 0 else ""
        pieces.append(f"<mark{mark_focus}>{html.escape(text[s:e])}</mark>")
        pos = e
    pieces.append(html.escape(text[pos:]))
    return "".join(pieces).replace("\n", "<br>")


def _page_text(corpus: Path, citation: Citation) -> str:
    path = _inside(corpus, citation.doc_id)
    doc = read_document(SourceFile(citation.doc_id, path, ""), None, ocr=OcrOptions("off"))  # OCR text comes from the index
    for page in doc.pages:
        if page.number == citation.page:
            return page.text
    return doc.pages[0].text


def _boxes(pdf_page, needles: list[str]) -> list[tuple[float, float, float, float]]:
    """Rectangles (PDF points) over the characters of each needle, found in the page's own text
    layer with width and spaces ignored."""
    textpage = pdf_page.get_textpage()
    n = textpage.count_chars()
    chars = textpage.get_text_range(0, n) if n else ""
    keyed = [(unicodedata.normalize("NFKC", ch), i) for i, ch in enumerate(chars) if not ch.isspace()]
    joined = "".join(k for k, _ in keyed)
    owner: list[int] = []
    for k, i in keyed:
        owner += [i] * len(k)
    rects = []
    for needle in needles:
        key = "".join(unicodedata.normalize("NFKC", needle).split())
        if len(key) < 2:
            continue
        found = joined.find(key)
        if found < 0:
            found = joined.find(key[: max(8, len(key) // 3)])  # the start of it, when the text layer differs later
            key = key[: max(8, len(key) // 3)]
        if found < 0:
            continue
        for i in sorted(set(owner[found : found + len(key)])):
            rects.append(textpage.get_charbox(i))
    return _lines(rects)


def _lines(boxes: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """Character boxes merged into one rectangle per line: a character joins a line when its
    vertical middle lies within the line and it is near it horizontally."""
    out: list[list[float]] = [list(b) for b in boxes]
    merged = True
    while merged:  # until no two rectangles belong to one line (a grown line may reach another)
        merged = False
        for i, a in enumerate(out):
            for b in out[i + 1 :]:
                middle = (b[1] + b[3]) / 2
                if a[1] - 1 <= middle <= a[3] + 1 and max(b[0] - a[2], a[0] - b[2]) < 30:
                    a[0], a[1], a[2], a[3] = min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])
                    out.remove(b)
                    merged = True
                    break
            if merged:
                break
    return sorted((tuple(b) for b in out), key=lambda b: (-b[3], b[0]))  # type: ignore[misc]


def _pdf_page_image(path: Path, page_number: int, needles: list[str]) -> tuple[str, int]:
    import pypdfium2 as pdfium
    from PIL import ImageDraw

    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[max(0, page_number - 1)]
        boxes = pixel_boxes(page, needles)
        image = page.render(scale=SCALE).to_pil().convert("RGB")
    finally:
        pdf.close()
    draw = ImageDraw.Draw(image, "RGBA")
    for left, top, right, bottom in boxes:
        draw.rectangle((left - 2, top - 2, right + 2, bottom + 2), outline=(200, 30, 30, 255), width=2)  # text stays readable
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    first = min((top / image.height for _l, top, _r, _b in boxes), default=None)
    return base64.b64encode(buffer.getvalue()).decode(), len(boxes), first


def pixel_boxes(pdf_page, needles: list[str]) -> list[tuple[float, float, float, float]]:
    """(left, top, right, bottom) in pixels of the rendered page. The image is the crop box,
    whose origin need not be (0, 0), and its y axis points down."""
    x0, _y0, _x1, y1 = pdf_page.get_cropbox()
    return [
        ((lf - x0) * SCALE, (y1 - t) * SCALE, (r - x0) * SCALE, (y1 - b) * SCALE) for lf, b, r, t in _boxes(pdf_page, needles)
    ]


def source_html(corpus: Path, citation: Citation, chunk: Chunk, lang: str = "ja") -> str:
    """The viewer's content for one citation."""
    if chunk.ocr:  # the page has no text layer: its text is what OCR read at build time
        page_text = chunk.text
        spans = [tuple(h) for h in citation.highlights] or [(0, len(chunk.text))]
    else:
        page_text = _page_text(corpus, citation)
        spans = _spans(citation, chunk)
    head = f'<p class="viewer-head">[{citation.n}] {html.escape(citation.prefecture or "")} {html.escape(citation.title)}'
    head += f"{f' p.{citation.page}' if citation.page else ''}</p>"
    image = ""
    if citation.doc_id.lower().endswith(".pdf") and citation.page:
        needles = [page_text[s:e] for s, e in spans]
        png, found, first = _pdf_page_image(_inside(corpus, citation.doc_id), citation.page, needles)
        alt = html.escape(f"{citation.title} p.{citation.page}")
        # on the page image the first box is what is scrolled to, else the marked text below it
        anchor = (
            f'<span id="viewer-focus" class="page-anchor" style="top:{first * 100:.1f}%"></span>' if first is not None else ""
        )
        image = f'<div class="page-wrap"><img class="page" alt="{alt}" data-marks="{found}" src="data:image/png;base64,{png}">{anchor}</div>'
    lo = max(0, min(s for s, _ in spans) - WINDOW // 2)
    hi = min(len(page_text), max(e for _, e in spans) + WINDOW // 2)
    shifted = [(s - lo, e - lo) for s, e in spans]
    text = _marked(page_text[lo:hi], shifted, focus=not anchor if image else True)
    text = ("…" if lo else "") + text + ("…" if hi < len(page_text) else "")
    return f'{head}{image}<div class="viewer-text" lang="ja">{text}</div>'


def empty_html(lang: str = "ja") -> str:
    return f'<p class="viewer-empty">{html.escape(t(lang, "viewer_empty"))}</p>'

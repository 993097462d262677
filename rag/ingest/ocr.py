"""Text from page images, for PDF pages whose text layer is missing or unusable.

`usable(text)` tells a real text layer from what some PDFs carry instead: glyph names
(`/edGj0 /edGj1`), `(cid:123)` codes, private-use or replacement characters. Such pages,
and pages with no text at all, are read by OCR when a build allows it (`--ocr auto`, the
default; `force` reads every page; `off` never). The engine and its models come from PyPI
(see docs/ocr.md); nothing is downloaded at run time.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rag.errors import RagError

OCR_MODES = ("auto", "off", "force")

_GLYPH_NAME = re.compile(r"/[A-Za-z][A-Za-z0-9_.]{1,15}")
_URL = re.compile(r"(?:https?://|www\.)[\x21-\x7e]+")
_CID = re.compile(r"\(cid:\d+\)")
_JUNK = re.compile(r"[\ufffd\ue000-\uf8ff]")


class OcrError(RagError):
    pass


def usable(text: str) -> bool:
    """Whether a page's text layer is text a reader can use: not empty, and not mostly glyph
    names, CID codes or private-use/replacement characters."""
    body = "".join(unicodedata.normalize("NFKC", text).split())
    if not body:
        return False
    body = _URL.sub("u", body)  # a link's path is not a glyph name
    junk = sum(len(m) for m in _GLYPH_NAME.findall(body)) + sum(len(m) for m in _CID.findall(body))
    junk += len(_JUNK.findall(body))
    return junk / len(body) < 0.3


@dataclass(frozen=True)
class OcrLine:
    text: str
    box: tuple[float, float, float, float]  # left, top, right, bottom in image pixels
    score: float


SCALE = 2.0  # PDF points -> pixels when a page is rendered for OCR (144 dpi)


@lru_cache(maxsize=1)
def _engine():
    """RapidOCR with its bundled PP-OCRv6 models (docs/ocr.md); loaded once, on first use.
    The 180° line classifier is off: on the measured set it only ever flipped vertical lines."""
    try:
        from rapidocr import RapidOCR
    except ImportError as e:
        raise OcrError("OCR is not installed (pip install rapidocr onnxruntime)") from e
    return RapidOCR(
        params={
            "EngineConfig.onnxruntime.intra_op_num_threads": 2,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            "Global.use_cls": False,
            "Global.log_level": "error",  # "no text detected" on a blank figure is normal, not a warning
        }
    )


def available() -> bool:
    try:
        _engine()
    except OcrError:
        return False
    return True


def read_image(image) -> list[OcrLine]:
    """The text lines in a PIL image, each with its box and the engine's confidence."""
    result = _engine()(image.convert("RGB"))
    if not result.txts:
        return []
    lines = []
    for box, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
        xs, ys = [float(p[0]) for p in box], [float(p[1]) for p in box]
        lines.append(OcrLine(str(text), (min(xs), min(ys), max(xs), max(ys)), float(score)))
    return lines


def as_text(lines: list[OcrLine]) -> str:
    """Lines in reading order: rows top to bottom (a row: boxes whose vertical middles fall
    within each other), cells left to right, cells of one row separated by a tab as the
    text layer of a table would be."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda x: ((x.box[1] + x.box[3]) / 2, x.box[0])):
        middle = (line.box[1] + line.box[3]) / 2
        if rows and rows[-1][0].box[1] <= middle <= rows[-1][0].box[3]:
            rows[-1].append(line)
        else:
            rows.append([line])
    return "\n".join("\t".join(x.text for x in sorted(row, key=lambda x: x.box[0])) for row in rows)


def read_pdf_page(path, number: int) -> str:
    """A PDF page (1-based) rendered and read."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        image = pdf[number - 1].render(scale=SCALE).to_pil()
    finally:
        pdf.close()
    return as_text(read_image(image))


FIGURE_SHARE = 0.08  # a raster image covering this share of a page is read for the words in it (docs/ocr.md)


def figure_pages(path, numbers: list[int]) -> dict[int, list[tuple[float, float, float, float]]]:
    """The pages among `numbers` that hold large raster images (figures, charts, scanned
    tables), each with the images' bounds (left, bottom, right, top in PDF points)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    out: dict[int, list[tuple[float, float, float, float]]] = {}
    pdf = pdfium.PdfDocument(str(path))
    try:
        for n in numbers:
            page = pdf[n - 1]
            width, height = page.get_size()
            boxes = []
            for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
                left, bottom, right, top = obj.get_bounds()
                if (right - left) * (top - bottom) >= FIGURE_SHARE * width * height:
                    boxes.append((left, bottom, right, top))
            if boxes:
                out[n] = boxes
    finally:
        pdf.close()
    return out


def read_pdf_figures(path, number: int, boxes: list[tuple[float, float, float, float]]) -> list[str]:
    """The text OCR reads inside each figure of a page (rendered cropped to the figure)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    texts = []
    try:
        page = pdf[number - 1]
        x0, y0, x1, y1 = page.get_cropbox()
        for left, bottom, right, top in boxes:
            crop = (max(0.0, left - x0), max(0.0, bottom - y0), max(0.0, x1 - right), max(0.0, y1 - top))
            image = page.render(scale=SCALE, crop=crop).to_pil()
            texts.append(as_text(read_image(image)))
    finally:
        pdf.close()
    return [t for t in texts if t.strip()]


def new_words(ocr_text: str, page_text: str, share: float = 0.6) -> bool:
    """Whether a figure's OCR text says something the page's text layer does not already
    (charts drawn as vector text are in the text layer; only raster text is new)."""

    def key(s: str) -> str:
        return "".join(unicodedata.normalize("NFKC", s).split())

    page = key(page_text)
    lines = [key(x) for x in ocr_text.splitlines() if len(key(x)) >= 2]
    if sum(len(x) for x in lines) < 8:
        return False
    known = sum(len(x) for x in lines if x in page)
    return known / sum(len(x) for x in lines) < share

"""The PDF view marks the cited text where it is on the rendered page."""

import unicodedata
from pathlib import Path

import pytest

from rag.web.viewer import SCALE, pixel_boxes

PDF = Path(__file__).parents[2] / "fixtures" / "public-pdfs" / "01point.pdf"
SENTENCE = "2008年にはFTTHが総契約数においてDSLを抜き"


def _text_under(page, box) -> str:
    """What the text layer holds under a pixel box, read back independently of the viewer."""
    x0, _, _, y1 = page.get_cropbox()
    left, top, right, bottom = box
    tp = page.get_textpage()
    text = tp.get_text_bounded(left / SCALE + x0, y1 - bottom / SCALE, right / SCALE + x0, y1 - top / SCALE)
    return "".join(unicodedata.normalize("NFKC", text).split())


@pytest.mark.skipif(not PDF.exists(), reason="needs the public PDF fixture")
def test_boxes_sit_on_the_cited_line_of_a_page_whose_crop_box_is_offset():
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(PDF))
    try:
        page = pdf[1]
        assert page.get_cropbox()[0] > 0  # the case that once put every box a line too high
        boxes = pixel_boxes(page, [SENTENCE])
        assert boxes
        under = "".join(_text_under(page, b) for b in boxes)
        assert "DSLを抜き" in under and "2008" in under
        tops = sorted(round(b[1]) for b in boxes)
        assert len(tops) == len(set(tops))  # one box per line, none stacked on another
    finally:
        pdf.close()

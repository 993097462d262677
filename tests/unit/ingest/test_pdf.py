"""PDFs as they are published: furniture, blank pages, grids, columns, artefacts, size."""

import pytest

from rag.errors import IngestError
from rag.facts.extract import extract_facts
from rag.ingest.chunk import chunk_document
from rag.ingest.documents import OcrOptions, SourceFile, file_hash, read_document, strip_page_furniture
from tests.pdfs import make_pdf, make_table_pdf, make_two_column_pdf


def read(path, **kw):
    return read_document(SourceFile(path.name, path, file_hash(path)), None, **kw)


def test_repeated_headers_footers_and_page_numbers_are_not_content(tmp_path):
    bodies = ["電子決裁を進める。", "テレワークを広げる。", "研修を充実させる。", "データを公開する。"]
    pages = [f"令和5年度 デジタル推進計画\n{body}\n- {i} -" for i, body in enumerate(bodies, start=1)]
    doc = read(make_pdf(tmp_path / "a.pdf", pages))
    assert [p.number for p in doc.pages] == [1, 2, 3, 4]
    for i, (p, body) in enumerate(zip(doc.pages, bodies, strict=True), start=1):
        assert "デジタル推進計画" not in p.text and f"- {i} -" not in p.text
        assert body in p.text


FURNITURE = [
    # (pages, expected kept page numbers, expected blank pages)
    ([(1, "表紙"), (2, "(This page is intentionally left blank.)"), (3, "本文")], [1, 3], [2]),
    ([(1, "本文\n12"), (2, "  \n")], [1], [2]),
]


@pytest.mark.parametrize(("pages", "kept", "blank"), FURNITURE)
def test_strip_page_furniture(pages, kept, blank):
    out, blanks = strip_page_furniture(pages)
    assert [n for n, _ in out] == kept and blanks == blank


def test_blank_pages_are_skipped_and_reported(tmp_path):
    doc = read(make_pdf(tmp_path / "b.pdf", ["一頁目の本文。", "(This page is intentionally left blank.)", "三頁目の本文。"]))
    assert [p.number for p in doc.pages] == [1, 3]
    assert any("blank pages skipped: 2" in w for w in doc.warnings)


def test_image_only_pages_are_reported_by_range(tmp_path):
    doc = read(make_pdf(tmp_path / "c.pdf", ["一頁目の本文", None, None, None, "五頁目の本文"]), ocr=OcrOptions("off"))
    assert any("no usable text on pages 2–4" in w and "OCR is off" in w for w in doc.warnings)


def test_grid_table_rows_keep_their_cells(tmp_path):
    rows = [["指標", "令和4年度", "令和5年度"], ["", "目標値", "目標値"], ["電子申請件数", "100件", "200件"]]
    doc = read(make_table_pdf(tmp_path / "t.pdf", rows))
    text = doc.pages[0].text
    assert "電子申請件数\t100件\t200件" in text
    facts = extract_facts(chunk_document(doc))
    assert [(f.indicator, f.year, f.measure, f.display) for f in facts] == [
        ("電子申請件数", 2022, "target", "100件"),
        ("電子申請件数", 2023, "target", "200件"),
    ]


def test_two_columns_read_column_by_column(tmp_path):
    left = ["左の段の文章は電子決裁に", "ついて述べている。"]
    right = ["右の段の文章はテレワークに", "ついて述べている。"]
    doc = read(make_two_column_pdf(tmp_path / "two.pdf", left, right))
    (chunk,) = chunk_document(doc)
    assert "電子決裁についても" not in chunk.search_text
    assert "左の段の文章は電子決裁に" in chunk.search_text and "右の段の文章はテレワークに" in chunk.search_text


def test_letter_spacing_and_kangxi_radicals_match_but_show_as_printed(tmp_path):
    doc = read(make_pdf(tmp_path / "k.pdf", ["電 子 決 裁 の 推 進 と \u2f00\u2f8f の 計 画"]))
    (chunk,) = chunk_document(doc)
    assert "電子決裁の推進と一行の計画" in chunk.search_text
    assert "\u2f00" in chunk.text or "電 子" in chunk.text  # the citation shows the printed form


def test_size_limit_names_the_limit(tmp_path):
    path = make_pdf(tmp_path / "big.pdf", ["本文"])
    with pytest.raises(IngestError, match=r"limit is 0 MB"):
        read(path, max_bytes=10)


def test_page_progress_is_reported(tmp_path):
    seen = []
    read(make_pdf(tmp_path / "p.pdf", ["一", "二", "三"]), on_page=lambda i, n: seen.append((i, n)))
    assert seen == [(1, 3), (2, 3), (3, 3)]

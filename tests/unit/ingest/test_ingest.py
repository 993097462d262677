import io

import pytest

from rag.errors import CorpusError, IngestError
from rag.ingest.documents import SourceFile, file_hash, list_sources, load_metadata, read_document
from tests.conftest import write_files
from tests.pdfs import encrypt_pdf, make_pdf


def read(path, meta=None):
    return read_document(SourceFile(path.name, path, file_hash(path)), meta)


def test_pdf_keeps_page_numbers_and_reports_pages_without_text(tmp_path):
    pdf = make_pdf(tmp_path / "plan.pdf", ["一ページ目 電子決裁", None, "三ページ目 テレワーク"])
    doc = read(pdf)
    assert [p.number for p in doc.pages] == [1, 3]
    assert "テレワーク" in doc.pages[1].text
    assert any("no text found on pages 2" in w for w in doc.warnings)  # OCR looked, the page is blank


def test_owner_password_pdf_is_read(tmp_path):
    src = make_pdf(tmp_path / "src.pdf", ["暗号化されたページ"])
    doc = read(encrypt_pdf(src, tmp_path / "secured.pdf"))
    assert "暗号化" in doc.pages[0].text


def test_pdf_needing_a_password_is_reported(tmp_path):
    src = make_pdf(tmp_path / "src.pdf", ["秘密"])
    with pytest.raises(IngestError, match="password"):
        read(encrypt_pdf(src, tmp_path / "locked.pdf", user_password="secret"))


BROKEN = [
    ("corrupt.pdf", b"%PDF-1.4\nthis is not really a pdf", "PDF"),
    ("empty.txt", b"", "empty"),
    ("blank.md", b"   \n\n", "empty"),
    ("binary.txt", b"\x00\x01\x02binary", "binary"),
    ("latin.txt", bytes(range(128, 256)) * 3, "decoded"),
    ("image-only.pdf", None, "no usable text layer"),
    ("notes.xlsx", b"PK\x03\x04", "unsupported"),
]


@pytest.mark.parametrize(("name", "content", "reason"), BROKEN)
def test_unreadable_files_name_the_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    if content is None:
        make_pdf(path, [None, None])
    else:
        path.write_bytes(content)
    with pytest.raises(IngestError) as err:
        read(path)
    assert err.value.path == name
    assert reason in err.value.reason


def test_text_encodings(tmp_path):
    (tmp_path / "sjis.txt").write_bytes("三重県の計画".encode("cp932"))
    assert read(tmp_path / "sjis.txt").pages[0].text == "三重県の計画"


def test_html_drops_scripts_and_keeps_table_rows(tmp_path):
    html = "<html><script>alert(1)</script><p>徳島県の計画</p><table><tr><td>令和4年度</td><td>100%</td></tr></table></html>"
    (tmp_path / "p.html").write_text(html, encoding="utf-8")
    text = read(tmp_path / "p.html").pages[0].text
    assert "alert" not in text
    assert "令和4年度 100%" in text


def test_docx_paragraphs_and_tables(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("岡山県の指針")
    t = d.add_table(rows=1, cols=2)
    t.rows[0].cells[0].text = "令和5年度"
    t.rows[0].cells[1].text = "50%"
    buf = io.BytesIO()
    d.save(buf)
    (tmp_path / "x.docx").write_bytes(buf.getvalue())
    text = read(tmp_path / "x.docx").pages[0].text
    assert "岡山県の指針" in text and "令和5年度 50%" in text


def test_form_feeds_are_pages(tmp_path):
    (tmp_path / "a.txt").write_text("一頁\f二頁", encoding="utf-8")
    assert [p.number for p in read(tmp_path / "a.txt").pages] == [1, 2]


def test_prefecture_is_detected_when_metadata_is_missing(tmp_path):
    (tmp_path / "a.txt").write_text("岡山県DX推進指針\n岡山県は…岡山県の", encoding="utf-8")
    assert read(tmp_path / "a.txt").meta.prefecture == "岡山県"


def test_metadata_prefecture_is_canonical_and_wins(small_corpus):
    meta = load_metadata(small_corpus)
    assert meta["tokushima.txt"].prefecture == "徳島県"
    assert meta["mie.txt"].prefecture == "三重県"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[documents."a.txt"]\nprefecture = "Atlantis"\n', "not a prefecture"),
        ('[documents."a.txt"]\ncolour = "red"\n', "unknown keys"),
        ("[documents\n", "not valid TOML"),
    ],
)
def test_bad_metadata_is_a_clear_error(tmp_path, toml, message):
    write_files(tmp_path / "c", {"metadata.toml": toml})
    with pytest.raises(CorpusError, match=message):
        load_metadata(tmp_path / "c")


def test_list_sources_skips_metadata_and_hidden_files(small_corpus):
    (small_corpus / ".hidden.txt").write_text("x")
    (small_corpus / "sub").mkdir()
    (small_corpus / "sub" / "deep.txt").write_text("深い")
    ids = [s.doc_id for s in list_sources(small_corpus)]
    assert ids == ["mie.txt", "okayama.md", "sub/deep.txt", "tokushima.txt"]


def test_missing_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        list(list_sources(tmp_path / "nope"))


def test_a_national_or_other_issuer_gets_no_guessed_prefecture(tmp_path):
    (tmp_path / "a.txt").write_text("静岡県DX推進計画\n静岡県は…静岡県の", encoding="utf-8")
    (tmp_path / "metadata.toml").write_text('[documents."a.txt"]\nissuer = "国"\n', encoding="utf-8")
    assert read(tmp_path / "a.txt", load_metadata(tmp_path)["a.txt"]).meta.prefecture is None
    assert read(tmp_path / "a.txt").meta.prefecture == "静岡県"  # without the issuer it is still detected


def test_a_huge_text_file_is_refused_with_a_reason(tmp_path, monkeypatch):
    import rag.ingest.documents

    monkeypatch.setattr(rag.ingest.documents, "MAX_DOCUMENT_CHARS", 1000)
    (tmp_path / "big.txt").write_text("大きな文書の行です。\n" * 200, encoding="utf-8")
    with pytest.raises(IngestError, match="split it"):
        read(tmp_path / "big.txt")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_text(tmp_path, encoding):
    text = "高知県の計画。目標は令和7年度に500件。\nKPI: 1,800 cases\n"
    (tmp_path / "a.txt").write_bytes(text.encode(encoding))
    assert read(tmp_path / "a.txt").pages[0].text == text
    (tmp_path / "ascii.txt").write_bytes("plan 2024 target 100%\n".encode(encoding))  # no kana to tell the order by
    assert read(tmp_path / "ascii.txt").pages[0].text == "plan 2024 target 100%\n"


def test_a_binary_file_named_txt_is_still_refused(tmp_path):
    (tmp_path / "b.txt").write_bytes(bytes(range(256)) * 8)
    with pytest.raises(IngestError, match="binary"):
        read(tmp_path / "b.txt")

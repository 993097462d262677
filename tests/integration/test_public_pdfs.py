"""The four real public-sector PDFs index with page numbers, and answers cite their pages."""

import shutil

import pytest

from rag.index.build import build_index
from rag.pipeline import Rag
from rag.settings import Settings
from tests.conftest import MODELS, REPO

PDFS = REPO / "tests" / "fixtures" / "public-pdfs"
PAGES = {"000843318.pdf": 84, "01point.pdf": 12, "10.pdf": 22, "qa_futankeigen.pdf": 15}


@pytest.fixture(scope="module")
def pdf_rag(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("pdfs")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in PAGES:
        shutil.copy(PDFS / name, corpus / name)
    report = build_index(corpus, root / "index", embedder)
    return report, Rag(Settings(corpus=corpus, index=root / "index", models_dir=MODELS), embedder=embedder)


def test_all_four_index_without_error(pdf_rag):
    report, rag = pdf_rag
    assert report.failed == () and sorted(report.added) == sorted(PAGES)
    for doc_id, n_pages in PAGES.items():
        pages = [c.page for c in rag.index.chunks if c.doc_id == doc_id]
        assert pages and all(1 <= p <= n_pages for p in pages), doc_id
    # the owner-password (AES) PDF is read like any other
    assert any("少額特例" in c.text for c in rag.index.chunks if c.doc_id == "qa_futankeigen.pdf")
    # the guideline's blank pages are reported, not indexed
    assert any("blank pages skipped" in w for w in rag.index.documents["000843318.pdf"].warnings)


def test_answer_cites_the_page(pdf_rag):
    _, rag = pdf_rag
    answer = rag.ask("少額特例の適用対象期間は？")
    top = answer.citations[0]
    assert (top.doc_id, top.page) == ("qa_futankeigen.pdf", 9)
    assert "令和5年10月1日" in answer.short_answer


def test_page_numbers_are_not_indexed_as_content(pdf_rag):
    _, rag = pdf_rag
    for c in rag.index.chunks:
        if c.doc_id == "10.pdf":
            assert not c.text.lstrip().startswith(f"- {c.page - 1} -")

"""Document text is always inert in the app: escaped HTML, escaped markdown."""

import pytest

from rag.render import answer_markdown, citation_html, escape_markdown, info_markdown
from rag.types import Answer, Citation

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click me](javascript:alert(1))",
    "**bold** _it_ `code`",
]


def cite(text, highlights=()):
    return Citation(1, "evil.html", "<b>title</b>", "徳島県", 3, text, 0.5, "c1", tuple(highlights))


@pytest.mark.parametrize("text", HOSTILE)
def test_citation_html_escapes_document_text(text):
    out = citation_html(cite(text, [(0, 5)]))
    assert "<script" not in out and "<img" not in out and "<b>title" not in out
    assert "&lt;" in out or "[" in out


@pytest.mark.parametrize("text", HOSTILE)
def test_answer_markdown_escapes(text):
    md = answer_markdown(Answer("q", text, text, True, (cite(text),)))
    assert "<script" not in md and "](javascript" not in md and "**bold**" not in md


def test_highlight_is_marked():
    out = citation_html(cite("目標は100%です", [(3, 7)]))
    assert "<mark>100%</mark>" in out


def test_pdf_link_opens_at_the_page():
    out = citation_html(Citation(1, "plan.pdf", "t", None, 12, "x", 0.1, "c"), file_url=lambda d: f"/files/{d}")
    assert 'href="/files/plan.pdf#page=12"' in out


def test_escape_markdown():
    assert escape_markdown("[a](b)") == "\\[a\\]\\(b\\)"


def test_info_lists_build_errors():
    info = {
        "model": {"id": "m", "dim": 3},
        "chunks": 1,
        "built_at": "now",
        "prefectures": [],
        "documents": [],
        "failures": [{"doc_id": "bad.pdf", "reason": "the PDF needs a password to open"}],
    }
    assert "bad\\.pdf: the PDF needs a password to open" in info_markdown(info)

"""Document text is always inert in the app: escaped HTML, escaped markdown; answers show what
kind they are, [n] links open their passage, copy gives plain text with a source line."""

import pytest

from rag.types import Answer, Citation
from rag.web.render import answer_markdown, citation_html, escape_markdown, info_html, plain_text, turns_html, when

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click me](javascript:alert(1))",
    "**bold** _it_ `code`",
]


def cite(text, highlights=(), n=1, doc="evil.html", page=3):
    return Citation(n, doc, "<b>title</b>", "徳島県", page, text, 0.5, f"c{n}", tuple(highlights))


@pytest.mark.parametrize("text", HOSTILE)
def test_citation_html_escapes_document_text(text):
    out = citation_html(cite(text, [(0, 5)]))
    assert "<script" not in out and "<img" not in out and "<b>title" not in out
    assert "&lt;" in out or "[" in out


@pytest.mark.parametrize("text", HOSTILE)
def test_answer_markdown_escapes(text):
    md = answer_markdown(Answer("q", text, text, True, (cite(text),), answer_type="value", grounded=True))
    assert "<script" not in md and "](javascript" not in md and "**bold**" not in md


def test_highlight_is_marked_and_the_first_is_the_focus():
    out = citation_html(cite("目標は100%です。実績は95%", [(3, 7), (13, 16)]))
    assert '<mark class="focus">100%</mark>' in out and "<mark>95%</mark>" in out


def test_tab_separated_rows_show_as_a_table():
    out = citation_html(cite("指標\n年度\t目標\t実績\n令和3年度\t90%\t95%\n注記"))
    assert "<table" in out and "<td>令和3年度</td><td>90%</td><td>95%</td>" in out


KINDS = [
    (Answer("q", "100% — 徳島県 [1]", "100%", True, (cite("100%"),), answer_type="value", grounded=True), "**100%**"),
    (Answer("q", "本文 [1]", None, True, (cite("本文"),), answer_type="passage"), "文書からの抜粋"),
    (
        Answer("q", "該当する記述は見つかりませんでした。", None, False, (), answer_type="none"),
        "直接の答えは見つかりませんでした",
    ),
]


@pytest.mark.parametrize(("answer", "shown"), KINDS)
def test_each_kind_of_answer_looks_like_what_it_is(answer, shown):
    md = answer_markdown(answer)
    assert shown in md
    assert ("**" in md) == (answer.answer_type == "value")  # only a grounded value is bold


def test_markers_link_to_their_passage_and_sources_are_listed_once():
    a = Answer(
        "q", "本文 [1] 続き [2]", None, True, (cite("a", n=1), cite("b", n=2), cite("c", n=3, page=9)), answer_type="passage"
    )
    md = answer_markdown(a, turn=4)
    assert "(#cite-4-1)" in md and "(#cite-4-2)" in md
    # [1] and [2] are the same document page: one source entry with both numbers
    assert md.count("&lt;b&gt;title&lt;/b&gt; p\\.3") == 1 and "p\\.9" in md


def test_copy_is_plain_text_with_a_source_line():
    a = Answer(
        "q", "100% — 徳島県「デジタルとくしま推進プラン」 [1]", "100%", True, (cite("x", doc="plan.txt"),), answer_type="value"
    )
    text = plain_text(a)
    assert "\\" not in text and "**" not in text
    assert text.splitlines()[0] == "100%"
    assert text.splitlines()[-1] == "出典：[1] 徳島県『<b>title</b>』p.3"


def test_every_answer_keeps_its_own_passages():
    turns = [
        {"question": "一つ目", "answer": Answer("一つ目", "a [1]", None, True, (cite("第一", n=1),)).to_dict()},
        {"question": "二つ目", "answer": Answer("二つ目", "b [1]", None, True, (cite("第二", n=1),)).to_dict()},
    ]
    out = turns_html(turns, selected=0)
    assert '<section class="turn" id="turn-0">' in out and '<section class="turn" id="turn-1" hidden>' in out
    assert 'id="cite-0-1"' in out and 'id="cite-1-1"' in out


def test_escape_markdown():
    assert escape_markdown("[a](b)") == "\\[a\\]\\(b\\)"


def test_index_info_is_readable():
    info = {
        "model": {"id": "multilingual-e5-small", "dim": 384},
        "chunks": 1,
        "built_at": "2026-12-02T01:17:28.418929+00:00",
        "prefectures": [],
        "documents": [],
        "failures": [{"doc_id": "bad.pdf", "reason": "the PDF needs a password to open"}],
    }
    out = info_html(info)
    assert "multilingual-e5-small" in out and "\\-" not in out  # no markdown escapes
    assert "2026年12月02日 10:17（日本時間）" in out  # Japan time, to the minute
    assert "bad.pdf: the PDF needs a password to open" in out
    assert when("2026-12-02T01:17:28+00:00", "en") == "2026-12-02 10:17 JST"


def test_sources_name_document_page_and_section_once():
    from dataclasses import replace

    first, second = replace(cite("本文", n=1), section="第2章 取組"), cite("本文2", n=2)
    a = Answer("q", "x [1] y [2]", None, True, (first, second), answer_type="passage")
    md = answer_markdown(a)
    sources_line = md.split("\n\n")[-1]
    assert sources_line.count("p\\.3") == 1 and "「第2章 取組」" in sources_line  # markdown-escaped


def test_an_ocr_passage_carries_the_badge_and_a_plain_one_does_not():
    from dataclasses import replace

    from rag.web.render import citation_html

    assert "badge" in citation_html(replace(cite("本文"), ocr=True)) and ">OCR<" in citation_html(replace(cite("本文"), ocr=True))
    assert ">OCR<" not in citation_html(cite("本文"))


HEADLINES = [
    (dict(answerable=True, answer_type="value"), True),
    (dict(answerable=True, answer_type="list"), True),
    (dict(answerable=False, answer_type="value"), False),  # the reader kept a value it could not ground
    (dict(answerable=True, answer_type="passage"), False),
    (dict(answerable=True, answer_type="generated"), False),
    (dict(answerable=False, answer_type="none"), False),
]


@pytest.mark.parametrize(("kind", "shown"), HEADLINES)
def test_every_surface_shows_a_short_answer_only_when_a_span_states_it(kind, shown, capsys, monkeypatch):
    import rag.cli

    answer = Answer("q", "本文 [1]", "100%", citations=(cite("目標は100%"),), **kind)
    assert ("**100%**" in answer_markdown(answer)) is shown
    assert (plain_text(answer).splitlines()[0] == "100%") is shown

    class Asking:
        def ask(self, *a):
            return answer

    monkeypatch.setattr(rag.cli, "_rag", lambda args: Asking())
    assert rag.cli.main(["ask", "q"]) == 0
    assert (capsys.readouterr().out.splitlines()[0] == "100%") is shown

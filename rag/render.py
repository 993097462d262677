"""Turn Answers into safe HTML/markdown for the app. Document text is always
escaped: a passage containing <script>, HTML or markdown links stays inert text."""

from __future__ import annotations

import html
import re

from rag.types import Answer, Citation

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def escape_markdown(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def cite_label(c: Citation) -> str:
    page = f" p.{c.page}" if c.page else ""
    pref = f"{c.prefecture} " if c.prefecture else ""
    return f"{pref}{c.title}{page}"


def answer_markdown(answer: Answer) -> str:
    parts = []
    if answer.short_answer and answer.answerable:
        parts.append(f"**{escape_markdown(answer.short_answer)}**")
    parts.append(escape_markdown(answer.answer))
    if answer.citations:
        heading = "Sources" if answer.answerable else "Related passages"
        parts.append(f"*{heading}:* " + " ".join(f"[{c.n}] {escape_markdown(cite_label(c))}" for c in answer.citations))
    return "\n\n".join(parts)


def citation_html(c: Citation) -> str:
    """The passage with its highlighted spans, every piece escaped."""
    text = c.text
    pieces: list[str] = []
    pos = 0
    for start, end in sorted(c.highlights):
        if start < pos:
            continue
        pieces.append(html.escape(text[pos:start]))
        pieces.append(f"<mark>{html.escape(text[start:end])}</mark>")
        pos = end
    pieces.append(html.escape(text[pos:]))
    body = "".join(pieces).replace("\n", "<br>")
    return (
        f'<div class="citation"><div class="cite-head">[{c.n}] {html.escape(cite_label(c))}'
        f' <span class="doc-id">({html.escape(c.doc_id)})</span></div><div class="cite-body">{body}</div></div>'
    )


def citations_html(answer: Answer) -> str:
    if not answer.citations:
        return "<p>No passages.</p>"
    return "\n".join(citation_html(c) for c in answer.citations)

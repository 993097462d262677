"""Turn Answers and index info into safe HTML/markdown for the app. Document text is
always escaped: a passage holding <script>, HTML or markdown links stays inert text."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from rag.types import Answer, Citation

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def escape_markdown(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def cite_label(c: Citation) -> str:
    page = f" p.{c.page}" if c.page else ""
    pref = f"{c.prefecture} " if c.prefecture else ""
    return f"{pref}{c.title}{page}"


GROUNDED_TYPES = ("value", "date", "name", "list")


def answer_markdown(answer: Answer) -> str:
    """Bold only for a short answer a cited span states; passages and "no direct answer"
    are marked as what they are, so a guess never looks like an answer."""
    parts = []
    if answer.short_answer and answer.answerable and answer.answer_type in GROUNDED_TYPES:
        parts.append(f"**{escape_markdown(answer.short_answer)}**")
    elif answer.answer_type == "none":
        parts.append("⚠️ *直接の答えは見つかりませんでした — No direct answer*")
    elif answer.answer_type == "passage":
        parts.append("*文書からの抜粋 — Quoted from the documents (not a single value)*")
    parts.append(escape_markdown(answer.answer))
    if answer.citations:
        heading = "Sources" if answer.answerable else "Related passages"
        parts.append(f"*{heading}:* " + " ".join(f"\\[{c.n}\\] {escape_markdown(cite_label(c))}" for c in answer.citations))
    return "\n\n".join(parts)


def source_url(c: Citation, file_url) -> str | None:
    """Where the app serves the cited document; PDFs open at the cited page."""
    url = file_url(c.doc_id)
    if url is None:
        return None
    return f"{url}#page={c.page}" if c.page and c.doc_id.lower().endswith(".pdf") else url


def citation_html(c: Citation, file_url=lambda doc_id: None, open_: bool = False) -> str:
    """One citation as a collapsible block: title, prefecture, page, source link, and the
    passage with its highlighted spans. Every piece of document text is escaped."""
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
    url = source_url(c, file_url)
    link = f' <a class="source-link" href="{html.escape(url)}" target="_blank" rel="noopener">open source</a>' if url else ""
    return (
        f'<details class="citation" data-n="{c.n}"{" open" if open_ else ""}><summary>[{c.n}] {html.escape(cite_label(c))}'
        f' <span class="doc-id">({html.escape(c.doc_id)})</span></summary>'
        f'<div class="cite-meta">{html.escape(c.prefecture or "—")} · {html.escape(c.title)}'
        f'{f" · p.{c.page}" if c.page else ""}{link}</div><div class="cite-body">{body}</div></details>'
    )


def citations_html(answer: Answer | None, file_url=lambda doc_id: None) -> str:
    if answer is None or not answer.citations:
        return '<p class="no-citations">No passages yet.</p>'
    return "\n".join(citation_html(c, file_url, open_=i == 0) for i, c in enumerate(answer.citations))


def file_route(doc_id: str, corpus_abs: str) -> str:
    return "/gradio_api/file=" + quote(f"{corpus_abs}/{doc_id}")


def info_markdown(info: dict) -> str:
    lines = [
        f"**Model** `{escape_markdown(info['model']['id'])}` (dim {info['model']['dim']}) · **chunks** {info['chunks']} · "
        f"**last build** {escape_markdown(info['built_at'])}",
        f"**Prefectures**: {escape_markdown('、'.join(info['prefectures']) or '—')}",
        "",
        "| document | prefecture | title | pages | chunks | warnings |",
        "|---|---|---|---|---|---|",
    ]
    for d in info["documents"]:
        lines.append(
            f"| {escape_markdown(d['doc_id'])} | {escape_markdown(d['meta'].get('prefecture') or '—')} | "
            f"{escape_markdown(d['title'])} | {d['pages']} | {d['chunks']} | {escape_markdown('; '.join(d.get('warnings', [])))} |"
        )
    if info["failures"]:
        lines += ["", "**Errors of the last build**", ""]
        lines += [f"- {escape_markdown(f['doc_id'])}: {escape_markdown(f['reason'])}" for f in info["failures"]]
    return "\n".join(lines)

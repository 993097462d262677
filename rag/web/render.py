"""Answers, passages and index facts as safe markdown / HTML for the app.

Document text is always escaped: a passage holding <script>, HTML or markdown links stays
inert text. `[n]` markers become links to `#cite-<turn>-<n>`, which the page's script turns
into "open that passage" (see `web.app.PAGE_JS`)."""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from rag.types import Answer, Citation
from rag.web.strings import t

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")
_MARKER = re.compile(r"\\\[(\d+)\\\]")  # an escaped [n] in escaped markdown
JST = ZoneInfo("Asia/Tokyo")


def escape_markdown(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def cite_label(c: Citation) -> str:
    page = f" p.{c.page}" if c.page else ""
    pref = f"{c.prefecture} " if c.prefecture else ""
    section = c.section if c.section and len(c.section) <= 40 else (c.section[:39] + "…" if c.section else "")
    return f"{pref}{c.title}{page}{f'「{section}」' if section else ''}"


def sources(answer: Answer) -> list[tuple[list[int], Citation]]:
    """Each cited document page once, with the numbers that point at it."""
    out: dict[tuple[str, int | None], tuple[list[int], Citation]] = {}
    for c in answer.citations:
        out.setdefault((c.doc_id, c.page), ([], c))[0].append(c.n)
    return list(out.values())


def answer_markdown(answer: Answer, turn: int = 0, lang: str = "ja") -> str:
    """One chat reply: what kind of answer it is, the bold value only when a cited span states
    it, the answer with clickable [n], and each source once."""
    parts = []
    if answer.headline:
        parts.append(f"**{escape_markdown(answer.headline)}**")
    elif answer.answer_type == "none":
        parts.append(f"⚠️ *{t(lang, 'kind_none')}*")
    elif answer.answer_type == "passage":
        parts.append(f"*{t(lang, 'kind_passage')}*")
    elif answer.answer_type == "generated":
        parts.append(f"*{t(lang, 'kind_generated', model=escape_markdown((answer.generator or {}).get('model', '')))}*")
    body = escape_markdown(answer.answer)
    parts.append(_MARKER.sub(lambda m: f"[\\[{m.group(1)}\\]](#cite-{turn}-{m.group(1)})", body))
    if answer.citations:
        listed = " · ".join(
            "".join(f"[\\[{n}\\]](#cite-{turn}-{n})" for n in numbers) + f" {escape_markdown(cite_label(c))}"
            for numbers, c in sources(answer)
        )
        parts.append(f"*{t(lang, 'sources')}:* {listed}")
    return "\n\n".join(parts)


def plain_text(answer: Answer, lang: str = "ja") -> str:
    """What "copy" puts on the clipboard: the answer as text, then one source line per document."""
    lines = []
    if answer.headline:
        lines.append(answer.headline)
    lines.append(answer.answer)
    for numbers, c in sources(answer):
        page = f"p.{c.page}" if c.page else ""
        where = f"{c.prefecture or ''}『{c.title}』{page}" if lang == "ja" else f"{c.prefecture or ''} “{c.title}” {page}".strip()
        lines.append(t(lang, "source_line", sources="".join(f"[{n}]" for n in numbers) + " " + where))
    return "\n".join(lines)


def _passage_body(c: Citation) -> str:
    """The passage, escaped, with its highlights marked (the first one `focus`); table rows
    (tab-separated cells) as a table."""
    text = c.text
    pieces: list[str] = []
    pos = 0
    first = True
    for start, end in sorted(c.highlights):
        if start < pos:
            continue
        pieces.append(html.escape(text[pos:start]))
        attrs = ' class="focus"' if first else ""
        pieces.append(f"<mark{attrs}>{html.escape(text[start:end])}</mark>")
        first = False
        pos = end
    pieces.append(html.escape(text[pos:]))
    body = "".join(pieces)
    lines = body.split("\n")
    out: list[str] = []
    table: list[str] = []
    for line in [*lines, None]:
        if line is not None and "\t" in line:
            table.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in line.split("\t")) + "</tr>")
            continue
        if table:
            out.append('<table class="cells">' + "".join(table) + "</table>")
            table = []
        if line is not None:
            out.append(line)
    return "<br>".join(x for x in out if x is not None)


def citation_html(c: Citation, turn: int = 0, lang: str = "ja", open_: bool = False, file_url=lambda doc_id: None) -> str:
    """One cited passage: label, prefecture, title, page, the passage with its highlighted
    spans, "open in document", and for a PDF a link to the original at that page."""
    url = file_url(c.doc_id)
    link = ""
    if url and c.doc_id.lower().endswith(".pdf"):
        link = f' · <a class="source-link" href="{html.escape(url)}#page={c.page or 1}" target="_blank" rel="noopener">PDF</a>'
    ocr = f' <span class="badge" title="{html.escape(t(lang, "ocr_badge"))}">OCR</span>' if c.ocr else ""
    return (
        f'<details class="citation" id="cite-{turn}-{c.n}" data-n="{c.n}"{" open" if open_ else ""}>'
        f"<summary>[{c.n}] {html.escape(cite_label(c))}{ocr}</summary>"
        f'<div class="cite-meta">{html.escape(c.prefecture or "—")} · {html.escape(c.title)}'
        f'{f" · p.{c.page}" if c.page else ""} · <span class="doc-id">{html.escape(c.doc_id)}</span>{link}'
        f' · <button class="open-source" data-cite="{turn}-{c.n}">{html.escape(t(lang, "open_source"))}</button></div>'
        f'<div class="cite-body">{_passage_body(c)}</div></details>'
    )


def turns_html(turns: list[dict], selected: int | None, lang: str = "ja", file_url=lambda doc_id: None) -> str:
    """Every answer's passages, each answer in its own section; only the selected one shows."""
    if not turns:
        return f'<p class="no-citations">{html.escape(t(lang, "no_passages"))}</p>'
    selected = len(turns) - 1 if selected is None else selected
    sections = []
    for k, turn in enumerate(turns):
        if turn.get("answer"):
            answer = Answer.from_dict(turn["answer"])
            cites = "\n".join(citation_html(c, k, lang, open_=i == 0, file_url=file_url) for i, c in enumerate(answer.citations))
        else:  # a question that got an error instead of an answer has no passages
            cites = f'<p class="no-citations">{html.escape(t(lang, "no_passages"))}</p>'

        hidden = "" if k == selected else " hidden"
        sections.append(
            f'<section class="turn" id="turn-{k}"{hidden}><p class="turn-q">{html.escape(turn["question"])}</p>{cites}</section>'
        )
    return '<div class="passages-scroll">' + "\n".join(sections) + "</div>"


def when(iso: str, lang: str = "ja") -> str:
    """A build time as people read it: Japan time, to the minute."""
    try:
        moment = datetime.fromisoformat(iso).astimezone(JST)
    except ValueError:
        return iso
    return moment.strftime("%Y年%m月%d日 %H:%M（日本時間）" if lang == "ja" else "%Y-%m-%d %H:%M JST")


def info_html(info: dict, lang: str = "ja") -> str:
    rows = []
    for d in info["documents"]:
        cells = [
            d["doc_id"],
            d["meta"].get("prefecture") or "—",
            d["title"],
            str(d["pages"]),
            str(d["chunks"]),
            "; ".join(d.get("warnings", [])),
        ]
        rows.append("<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in cells) + "</tr>")
    heads = ("doc_col_id", "doc_col_pref", "doc_col_title", "doc_col_pages", "doc_col_chunks", "doc_col_warn")
    summary = (
        f"<p><b>{t(lang, 'model')}</b> {html.escape(info['model']['id'])} (dim {info['model']['dim']}) · "
        f"<b>{t(lang, 'chunks')}</b> {info['chunks']} · <b>{t(lang, 'built')}</b> {html.escape(when(info['built_at'], lang))}</p>"
        f"<p><b>{t(lang, 'prefectures')}</b> {html.escape('、'.join(info['prefectures']) or '—')}</p>"
    )
    table = (
        '<div class="table-wrap"><table class="docs"><thead><tr>'
        + "".join(f"<th>{t(lang, h)}</th>" for h in heads)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )
    failures = ""
    if info["failures"]:
        items = "".join(f"<li>{html.escape(f['doc_id'])}: {html.escape(f['reason'])}</li>" for f in info["failures"])
        failures = f"<p><b>{t(lang, 'failures')}</b></p><ul>{items}</ul>"
    return summary + table + failures

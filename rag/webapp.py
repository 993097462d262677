"""The Gradio UI: layout and event wiring only. Answers come from `rag.pipeline.Rag`,
uploads from `rag.admin`, and every piece of document text is escaped by `rag.render`."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from rag.admin import add_upload, check_token
from rag.errors import RagError
from rag.pipeline import Rag, answer_json
from rag.query import MAX_QUESTION_CHARS
from rag.render import answer_markdown, citations_html, escape_markdown, file_route, info_markdown

EXAMPLES = [
    "徳島県の2022年度の電子決裁の目標は？",
    "what is Tokushima's 2022 e-approval target",
    "岡山県DX推進指針の対象期間は？",
    "みえDXセンターとは何ですか",
    "How long does the Okayama DX guideline run?",
    "三重県のスマート自治体推進事業の令和2年度予算額は？",
]
ALL = "(all)"
CSS = """
.citation {border:1px solid var(--border-color-primary); border-radius:6px; padding:6px 10px; margin:6px 0}
.citation summary {cursor:pointer; font-weight:600}
.cite-meta {font-size:0.85em; opacity:0.8; margin:4px 0}
.cite-body {white-space:normal; line-height:1.6}
.cite-body mark {background:#ffe066; padding:0 2px}
"""


def _choices(rag: Rag) -> tuple[list[str], list[tuple[str, str]]]:
    index = rag.index
    docs = [(ALL, ALL)] + [(f"{d.title} ({d.doc_id})", d.doc_id) for d in index.documents.values()]
    return [ALL, *index.prefectures], docs


def build_app(rag: Rag, admin_token: str | None = None) -> gr.Blocks:
    corpus_abs = str(Path(rag.settings.corpus).resolve())
    upload_types = [".pdf", ".txt", ".md", ".docx", ".html", ".htm"]

    def file_url(doc_id: str) -> str | None:
        return file_route(doc_id, corpus_abs) if (Path(corpus_abs) / doc_id).is_file() else None

    def respond(question: str, chat: list, history: list, prefecture: str, document: str):
        chat, history = list(chat or []), list(history or [])
        question = (question or "").strip()
        if not question:
            gr.Warning("Type a question first (質問を入力してください).")
            return gr.update(), chat, history, gr.update()
        if len(question) > MAX_QUESTION_CHARS:
            gr.Warning(f"The question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}.")
            return gr.update(), chat, history, gr.update()
        try:
            answer = rag.ask(
                question,
                None if prefecture in (None, ALL) else prefecture,
                None if document in (None, ALL) else document,
                history,
            )
        except RagError as e:
            chat += [
                {"role": "user", "content": escape_markdown(question)},
                {"role": "assistant", "content": f"⚠️ {escape_markdown(str(e))}"},
            ]
            return "", chat, history, gr.update()
        chat += [
            {"role": "user", "content": escape_markdown(question)},
            {"role": "assistant", "content": answer_markdown(answer)},
        ]
        return "", chat, [*history, question], citations_html(answer, file_url)

    def ask_api(question: str, prefecture: str | None = None, document: str | None = None, history: list | None = None) -> dict:
        """The stable API: one question in, the answer JSON of `rag ask --json` out."""
        try:
            return answer_json(rag.ask(question, prefecture or None, document or None, list(history or [])))
        except RagError as e:
            raise gr.Error(str(e)) from e

    def upload(token: str, files: list | None, prefecture: str, title: str, year: str) -> str:
        try:
            check_token(token, admin_token)
            if not files:
                return "Choose one or more files first."
            lines = []
            for f in files:
                path = Path(f if isinstance(f, str) else f.name)
                try:
                    result = add_upload(rag.settings.corpus, path, Path(path).name, prefecture, title, year)
                except RagError as e:
                    lines.append(f"- ✗ {escape_markdown(str(e))}")
                    continue
                if result.added:
                    lines.append(f"- ✓ added **{escape_markdown(result.doc_id)}**")
                else:
                    lines.append(
                        f"- = {escape_markdown(path.name)} is already in the corpus as {escape_markdown(result.duplicate_of or '')}"
                    )
            return "\n".join(lines) + "\n\nPress **Rebuild index** to make new files searchable."
        except RagError as e:
            return f"⚠️ {escape_markdown(str(e))}"

    def rebuild(token: str, progress=gr.Progress()):  # noqa: B008 - how gradio injects a progress bar
        try:
            check_token(token, admin_token)
            labels = {"read": "reading documents", "pages": "reading pages", "embed": "embedding"}
            report = rag.build(progress=lambda stage, done, total: progress(done / max(total, 1), desc=labels.get(stage, stage)))
        except Exception as e:
            detail = str(e) if isinstance(e, RagError) else f"{e.__class__.__name__}: {e}"
            failed_msg = f"⚠️ Rebuild failed, the previous index keeps serving: {escape_markdown(detail)}"
            return failed_msg, gr.update(), gr.update(), gr.update()
        failed = "".join(f"\n- ✗ {escape_markdown(f.doc_id)}: {escape_markdown(f.reason)}" for f in report.failed)
        msg = (
            f"✓ Rebuilt in {report.seconds:.1f}s: {len(report.added)} added, {len(report.updated)} updated, "
            f"{len(report.removed)} removed, {report.chunks} chunks ({report.embedded} embedded).{failed}"
        )
        prefs, docs = _choices(rag)
        return msg, info_markdown(rag.info()), gr.update(choices=prefs), gr.update(choices=docs)

    prefs, docs = _choices(rag)
    with gr.Blocks(title="計画文書 Q&A") as demo:
        gr.Markdown("## 計画文書 Q&A — ask the plan documents (日本語 / English)")
        history = gr.State([])
        with gr.Tab("Ask", id="ask"), gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Answers", height=460, elem_id="chat")
                question = gr.Textbox(
                    label="Question", placeholder="徳島県の2022年度の電子決裁の目標は？", max_lines=4, elem_id="question"
                )
                with gr.Row():
                    send = gr.Button("Ask", variant="primary", elem_id="ask-button")
                    clear = gr.Button("New conversation")
                gr.Examples(EXAMPLES, inputs=question, label="Examples (click one)")
            with gr.Column(scale=2):
                with gr.Row():
                    prefecture = gr.Dropdown(prefs, value=ALL, label="Prefecture")
                    document = gr.Dropdown(docs, value=ALL, label="Document")
                passages = gr.HTML(citations_html(None), label="Cited passages", elem_id="passages")
        with gr.Tab("Index", id="index"):
            info = gr.Markdown(info_markdown(rag.info()))
            refresh = gr.Button("Refresh")
        with gr.Tab("Admin", id="admin", visible=bool(admin_token)):
            token = gr.Textbox(label="Admin token", type="password")
            files = gr.File(
                label="Plan files (pdf, txt, md, docx, html; up to 100 MB each)", file_count="multiple", file_types=upload_types
            )
            with gr.Row():
                up_pref = gr.Textbox(label="Prefecture (optional)")
                up_title = gr.Textbox(label="Title (optional)")
                up_year = gr.Textbox(label="Fiscal year (optional)", placeholder="令和5年度")
            with gr.Row():
                upload_btn = gr.Button("Upload")
                rebuild_btn = gr.Button("Rebuild index", variant="primary")
            admin_status = gr.Markdown()

        inputs = [question, chat, history, prefecture, document]
        outputs = [question, chat, history, passages]
        send.click(respond, inputs, outputs, api_visibility="private")
        question.submit(respond, inputs, outputs, api_visibility="private")
        clear.click(lambda: ([], [], citations_html(None)), None, [chat, history, passages], api_visibility="private")
        refresh.click(lambda: info_markdown(rag.info()), None, info, api_visibility="private")
        upload_btn.click(upload, [token, files, up_pref, up_title, up_year], admin_status, api_visibility="private")
        rebuild_btn.click(
            rebuild,
            [token],
            [admin_status, info, prefecture, document],
            api_visibility="private",
            concurrency_limit=1,
            concurrency_id="rebuild",
        )
        api_in = [gr.Textbox(visible=False), gr.Textbox(visible=False), gr.Textbox(visible=False), gr.JSON(visible=False)]
        api_out = gr.JSON(visible=False)
        gr.Button(visible=False).click(ask_api, api_in, api_out, api_name="ask")
    return demo


def launch(rag: Rag, host: str, port: int, admin_token: str | None) -> None:
    demo = build_app(rag, admin_token)
    demo.queue(default_concurrency_limit=8).launch(
        server_name=host,
        server_port=port,
        allowed_paths=[str(Path(rag.settings.corpus).resolve())],
        css=CSS,
        show_error=True,
    )

"""The Gradio UI: layout and event wiring only; answers come from `rag.pipeline.Rag`."""

from __future__ import annotations

import gradio as gr

from rag.errors import RagError
from rag.pipeline import Rag, answer_json
from rag.render import answer_markdown, citations_html, escape_markdown

EXAMPLES = [
    "徳島県の2022年度の電子決裁の目標は？",
    "what is Tokushima's 2022 e-approval target",
    "みえDXセンターとは何ですか",
    "岡山県DX推進指針の対象期間は？",
]
ALL = "(all)"


def build_app(rag: Rag) -> gr.Blocks:
    prefectures = [ALL, *rag.index.prefectures]

    def respond(question: str, history: list, prefecture: str):
        history = list(history or [])
        question = (question or "").strip()
        try:
            answer = rag.ask(question, None if prefecture in (None, ALL) else prefecture)
        except RagError as e:
            history += [
                {"role": "user", "content": escape_markdown(question)},
                {"role": "assistant", "content": f"⚠️ {escape_markdown(str(e))}"},
            ]
            return "", history, ""
        history += [
            {"role": "user", "content": escape_markdown(question)},
            {"role": "assistant", "content": answer_markdown(answer)},
        ]
        return "", history, citations_html(answer)

    def ask_api(question: str, prefecture: str | None = None) -> dict:
        try:
            return answer_json(rag.ask(question, prefecture or None))
        except RagError as e:
            raise gr.Error(str(e)) from e

    with gr.Blocks(title="Plan documents Q&A") as demo:
        gr.Markdown("## 計画文書 Q&A — ask the plan documents (日本語 / English)")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Answers", height=480)
                question = gr.Textbox(label="Question", placeholder="徳島県の2022年度の電子決裁の目標は？", max_length=2000)
                with gr.Row():
                    send = gr.Button("Ask", variant="primary")
                    clear = gr.Button("Clear")
                gr.Examples(EXAMPLES, inputs=question)
            with gr.Column(scale=2):
                prefecture = gr.Dropdown(prefectures, value=ALL, label="Prefecture")
                passages = gr.HTML(label="Cited passages")
        send.click(respond, [question, chat, prefecture], [question, chat, passages], api_visibility="private")
        question.submit(respond, [question, chat, prefecture], [question, chat, passages], api_visibility="private")
        clear.click(lambda: ([], ""), None, [chat, passages], api_visibility="private")
        api_q = gr.Textbox(visible=False)
        api_p = gr.Textbox(visible=False)
        api_out = gr.JSON(visible=False)
        api_btn = gr.Button(visible=False)
        api_btn.click(ask_api, [api_q, api_p], api_out, api_name="ask")
    return demo

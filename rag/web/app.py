"""The Gradio app: layout and event wiring. What each event does is in `web.handlers` (plain,
tested functions); answers come from `rag.pipeline.Rag`; every piece of document text is
escaped by `web.render`."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from rag.errors import RagError
from rag.ingest.documents import list_sources
from rag.ingest.uploads import (
    NATIONAL,
    OTHER,
    AdminAuthError,
    add_upload,
    check_token,
    current_metadata,
    edit_metadata,
    remove_document,
    replace_document,
)
from rag.lang.prefectures import PREFECTURES
from rag.pipeline import Rag
from rag.types import Answer
from rag.web import handlers as h
from rag.web.evaluator import EvalRunner
from rag.web.render import info_html, turns_html
from rag.web.strings import t
from rag.web.viewer import empty_html, source_html

EXAMPLES = [
    "徳島県の2022年度の電子決裁の目標は？",
    "岡山県DX推進指針の対象期間は？",
    "三重県のスマート自治体推進事業の令和3年度の予算額は？",
    "岡山県DX推進指針はいつ策定されましたか？",
    "What is Tokushima's FY2022 e-approval target?",
    "How long does the Okayama DX guideline run?",
]
LANG_CHOICES = [("日本語", "ja"), ("English", "en")]
UPLOAD_TYPES = [".pdf", ".txt", ".md", ".docx", ".html", ".htm"]
MAX_UPLOAD = "100mb"

CSS = """
.citation {border:1px solid var(--border-color-primary); border-radius:6px; padding:6px 10px; margin:6px 0}
.citation summary {cursor:pointer; font-weight:600}
.citation.flash {outline:3px solid #1f6feb}
.cite-meta {font-size:0.85em; opacity:0.85; margin:4px 0}
.cite-body {white-space:normal; line-height:1.7}
.cite-body table.cells {border-collapse:collapse; margin:4px 0}
.cite-body table.cells td {border:1px solid var(--border-color-primary); padding:2px 6px}
mark {background:#ffe066; color:#111; padding:0 2px}
.dark mark {background:#8a6d00; color:#fff}
.turn-q {font-size:0.9em; opacity:0.8; margin:4px 0}
.passages-scroll {max-height:640px; overflow-y:auto}
.badge {font-size:0.75em; border:1px solid currentColor; border-radius:4px; padding:0 4px}
button.open-source {font-size:0.85em; text-decoration:underline; background:none; border:none; color:var(--link-text-color); cursor:pointer}
#viewer img.page {max-width:100%; border:1px solid var(--border-color-primary); display:block}
#viewer .page-wrap {position:relative}
#eval-last table, #eval-previous table {font-variant-numeric: tabular-nums; white-space: nowrap}
#eval-last, #eval-previous {overflow-x: auto}
#viewer .page-anchor {position:absolute; left:0; width:1px; height:1px}
#viewer .viewer-text {line-height:1.7; max-height:420px; overflow:auto; margin-top:8px}
.table-wrap {overflow-x:auto}
table.docs th {white-space:nowrap}
table.docs td, table.docs th {padding:2px 8px; word-break:keep-all}
#lang-switch {max-width:220px; margin-left:auto}
@media (max-width: 700px) {
  #chat {height:360px !important}
  .gradio-container {padding:4px !important}
}
"""

# The page's own behaviour: [n] links open their passage (of whichever answer they belong to),
# "open in document" asks the server for the viewer, the viewer scrolls to the marked text, and
# <html lang> follows the chosen language.
PAGE_JS = """
<script>
(() => {
  function showTurn(k) {
    document.querySelectorAll('#passages section.turn').forEach(s => { s.hidden = (s.id !== 'turn-' + k); });
  }
  function openCite(k, n) {
    showTurn(k);
    const d = document.getElementById('cite-' + k + '-' + n);
    if (!d) return;
    d.open = true;
    d.scrollIntoView({block: 'nearest'});
    const m = d.querySelector('mark');
    if (m) m.scrollIntoView({block: 'nearest'});
    d.classList.add('flash');
    setTimeout(() => d.classList.remove('flash'), 1200);
  }
  document.addEventListener('click', (e) => {
    const a = e.target.closest('a[href^="#cite-"]');
    if (a) {
      e.preventDefault();
      e.stopPropagation();
      const [, k, n] = a.getAttribute('href').match(/#cite-(\\d+)-(\\d+)/) || [];
      if (k !== undefined) openCite(k, n);
      return;
    }
    const b = e.target.closest('button.open-source');
    if (b) {
      const box = document.querySelector('#viewer-key textarea, #viewer-key input');
      if (!box) return;
      box.value = b.dataset.cite;
      box.dispatchEvent(new Event('input', {bubbles: true}));
      setTimeout(() => document.querySelector('#viewer-go')?.click(), 50);
    }
  }, true);
  new MutationObserver(() => {
    const f = document.querySelector('#viewer #viewer-focus');
    if (f && !f.dataset.seen) {
      f.dataset.seen = '1';
      // on a PDF page the mark sits on the image: scroll once the image has its height
      const img = f.closest('.page-wrap')?.querySelector('img');
      const go = () => requestAnimationFrame(() => f.scrollIntoView({block: 'center'}));
      if (img && !img.complete) img.addEventListener('load', go, {once: true}); else go();
    }
  }).observe(document.documentElement, {subtree: true, childList: true});
})();
</script>
"""
SET_LANG_JS = "(lang) => { document.documentElement.lang = lang || 'ja'; return lang; }"
COPY_JS = "(text) => { if (text && navigator.clipboard) navigator.clipboard.writeText(text); return text; }"


def build_app(rag: Rag, admin_token: str | None = None) -> gr.Blocks:
    corpus = Path(rag.settings.corpus)
    feedback_path = Path(rag.settings.index) / "feedback.jsonl"
    audit_path = Path(rag.settings.index) / "audit.jsonl"
    evaluator = EvalRunner(rag, Path(rag.settings.index) / "eval-runs", Path(rag.settings.eval_qa))

    # ---- conversation ----------------------------------------------------------------------
    def show(turns: list[dict], lang: str, selected: int | None = None):
        return h.chat_messages(turns, lang), turns_html(turns, selected, lang)

    def respond(question, turns, prefecture, document, lang, saved):
        # a generator: a generated answer is shown as each of its sentences passes the check
        for asked in h.ask_stream(rag, question, list(turns or []), prefecture, document, lang):
            if asked.warning:
                gr.Warning(asked.warning, title=t(lang, "toast_warning"))
                yield gr.update(), gr.update(), gr.update(), turns, saved, gr.update()
                return
            chat, passages = show(asked.turns, lang)
            saved = {**(saved or {}), "turns": asked.turns[-50:]}
            yield "", chat, passages, asked.turns, saved, len(asked.turns) - 1

    def new_conversation(saved):
        return [], turns_html([], None, (saved or {}).get("lang", "ja")), [], {**(saved or {}), "turns": []}, None, empty_html()

    def select_answer(turns, lang, evt: gr.SelectData):
        k = h.turn_of_message(evt.index)
        return turns_html(turns, k, lang), k

    def open_viewer(key: str, turns: list[dict], lang: str):
        try:
            k, n = (int(x) for x in (key or "").split("-"))
            answer = Answer.from_dict(turns[k]["answer"])
            citation = next(c for c in answer.citations if c.n == n)
            return source_html(corpus, citation, rag.loaded.catalog.chunk(citation.chunk_id), lang)
        except (ValueError, IndexError, KeyError, StopIteration, TypeError):
            return empty_html(lang)
        except RagError as e:
            return f"<p>⚠️ {e}</p>"

    def copy(turns, selected, lang):
        text = h.copy_text(turns or [], selected, lang)
        if text:
            gr.Info(t(lang, "copied"), title=t(lang, "toast_info"), duration=3)
        else:
            gr.Warning(t(lang, "nothing_to_copy"), title=t(lang, "toast_warning"))
        return text

    def rate(turns, comment, lang, evt: gr.LikeData):
        rating = "up" if evt.liked else "down"
        h.record_feedback(feedback_path, turns or [], h.turn_of_message(evt.index), rating, comment, rag.build_id())
        gr.Info(t(lang, "feedback_saved"), title=t(lang, "toast_info"))
        return ""

    def send_comment(turns, selected, comment, lang):
        if not (comment or "").strip():
            gr.Warning(t(lang, "comment_empty"), title=t(lang, "toast_warning"))
            return comment
        k = selected if selected is not None else len(turns or []) - 1
        if h.record_feedback(feedback_path, turns or [], k, None, comment, rag.build_id()):
            gr.Info(t(lang, "feedback_saved"), title=t(lang, "toast_info"))
            return ""
        gr.Warning(t(lang, "nothing_to_comment"), title=t(lang, "toast_warning"))
        return comment

    # ---- state that follows the index (every page load, every rebuild, any session) ----------
    def filters(prefecture, lang):
        prefs, docs = h.choices(rag, prefecture or None, lang)
        return gr.update(choices=prefs), gr.update(choices=docs, value="")

    def on_load(saved):
        saved = saved or {}
        lang = saved.get("lang", "ja")
        turns = saved.get("turns") or []
        chat, passages = show(turns, lang)
        prefs, docs = h.choices(rag, None, lang)
        return [
            lang,
            chat,
            passages,
            turns,
            gr.update(choices=prefs, value=""),
            gr.update(choices=docs, value=""),
            *labels(lang),
            info_html(rag.info(), lang),
            rag.build_id(),
        ]

    def watch_build(known, prefecture, lang):
        current = rag.build_id()
        if current == known:
            return gr.update(), gr.update(), gr.update(), known
        prefs, docs = h.choices(rag, prefecture or None, lang)
        return gr.update(choices=prefs), gr.update(choices=docs), info_html(rag.info(), lang), current

    # ---- admin --------------------------------------------------------------------------------
    issuers = [*PREFECTURES, NATIONAL, OTHER]

    def per_file_rows(files):
        return [[Path(f if isinstance(f, str) else f.name).name, "", "", ""] for f in (files or [])]

    def admin_error(e: RagError, lang: str) -> str:
        return f"⚠️ {t(lang, 'admin_bad_token') if isinstance(e, AdminAuthError) else e}"

    def upload(token, files, rows, lang):
        try:
            check_token(token, admin_token)
        except RagError as e:
            h.audit(audit_path, token or "", "upload", "-", f"refused: {e}")
            return admin_error(e, lang), gr.update(), gr.update()
        if not files:
            return t(lang, "admin_choose"), gr.update(), gr.update()
        meta = {r[0]: r for r in (rows.values.tolist() if hasattr(rows, "values") else rows or []) if r and r[0]}
        lines, added = [], 0
        for f in files:
            path = Path(f if isinstance(f, str) else f.name)
            _, issuer, title, year = ([*list(meta.get(path.name, [path.name, "", "", ""])), "", "", ""])[:4]
            try:
                result = add_upload(corpus, path, path.name, None, title or None, year or None, issuer=issuer or None)
            except RagError as e:
                lines.append(f"- ✗ {e}")
                h.audit(audit_path, token, "upload", path.name, f"refused: {e}")
                continue
            if result.added:
                added += 1
                lines.append(f"- ✓ {result.doc_id} {t(lang, 'admin_added')}")
                h.audit(audit_path, token, "upload", result.doc_id, "added")
            else:
                lines.append(f"- = {t(lang, 'admin_duplicate', name=path.name, existing=result.duplicate_of)}")
        lines.append(t(lang, "admin_press_rebuild") if added else t(lang, "admin_nothing_added"))
        return "\n".join(lines), (None if added else gr.update()), ([] if added else gr.update())

    def rebuild(token, lang, progress=gr.Progress()):  # noqa: B008 - how gradio injects a progress bar
        try:
            check_token(token, admin_token)
            report = rag.build(progress=lambda stage, done, total: progress(done / max(total, 1), desc=t(lang, f"stage_{stage}")))
        except Exception as e:
            if isinstance(e, AdminAuthError):
                return admin_error(e, lang), gr.update(), gr.update(), gr.update(), gr.update()
            detail = str(e) if isinstance(e, RagError) else f"{e.__class__.__name__}: {e}"
            h.audit(audit_path, token or "", "rebuild", "-", f"failed: {detail}")
            return f"⚠️ {t(lang, 'admin_rebuild_failed', e=detail)}", gr.update(), gr.update(), gr.update(), gr.update()
        failed = "".join(f"\n- ✗ {f.doc_id}: {f.reason}" for f in report.failed)
        h.audit(audit_path, token, "rebuild", "-", f"{len(report.added)} added, {len(report.failed)} failed")
        msg = t(
            lang,
            "admin_rebuilt",
            s=report.seconds,
            a=len(report.added),
            u=len(report.updated),
            r=len(report.removed),
            c=report.chunks,
        )
        prefs, docs = h.choices(rag, None, lang)
        return msg + failed, info_html(rag.info(), lang), gr.update(choices=prefs), gr.update(choices=docs), doc_choices()

    def doc_choices():
        """The files in the corpus now (an upload or a delete shows before the rebuild), by title where indexed."""
        titles = {d["doc_id"]: d["title"] for d in rag.info()["documents"]}
        files = [s.doc_id for s in list_sources(corpus)]
        return gr.update(choices=[(f"{titles[f]} ({f})" if f in titles else f, f) for f in files], value=None)

    def load_meta(doc_id):
        """The edit form shows what metadata.toml holds for the picked file, so saving changes only what is edited."""
        issuer_, title_, year_ = current_metadata(corpus, doc_id) if doc_id else ("", "", "")
        return gr.update(value=issuer_ or None), title_, year_, False

    def delete_doc(token, doc_id, confirmed, lang):
        try:
            check_token(token, admin_token)
            if not confirmed:
                return t(lang, "admin_confirm_needed"), gr.update(), gr.update()
            remove_document(corpus, doc_id or "")
        except RagError as e:
            h.audit(audit_path, token or "", "delete", doc_id or "-", f"refused: {e}")
            return admin_error(e, lang), gr.update(), gr.update()
        h.audit(audit_path, token, "delete", doc_id, "deleted")
        return t(lang, "admin_deleted", doc=doc_id) + " " + t(lang, "admin_press_rebuild_changed"), doc_choices(), False

    def save_meta(token, doc_id, issuer, title, year, lang):
        try:
            check_token(token, admin_token)
            edit_metadata(corpus, doc_id or "", issuer, title, year)
        except RagError as e:
            h.audit(audit_path, token or "", "edit", doc_id or "-", f"refused: {e}")
            return admin_error(e, lang)
        h.audit(audit_path, token, "edit", doc_id, "saved")
        return t(lang, "admin_saved", doc=doc_id) + " " + t(lang, "admin_press_rebuild_changed")

    def replace_doc(token, doc_id, file, lang):
        try:
            check_token(token, admin_token)
            if not file:
                return t(lang, "admin_choose")
            replace_document(corpus, doc_id or "", Path(file if isinstance(file, str) else file.name))
        except RagError as e:
            h.audit(audit_path, token or "", "replace", doc_id or "-", f"refused: {e}")
            return admin_error(e, lang)
        h.audit(audit_path, token, "replace", doc_id, "replaced")
        return t(lang, "admin_saved", doc=doc_id) + " " + t(lang, "admin_press_rebuild_changed")

    # ---- layout ---------------------------------------------------------------------------------
    with gr.Blocks(title="計画文書 Q&A") as demo:
        saved = gr.BrowserState({"lang": "ja", "turns": []}, storage_key="rag-conversation")
        lang = gr.State("ja")
        turns = gr.State([])
        selected = gr.State(None)
        build_seen = gr.State("")
        with gr.Row():
            header = gr.Markdown(f"## {t('ja', 'title')}\n{t('ja', 'subtitle')}")
            lang_switch = gr.Radio(LANG_CHOICES, value="ja", label=t("ja", "lang"), elem_id="lang-switch")
        with gr.Tabs():
            with gr.Tab(t("ja", "tab_ask"), id="ask") as tab_ask:
                with gr.Row():
                    with gr.Column(scale=3, min_width=320):
                        chat = gr.Chatbot(
                            label=t("ja", "chat"), height=460, elem_id="chat", buttons=[], feedback_options=("Like", "Dislike")
                        )
                        question = gr.Textbox(
                            label=t("ja", "question"), placeholder=t("ja", "placeholder"), max_lines=4, elem_id="question"
                        )
                        with gr.Row():
                            send = gr.Button(t("ja", "ask"), variant="primary", elem_id="ask-button")
                            clear = gr.Button(t("ja", "new"), elem_id="new-button")
                            copy_btn = gr.Button(t("ja", "copy"), elem_id="copy-button")
                        copied = gr.Textbox(visible=False, elem_id="copied")
                        with gr.Row():
                            comment = gr.Textbox(label=t("ja", "feedback_comment"), max_lines=2, scale=4, elem_id="comment")
                            comment_btn = gr.Button(t("ja", "feedback_send"), scale=1)
                    with gr.Column(scale=2, min_width=320):
                        prefs0, docs0 = h.choices(rag, None)
                        with gr.Row():
                            prefecture = gr.Dropdown(prefs0, value="", label=t("ja", "prefecture"), elem_id="prefecture")
                            document = gr.Dropdown(docs0, value="", label=t("ja", "document"), elem_id="document")
                        passages = gr.HTML(turns_html([], None), label=t("ja", "passages"), elem_id="passages")
                with gr.Accordion(t("ja", "viewer"), open=True) as viewer_box:
                    viewer = gr.HTML(empty_html(), elem_id="viewer")
                viewer_key = gr.Textbox(visible="hidden", elem_id="viewer-key")
                viewer_go = gr.Button(visible="hidden", elem_id="viewer-go")
                examples = gr.Examples(EXAMPLES, inputs=question, label=t("ja", "examples"))
            with gr.Tab(t("ja", "tab_index"), id="index") as tab_index:
                info = gr.HTML(info_html(rag.info()))
                refresh = gr.Button(t("ja", "refresh"))
            with gr.Tab(t("ja", "tab_eval"), id="eval") as tab_eval:
                eval_parts = evaluator.layout(feedback_path)
            with gr.Tab(t("ja", "tab_admin"), id="admin", visible=bool(admin_token)) as tab_admin:
                token = gr.Textbox(label=t("ja", "admin_token"), type="password", elem_id="admin-token")
                files = gr.File(
                    label=t("ja", "admin_files"), file_count="multiple", file_types=UPLOAD_TYPES, elem_id="admin-files"
                )
                rows = gr.Dataframe(
                    headers=[t("ja", "admin_file"), t("ja", "admin_issuer"), t("ja", "admin_title"), t("ja", "admin_year")],
                    datatype=["str", "str", "str", "str"],
                    label=t("ja", "admin_meta"),
                    interactive=True,
                    elem_id="admin-rows",
                )
                with gr.Row():
                    upload_btn = gr.Button(t("ja", "admin_upload"), elem_id="upload-button")
                    rebuild_btn = gr.Button(t("ja", "admin_rebuild"), variant="primary", elem_id="rebuild-button")
                admin_status = gr.Markdown(elem_id="admin-status")
                with gr.Accordion(t("ja", "admin_docs"), open=False):
                    target = gr.Dropdown([], label=t("ja", "admin_target"), elem_id="admin-target")
                    with gr.Row():
                        issuer = gr.Dropdown(issuers, label=t("ja", "admin_issuer"), allow_custom_value=False)
                        meta_title = gr.Textbox(label=t("ja", "admin_title"), elem_id="admin-meta-title")
                        meta_year = gr.Textbox(label=t("ja", "admin_year"))
                    replacement = gr.File(label=t("ja", "admin_replacement"), file_types=UPLOAD_TYPES)
                    with gr.Row():
                        save_btn = gr.Button(t("ja", "admin_edit"))
                        replace_btn = gr.Button(t("ja", "admin_replace"))
                        confirm_delete = gr.Checkbox(label=t("ja", "admin_confirm_delete"), value=False)
                        delete_btn = gr.Button(t("ja", "admin_delete"), variant="stop")
        timer = gr.Timer(15)

        def labels(lang_: str) -> list:
            """Every label in the chosen language (the order matches `labelled` below)."""
            return [
                gr.update(value=f"## {t(lang_, 'title')}\n{t(lang_, 'subtitle')}"),
                gr.update(label=t(lang_, "tab_ask")),
                gr.update(label=t(lang_, "tab_index")),
                gr.update(label=t(lang_, "tab_eval")),
                gr.update(label=t(lang_, "tab_admin")),
                gr.update(label=t(lang_, "chat")),
                gr.update(label=t(lang_, "question"), placeholder=t(lang_, "placeholder")),
                gr.update(value=t(lang_, "ask")),
                gr.update(value=t(lang_, "new")),
                gr.update(value=t(lang_, "copy")),
                gr.update(label=t(lang_, "feedback_comment")),
                gr.update(value=t(lang_, "feedback_send")),
                gr.update(label=t(lang_, "prefecture")),
                gr.update(label=t(lang_, "document")),
                gr.update(label=t(lang_, "viewer")),
                gr.update(value=t(lang_, "refresh")),
                gr.update(label=t(lang_, "lang")),
            ] + [gr.update(**{what: t(lang_, key)}) for _, what, key in relabelled]

        labelled = [header, tab_ask, tab_index, tab_eval, tab_admin, chat, question, send, clear, copy_btn, comment]
        labelled += [comment_btn, prefecture, document, viewer_box, refresh, lang_switch]
        # the Evaluate and Admin tabs: (component, what to set, string key)
        relabelled = [
            (eval_parts.qa_file, "label", "eval_file"),
            (eval_parts.run, "value", "eval_run"),
            (eval_parts.pick, "label", "eval_pick"),
            (eval_parts.expected, "label", "eval_expected"),
            (eval_parts.evidence, "label", "eval_evidence"),
            (eval_parts.append, "value", "eval_append"),
            (token, "label", "admin_token"),
            (files, "label", "admin_files"),
            (rows, "label", "admin_meta"),
            (upload_btn, "value", "admin_upload"),
            (rebuild_btn, "value", "admin_rebuild"),
            (target, "label", "admin_target"),
            (issuer, "label", "admin_issuer"),
            (meta_title, "label", "admin_title"),
            (meta_year, "label", "admin_year"),
            (replacement, "label", "admin_replacement"),
            (save_btn, "value", "admin_edit"),
            (replace_btn, "value", "admin_replace"),
            (confirm_delete, "label", "admin_confirm_delete"),
            (delete_btn, "value", "admin_delete"),
        ]
        labelled += [c for c, _, _ in relabelled]

        def switch_language(lang_, turns_, saved_):
            chat_, passages_ = show(turns_ or [], lang_)
            return [lang_, {**(saved_ or {}), "lang": lang_}, chat_, passages_, info_html(rag.info(), lang_), *labels(lang_)]

        # ---- wiring ---------------------------------------------------------------------------
        demo.load(
            on_load,
            [saved],
            [lang, chat, passages, turns, prefecture, document, *labelled, info, build_seen],
            api_visibility="private",
        ).then(lambda x: x, [lang], [lang_switch], api_visibility="private").then(
            None,
            [lang_switch],
            None,
            js=SET_LANG_JS,  # a State is not seen by js: read the switch once it is set
        )
        lang_switch.input(
            switch_language, [lang_switch, turns, saved], [lang, saved, chat, passages, info, *labelled], api_visibility="private"
        ).then(None, [lang_switch], None, js=SET_LANG_JS)
        ask_in = [question, turns, prefecture, document, lang, saved]
        ask_out = [question, chat, passages, turns, saved, selected]
        send.click(respond, ask_in, ask_out, api_visibility="private")
        question.submit(respond, ask_in, ask_out, api_visibility="private")
        clear.click(new_conversation, [saved], [chat, passages, turns, saved, selected, viewer], api_visibility="private")
        chat.clear(new_conversation, [saved], [chat, passages, turns, saved, selected, viewer], api_visibility="private")
        chat.select(select_answer, [turns, lang], [passages, selected], api_visibility="private")
        chat.like(rate, [turns, comment, lang], [comment], api_visibility="private")
        comment_btn.click(send_comment, [turns, selected, comment, lang], [comment], api_visibility="private")
        copy_btn.click(copy, [turns, selected, lang], [copied], api_visibility="private").then(None, [copied], None, js=COPY_JS)
        viewer_go.click(open_viewer, [viewer_key, turns, lang], [viewer], api_visibility="private")
        prefecture.change(filters, [prefecture, lang], [prefecture, document], api_visibility="private")
        refresh.click(lambda lang_: info_html(rag.info(), lang_), [lang], [info], api_visibility="private")
        timer.tick(
            watch_build, [build_seen, prefecture, lang], [prefecture, document, info, build_seen], api_visibility="private"
        )
        files.change(per_file_rows, [files], [rows], api_visibility="private")
        upload_btn.click(upload, [token, files, rows, lang], [admin_status, files, rows], api_visibility="private").then(
            doc_choices, None, [target], api_visibility="private"
        )
        rebuild_btn.click(
            rebuild,
            [token, lang],
            [admin_status, info, prefecture, document, target],
            api_visibility="private",
            concurrency_limit=1,
            concurrency_id="rebuild",
        )
        tab_admin.select(doc_choices, None, [target], api_visibility="private")
        target.change(load_meta, [target], [issuer, meta_title, meta_year, confirm_delete], api_visibility="private")
        delete_btn.click(
            delete_doc, [token, target, confirm_delete, lang], [admin_status, target, confirm_delete], api_visibility="private"
        )
        save_btn.click(save_meta, [token, target, issuer, meta_title, meta_year, lang], [admin_status], api_visibility="private")
        replace_btn.click(replace_doc, [token, target, replacement, lang], [admin_status], api_visibility="private")
        evaluator.wire(eval_parts, lang)
        del examples

        # the stable API: one question in, the JSON of `rag ask --json` out
        def ask_api(
            question_: str, prefecture_: str | None = None, document_: str | None = None, history_: list | None = None
        ) -> dict:
            try:
                return rag.ask(question_, prefecture_ or None, document_ or None, list(history_ or [])).to_dict()
            except RagError as e:
                raise gr.Error(str(e), print_exception=False) from None  # a user-input error: no traceback in the log

        api_in = [gr.Textbox(visible=False), gr.Textbox(visible=False), gr.Textbox(visible=False), gr.JSON(visible=False)]
        gr.Button(visible=False).click(ask_api, api_in, gr.JSON(visible=False), api_name="ask")
    return demo


def launch(rag: Rag, host: str, port: int, admin_token: str | None, password: str | None = None) -> None:
    demo = build_app(rag, admin_token)
    # no allowed_paths: corpus files are never served raw (a document's own HTML must not run in
    # the app's origin); sources open in the in-app viewer instead
    demo.queue(default_concurrency_limit=8).launch(
        server_name=host,
        server_port=port,
        css=CSS,
        head=PAGE_JS,
        show_error=True,
        max_file_size=MAX_UPLOAD,
        auth=("staff", password) if password else None,
    )

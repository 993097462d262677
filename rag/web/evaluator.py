"""The evaluator's tab: run the eval (eval/qa.jsonl or an uploaded set in the same schema)
with progress, see the last run beside the previous one, read each failing question, and
turn a 👎 from the feedback log into a draft eval question appended to the eval file."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from rag.errors import RagError
from rag.evaluation.evaluate import DEFAULT_QA, QAItem, evaluate, failures_markdown, load_qa, table, write_report
from rag.lang.glossary import is_english
from rag.lang.segment import split_units
from rag.pipeline import Rag
from rag.web.handlers import read_feedback
from rag.web.strings import t


@dataclass
class EvalParts:
    qa_file: gr.File
    run: gr.Button
    last: gr.Markdown
    chart: gr.Image
    previous: gr.Markdown
    failures: gr.Markdown
    pick: gr.Dropdown
    expected: gr.Textbox
    evidence: gr.Dropdown
    append: gr.Button
    status: gr.Markdown


def draft_item(record: dict, expected: str, evidence: str, existing: list[QAItem]) -> dict:
    """An eval question from a 👎 answer: its question, the answer the evaluator typed, and a
    sentence of a cited passage as evidence (whose document becomes the item's `doc`)."""
    expected = (expected or "").strip()
    if not expected:
        raise RagError("type the expected answer first")
    twin = next((x for x in existing if x.question == record["question"] and expected in x.answers), None)
    if twin is not None:
        raise RagError(f"the eval set already has this question with this answer ({twin.id})")
    existing_ids = {x.id for x in existing}
    cited = next((c for c in record["citations"] if evidence and evidence in c["text"]), None)
    if cited is None:
        raise RagError("pick the evidence from the cited passages")
    n = 1
    while f"fb-{n:03d}" in existing_ids:
        n += 1
    return {
        "id": f"fb-{n:03d}",
        "lang": "en" if is_english(record["question"]) else "ja",
        "question": record["question"],
        "answers": [expected],
        "doc": cited["doc_id"],
        "evidence": evidence,
        "kind": "other",
        "note": f"from feedback of {record['time']} (build {record['build_id']})",
        **({"history": record["history"]} if record.get("history") else {}),
    }


def append_item(qa_path: Path, item: dict) -> None:
    """Append to the eval file only what the eval loader accepts."""
    line = json.dumps(item, ensure_ascii=False)
    candidate = qa_path.read_text(encoding="utf-8").rstrip("\n") + "\n" + line + "\n"
    probe = qa_path.with_name(f".{qa_path.name}.check")
    probe.write_text(candidate, encoding="utf-8")
    try:
        load_qa(probe)
    finally:
        probe.unlink(missing_ok=True)
    with qa_path.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


class EvalRunner:
    def __init__(self, rag: Rag, out_dir: Path, qa_path: Path = DEFAULT_QA) -> None:
        self.rag = rag
        self.out_dir = out_dir
        self.qa_path = qa_path
        self.history = out_dir / "runs.jsonl"

    def runs(self) -> list[dict]:
        if not self.history.exists():
            return []
        return [json.loads(line) for line in self.history.read_text(encoding="utf-8").splitlines() if line.strip()]

    def run(self, upload, lang: str, progress=None) -> tuple[str, str | None, str, str]:
        path = Path(upload if isinstance(upload, str) else upload.name) if upload else self.qa_path
        items = load_qa(path)
        report = evaluate(self.rag, items, "app", progress=progress)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        folder = self.out_dir / stamp
        paths = write_report(report, folder)
        before = self.runs()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        record = {"time": stamp, "set": str(path), "table": table(report), "failures": failures_markdown(report)}
        with self.history.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        previous = before[-1]["table"] if before else t(lang, "eval_none_yet")
        return record["table"], str(paths[2]), previous, record["failures"]

    def layout(self, feedback_path: Path) -> EvalParts:
        self.feedback_path = feedback_path
        runs = self.runs()
        qa_file = gr.File(label=t("ja", "eval_file"), file_types=[".jsonl"], elem_id="eval-file")
        run = gr.Button(t("ja", "eval_run"), variant="primary", elem_id="eval-run")
        # the two tables one above the other: side by side, their 14 columns wrap mid-number
        gr.Markdown(f"### {t('ja', 'eval_last')}")
        last = gr.Markdown(runs[-1]["table"] if runs else t("ja", "eval_none_yet"), elem_id="eval-last")
        gr.Markdown(f"### {t('ja', 'eval_prev')}")
        previous = gr.Markdown(runs[-2]["table"] if len(runs) > 1 else t("ja", "eval_none_yet"), elem_id="eval-previous")
        chart = gr.Image(label=t("ja", "eval_chart"), interactive=False, elem_id="eval-chart")
        with gr.Accordion(t("ja", "eval_failures"), open=False):
            failures = gr.Markdown(runs[-1]["failures"] if runs else "", elem_id="eval-failures")
        gr.Markdown(f"### {t('ja', 'eval_draft')}")
        pick = gr.Dropdown([], label=t("ja", "eval_pick"), elem_id="eval-pick")
        expected = gr.Textbox(label=t("ja", "eval_expected"), elem_id="eval-expected")
        evidence = gr.Dropdown([], label=t("ja", "eval_evidence"), elem_id="eval-evidence")
        append = gr.Button(t("ja", "eval_append"), elem_id="eval-append")
        status = gr.Markdown(elem_id="eval-status")
        return EvalParts(qa_file, run, last, chart, previous, failures, pick, expected, evidence, append, status)

    def disliked(self) -> list[dict]:
        return [r for r in read_feedback(self.feedback_path) if r.get("rating") == "down"]

    def wire(self, p: EvalParts, lang: gr.State) -> None:
        def run(upload, lang_, progress=gr.Progress()):  # noqa: B008 - how gradio injects a progress bar
            try:
                return self.run(upload, lang_, lambda done, total: progress(done / max(total, 1), desc="eval"))
            except RagError as e:
                return f"⚠️ {e}", None, gr.update(), gr.update()

        def picks():
            records = self.disliked()
            return gr.update(choices=[(f"{r['time']} {r['question'][:60]}", i) for i, r in enumerate(records)], value=None)

        def sentences(i):
            records = self.disliked()
            if i is None or not (0 <= int(i) < len(records)):
                return gr.update(choices=[], value=None)
            texts = [c["text"][u.start : u.end] for c in records[int(i)]["citations"] for u in split_units(c["text"])]
            return gr.update(choices=[x for x in dict.fromkeys(texts) if len(x.strip()) >= 4], value=None)

        def add(i, expected_, evidence_, lang_):
            records = self.disliked()
            try:
                if i is None or not (0 <= int(i) < len(records)):
                    raise RagError("pick an answer marked 👎")
                item = draft_item(records[int(i)], expected_, evidence_, load_qa(self.qa_path))
                append_item(self.qa_path, item)
            except RagError as e:
                return f"⚠️ {e}", gr.update(), gr.update()
            return t(lang_, "eval_added", id=item["id"]), "", gr.update(value=None)  # the form clears

        p.run.click(
            run, [p.qa_file, lang], [p.last, p.chart, p.previous, p.failures], api_visibility="private", concurrency_limit=1
        )
        p.pick.focus(picks, None, [p.pick], api_visibility="private")
        p.pick.change(sentences, [p.pick], [p.evidence], api_visibility="private")
        p.append.click(add, [p.pick, p.expected, p.evidence, lang], [p.status, p.expected, p.evidence], api_visibility="private")

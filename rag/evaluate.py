"""`rag eval`: answer quality, retrieval and citations over eval/qa.jsonl.

Retrieval metrics come from pytrec_eval (trec_eval's own code); a retrieved chunk
is relevant when it comes from the gold document and contains an answer string
(after NFKC and whitespace removal), or the evidence when no chunk holds an answer.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.errors import RagError
from rag.pipeline import Rag
from rag.types import Answer

KINDS = ("kpi", "budget", "definition", "list", "date", "comparison", "unanswerable")
DEFAULT_QA = Path("eval/qa.jsonl")
DEFAULT_THRESHOLDS = Path("eval/thresholds.json")
GUARDED = ("answer_accuracy", "hit@5", "unanswerable_accuracy")


def key(text: str) -> str:
    """What matching compares: NFKC, no whitespace, lower case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


@dataclass(frozen=True)
class QAItem:
    id: str
    lang: str
    question: str
    answers: tuple[str, ...]
    doc: str | None
    evidence: str | None
    kind: str
    match: str = "any"
    note: str | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_qa(path: Path) -> list[QAItem]:
    if not path.exists():
        raise RagError(f"eval file {path} does not exist")
    items: list[QAItem] = []
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            item = QAItem(
                id=str(d["id"]),
                lang=d["lang"],
                question=d["question"],
                answers=tuple(d["answers"]),
                doc=d.get("doc"),
                evidence=d.get("evidence"),
                kind=d["kind"],
                match=d.get("match", "any"),
                note=d.get("note"),
            )
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise RagError(f"{path}:{n}: not a valid eval item ({e.__class__.__name__}: {e})") from e
        problems = []
        if item.lang not in ("ja", "en"):
            problems.append(f"lang must be ja or en, not {item.lang!r}")
        if item.kind not in KINDS:
            problems.append(f"kind must be one of {KINDS}")
        if item.match not in ("any", "all"):
            problems.append("match must be any or all")
        if (item.kind == "unanswerable") == item.answerable:
            problems.append("unanswerable items, and only they, have no answers")
        if item.answerable and not (item.doc and item.evidence):
            problems.append("answerable items need doc and evidence")
        if item.id in seen:
            problems.append(f"duplicate id {item.id}")
        if problems:
            raise RagError(f"{path}:{n}: " + "; ".join(problems))
        seen.add(item.id)
        items.append(item)
    return items


@dataclass(frozen=True)
class ItemResult:
    id: str
    lang: str
    kind: str
    question: str
    expected: tuple[str, ...]
    got: str
    answerable_got: bool
    rank: int | None  # rank of the first relevant chunk in the top 10
    success: dict[str, float]  # hit@1/5/10 and rr, from trec_eval; empty for unanswerable items
    answer_correct: bool | None
    unanswerable_correct: bool | None
    citation_precision: float | None
    top_citation: str


def _contains(haystack: str, answers: tuple[str, ...], match: str) -> bool:
    """`any`: one accepted form is present. `all`: every distinct value is present in
    one of its forms (forms of one value differ only by width or thousands commas)."""
    h = key(haystack)
    classes: dict[str, bool] = {}
    for a in answers:
        k = key(a)
        if k:
            value = k.replace(",", "")
            classes[value] = classes.get(value, False) or k in h
    if not classes:
        return False
    return all(classes.values()) if match == "all" else any(classes.values())


def first_sentence(answer: str) -> str:
    return re.split(r"(?<=。)|\s\[\d+\]", answer, maxsplit=1)[0]


def judge_answer(item: QAItem, answer: Answer) -> bool:
    if not answer.answerable:
        return False
    candidates = [answer.short_answer or "", first_sentence(answer.answer)]
    return any(_contains(c, item.answers, item.match) for c in candidates if c)


def judge_unanswerable(answer: Answer) -> bool:
    return not answer.answerable and not answer.short_answer


def citation_precision(item: QAItem, answer: Answer) -> float | None:
    if not answer.citations:
        return 0.0
    good = 0
    for c in answer.citations:
        if (item.evidence and key(item.evidence) in key(c.text)) or _contains(c.text, item.answers, "any"):
            good += 1
    return good / len(answer.citations)


def _relevant(item: QAItem, rag: Rag) -> set[str]:
    chunks = [c for c in rag.index.chunks if c.doc_id == item.doc]
    rel = {c.chunk_id for c in chunks if _contains(c.text, item.answers, "any")}
    if not rel and item.evidence:
        rel = {c.chunk_id for c in chunks if key(item.evidence) in key(c.text)}
    return rel


@dataclass(frozen=True)
class EvalReport:
    items: list[ItemResult]
    metrics: dict[str, float]
    by_kind: dict[str, dict[str, float]]
    by_lang: dict[str, dict[str, float]]
    meta: dict


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else float("nan")


def summarize(results: list[ItemResult]) -> dict[str, float]:
    ans = [r for r in results if r.answer_correct is not None]
    una = [r for r in results if r.unanswerable_correct is not None]
    cp = [r.citation_precision for r in ans if r.citation_precision is not None]
    return {
        "n": len(results),
        "n_answerable": len(ans),
        "n_unanswerable": len(una),
        "hit@1": _mean([r.success["success_1"] for r in ans]),
        "hit@5": _mean([r.success["success_5"] for r in ans]),
        "hit@10": _mean([r.success["success_10"] for r in ans]),
        "mrr": _mean([r.success["recip_rank"] for r in ans]),
        "answer_accuracy": _mean([float(bool(r.answer_correct)) for r in ans]),
        "citation_precision": _mean(cp),
        "unanswerable_accuracy": _mean([float(bool(r.unanswerable_correct)) for r in una]),
        "false_not_found": sum(1 for r in ans if not r.answerable_got),
    }


def evaluate(rag: Rag, items: list[QAItem], k: int = 10) -> EvalReport:
    import pytrec_eval

    started = time.perf_counter()
    qrels: dict[str, dict[str, int]] = {}
    runs: dict[str, dict[str, float]] = {}
    answers: dict[str, Answer] = {}
    ranks: dict[str, int | None] = {}
    for item in items:
        hits = rag.search(item.question, k=k)
        answers[item.id] = rag.ask(item.question)
        if not item.answerable:
            continue
        rel = _relevant(item, rag)
        # trec_eval needs a judged document per query: an impossible id stands in when none qualifies
        qrels[item.id] = {cid: 1 for cid in rel} or {"__no_relevant_chunk__": 1}
        runs[item.id] = {h.chunk.chunk_id: 1.0 / h.rank for h in hits} or {"__nothing__": 0.0}
        ranks[item.id] = next((h.rank for h in hits if h.chunk.chunk_id in rel), None)
    per_query = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank", "success.1,5,10"}).evaluate(runs) if qrels else {}
    results = []
    for item in items:
        a = answers[item.id]
        top = a.citations[0] if a.citations else None
        results.append(
            ItemResult(
                id=item.id,
                lang=item.lang,
                kind=item.kind,
                question=item.question,
                expected=item.answers,
                got=a.short_answer or first_sentence(a.answer),
                answerable_got=a.answerable,
                rank=ranks.get(item.id),
                success=per_query.get(item.id, {}),
                answer_correct=judge_answer(item, a) if item.answerable else None,
                unanswerable_correct=None if item.answerable else judge_unanswerable(a),
                citation_precision=citation_precision(item, a) if item.answerable else None,
                top_citation=(
                    f"{top.doc_id}{f' p.{top.page}' if top.page else ''}: {' '.join(top.text.split())[:80]}" if top else ""
                ),
            )
        )
    groups = {"by_kind": defaultdict(list), "by_lang": defaultdict(list)}
    for r in results:
        groups["by_kind"][r.kind].append(r)
        groups["by_lang"][r.lang].append(r)
    info = rag.info()
    meta = {
        "model": info["model"],
        "index_built_at": info["built_at"],
        "chunks": info["chunks"],
        "settings": {"top_k": rag.settings.top_k, "rrf_k": rag.settings.rrf_k, "chunk_chars": rag.settings.chunk_chars},
        "seconds": round(time.perf_counter() - started, 1),
    }
    return EvalReport(
        results,
        summarize(results),
        {k2: summarize(v) for k2, v in sorted(groups["by_kind"].items())},
        {k2: summarize(v) for k2, v in sorted(groups["by_lang"].items())},
        meta,
    )


def load_thresholds(path: Path = DEFAULT_THRESHOLDS) -> dict[str, float]:
    if not path.exists():
        raise RagError(f"thresholds file {path} does not exist")
    return json.loads(path.read_text())


def check_thresholds(metrics: dict[str, float], thresholds: dict[str, float]) -> list[str]:
    """The regressions: each guarded metric that fell below its recorded floor."""
    return [
        f"{name} {metrics[name]:.3f} is below the threshold {floor:.3f}"
        for name, floor in thresholds.items()
        if name in metrics and metrics[name] < floor
    ]


_COLUMNS = ("n", "hit@1", "hit@5", "hit@10", "mrr", "answer_accuracy", "citation_precision", "unanswerable_accuracy")


def _fmt(v) -> str:
    if isinstance(v, float):
        return "–" if v != v else f"{v:.3f}"
    return str(v)


def table(report: EvalReport) -> str:
    head = "| group | " + " | ".join(_COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(_COLUMNS) + 1)]
    rows = [("overall", report.metrics)]
    rows += [(f"kind={k}", v) for k, v in report.by_kind.items()]
    rows += [(f"lang={k}", v) for k, v in report.by_lang.items()]
    for name, m in rows:
        lines.append(f"| {name} | " + " | ".join(_fmt(m[c]) for c in _COLUMNS) + " |")
    return "\n".join(lines)


def failures_markdown(report: EvalReport) -> str:
    out = ["| id | kind | lang | question | expected | got | rank | top citation |", "|---|---|---|---|---|---|---|---|"]
    for r in report.items:
        failed = r.answer_correct is False or r.unanswerable_correct is False
        if not failed:
            continue
        cells = [
            r.id,
            r.kind,
            r.lang,
            r.question,
            " / ".join(r.expected[:3]) or "(not in documents)",
            r.got,
            str(r.rank or "–"),
            r.top_citation,
        ]
        out.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(out)


def write_report(report: EvalReport, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / "eval.md"
    md.write_text(
        "# Eval report\n\n"
        f"Model `{report.meta['model']['id']}`, {report.meta['chunks']} chunks, index built {report.meta['index_built_at']}, "
        f"settings {report.meta['settings']}, {report.meta['seconds']} s.\n\n"
        "Retrieval columns count answerable questions only; unanswerable_accuracy counts the others.\n\n"
        + table(report)
        + "\n\n## Failing questions\n\n"
        + failures_markdown(report)
        + "\n",
        encoding="utf-8",
    )
    js = out_dir / "eval.json"
    js.write_text(
        json.dumps(
            {
                "metrics": report.metrics,
                "by_kind": report.by_kind,
                "by_lang": report.by_lang,
                "meta": report.meta,
                "items": [asdict(r) for r in report.items],
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    png = out_dir / "eval.png"
    _chart(report, png)
    return [md, js, png]


def _chart(report: EvalReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ("hit@5", "mrr", "answer_accuracy", "citation_precision")
    groups = [k for k, v in report.by_kind.items() if v["n_answerable"]] + list(report.by_lang)
    data = {**{k: report.by_kind[k] for k in report.by_kind}, **report.by_lang}
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(metrics)
    for i, m in enumerate(metrics):
        ax.bar([x + i * width for x in range(len(groups))], [data[g][m] for g in groups], width, label=m)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(groups))], groups, rotation=20)
    ax.set_ylim(0, 1)
    una = report.metrics["unanswerable_accuracy"]
    ax.set_title(f"eval: overall answer accuracy {report.metrics['answer_accuracy']:.2f}, unanswerable {una:.2f}")
    ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

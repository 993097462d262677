"""`rag eval`: answer quality, retrieval and citations over a question set.

A set is a `qa.jsonl` (the eval schema below) plus the documents it asks about: the
bundled eval/qa.jsonl over corpus/, or any folder given with `--set DIR` (DIR/qa.jsonl
and DIR/pdfs, DIR/corpus or the `corpus` named in DIR/set.toml).

Grading (the same rule for every set): both sides NFKC, whitespace removed, lower case.
- answer accuracy: the short answer, or the answer's first 160 characters when there is none,
  holds the keys (`match: any`: one of them; `all`: every distinct value);
- full-answer accuracy: the whole answer text holds them;
- wrong-answer rate: a short answer (the bold value, date, name or list) that does not hold
  them, or any short answer to a question the documents cannot answer;
- refusal rate: answerable questions answered with "no passage states this";
- citation hit: a cited passage holds the evidence, or the keys;
- retrieval: hit@k / MRR over the passages the ask path retrieved (a hit is a passage of the
  gold document holding an answer or the evidence), and page hit@k where the set gives `page`.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import tomllib
import unicodedata
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.errors import RagError
from rag.pipeline import Rag
from rag.types import Answer, Hit

KINDS = (
    "kpi",
    "budget",
    "definition",
    "list",
    "date",
    "comparison",
    "procedure",
    "name",
    "yesno",
    "other",
    "unanswerable",
)
DEFAULT_QA = Path("eval/qa.jsonl")
DEFAULT_THRESHOLDS = Path("eval/thresholds.json")
SHORT_CHARS = 160  # how much of a passage answer counts as its "short" part
RETRIEVAL_DEPTH = 10


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
    page: int | None = None
    context_type: str | None = None
    history: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def _item(d: dict) -> QAItem:
    return QAItem(
        id=str(d["id"]),
        lang=d["lang"],
        question=d["question"],
        answers=tuple(d["answers"]),
        doc=d.get("doc"),
        evidence=d.get("evidence"),
        kind=d["kind"],
        match=d.get("match", "any"),
        note=d.get("note"),
        page=d.get("page"),
        context_type=d.get("context_type"),
        history=tuple(d.get("history") or ()),
    )


def load_qa(path: Path, base: dict[str, dict] | None = None) -> list[QAItem]:
    if not path.exists():
        raise RagError(f"eval file {path} does not exist")
    items: list[QAItem] = []
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            if base is not None:
                if str(d.get("id")) not in base:
                    raise KeyError(f"id {d.get('id')!r} is not in the base set")
                d = base[str(d["id"])] | d
            item = _item(d)
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
        if item.answerable and not item.doc:
            problems.append("answerable items need doc")
        if item.page is not None and (not isinstance(item.page, int) or item.page < 1):
            problems.append("page must be a positive integer")
        if item.id in seen:
            problems.append(f"duplicate id {item.id}")
        if problems:
            raise RagError(f"{path}:{n}: " + "; ".join(problems))
        seen.add(item.id)
        items.append(item)
    return items


@dataclass(frozen=True)
class EvalSet:
    name: str
    qa: Path
    corpus: Path
    items: list[QAItem]

    @property
    def cache(self) -> Path:
        """Where its index is cached: one per document folder, shared by the sets that ask about it."""
        resolved = self.corpus.resolve()
        return Path("eval/cache") / f"{resolved.name}-{hashlib.sha1(str(resolved).encode()).hexdigest()[:8]}"


def load_set(folder: Path, corpus: Path | None = None) -> EvalSet:
    """DIR/qa.jsonl plus its documents: `corpus` if given, else DIR/pdfs, DIR/corpus, or the
    `corpus` path in DIR/set.toml (relative to DIR)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RagError(f"eval set {folder} is not a folder (it needs qa.jsonl and the documents)")
    qa = folder / "qa.jsonl"
    config: dict = {}
    if (folder / "set.toml").exists():
        try:
            config = tomllib.loads((folder / "set.toml").read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise RagError(f"{folder / 'set.toml'}: not valid TOML ({e})") from e
    if corpus is None:
        if config.get("corpus"):
            corpus = (folder / config["corpus"]).resolve()
        for candidate in (folder / "pdfs", folder / "corpus"):
            if corpus is None and candidate.is_dir():
                corpus = candidate
    if corpus is None or not Path(corpus).is_dir():
        raise RagError(f"eval set {folder}: no documents (expected {folder}/pdfs, {folder}/corpus or corpus = … in set.toml)")
    items = load_qa(qa, _base_items(folder, config))
    return EvalSet(folder.resolve().name, qa, Path(corpus), items)


def _base_items(folder: Path, config: dict) -> dict[str, dict] | None:
    """A translated set names its `base` set and gives only id, lang and question; the rest
    (answers, doc, page, evidence) comes from the base item whose id is this id minus
    `base_id_suffix`."""
    if not config.get("base"):
        return None
    path = (folder / config["base"]).resolve()
    if not path.exists():
        raise RagError(f"eval set {folder}: base set {path} does not exist")
    suffix = config.get("base_id_suffix", "")
    base = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            base[f"{d['id']}{suffix}"] = d
    return base


@dataclass(frozen=True)
class ItemResult:
    id: str
    lang: str
    kind: str
    context_type: str
    question: str
    expected: tuple[str, ...]
    got: str
    answer_type: str
    grounded: bool
    notes: tuple[str, ...]
    rank: int | None  # rank of the first relevant passage in the retrieved list
    page: int | None  # the target page, when the set gives one
    page_rank: int | None  # rank of the first passage on the target page (or holding the evidence)
    answer_correct: bool | None  # None for unanswerable items
    full_correct: bool | None
    wrong: bool  # a short answer that is wrong (any short answer, for unanswerable items)
    refused: bool
    citation_hit: bool | None
    unanswerable_correct: bool | None
    top_citation: str


def contains(haystack: str, answers: tuple[str, ...], match: str) -> bool:
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


def short_part(answer: Answer) -> str:
    """What answer accuracy reads: the short answer, else the answer's first 160 characters."""
    if answer.short_answer:
        return answer.short_answer
    return key(answer.answer)[:SHORT_CHARS]


def refused(answer: Answer) -> bool:
    return answer.answer_type == "none"


def judge_answer(item: QAItem, answer: Answer) -> bool:
    return not refused(answer) and contains(short_part(answer), item.answers, item.match)


def judge_full(item: QAItem, answer: Answer) -> bool:
    return not refused(answer) and contains(f"{answer.short_answer or ''} {answer.answer}", item.answers, item.match)


def judge_wrong(item: QAItem, answer: Answer) -> bool:
    if not answer.short_answer:
        return False
    return not item.answerable or not contains(answer.short_answer, item.answers, item.match)


def judge_unanswerable(answer: Answer) -> bool:
    return refused(answer) and not answer.short_answer


def citation_hit(item: QAItem, answer: Answer) -> bool:
    for c in answer.citations:
        if (item.evidence and key(item.evidence) in key(c.text)) or contains(c.text, item.answers, item.match):
            return True
    return False


def _holds_answer(item: QAItem, text: str) -> bool:
    return bool(item.evidence and key(item.evidence) in key(text)) or contains(text, item.answers, "any")


def _ranks(item: QAItem, hits: list[Hit]) -> tuple[int | None, int | None]:
    """Rank of the first relevant passage and of the first passage on the target page."""
    rank = page_rank = None
    for h in hits:
        c = h.chunk
        if c.doc_id != item.doc:
            continue
        holds = _holds_answer(item, c.text)
        if rank is None and holds:
            rank = h.rank
        if page_rank is None and item.page is not None and (c.page == item.page or holds):
            page_rank = h.rank
    return rank, page_rank


@dataclass(frozen=True)
class EvalReport:
    name: str
    items: list[ItemResult]
    metrics: dict[str, float]
    groups: dict[str, dict[str, dict[str, float]]]  # by_kind / by_context / by_lang -> group -> metrics
    meta: dict

    @property
    def by_kind(self) -> dict[str, dict[str, float]]:
        return self.groups["by_kind"]

    @property
    def by_lang(self) -> dict[str, dict[str, float]]:
        return self.groups["by_lang"]


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else float("nan")


def _hit(ranks: list[int | None], k: int) -> float:
    return _mean([float(r is not None and r <= k) for r in ranks])


def summarize(results: list[ItemResult]) -> dict[str, float]:
    ans = [r for r in results if r.answer_correct is not None]
    una = [r for r in results if r.unanswerable_correct is not None]
    paged = [r.page_rank for r in ans if r.page is not None]
    ranks = [r.rank for r in ans]
    out = {
        "n": len(results),
        "n_answerable": len(ans),
        "n_unanswerable": len(una),
        "answer_accuracy": _mean([float(bool(r.answer_correct)) for r in ans]),
        "full_answer_accuracy": _mean([float(bool(r.full_correct)) for r in ans]),
        "wrong_answer_rate": _mean([float(r.wrong) for r in results]),
        "refusal_rate": _mean([float(r.refused) for r in ans]),
        "citation_hit": _mean([float(bool(r.citation_hit)) for r in ans]),
        "unanswerable_accuracy": _mean([float(bool(r.unanswerable_correct)) for r in una]),
        "hit@1": _hit(ranks, 1),
        "hit@5": _hit(ranks, 5),
        "hit@10": _hit(ranks, 10),
        "mrr": _mean([1.0 / r if r else 0.0 for r in ranks]),
    }
    if paged:
        out |= {
            "page_hit@1": _hit(paged, 1),
            "page_hit@5": _hit(paged, 5),
            "page_hit@10": _hit(paged, 10),
            "page_mrr": _mean([1.0 / r if r else 0.0 for r in paged]),
        }
    return out


RETRIEVAL_COLUMNS = ("hit@1", "hit@5", "hit@10", "mrr", "page_hit@1", "page_hit@5", "page_hit@10", "page_mrr")


def retrieval_by_mode(rag: Rag, items: list[QAItem], modes: tuple[str, ...] = ("hybrid", "bm25", "dense")) -> dict[str, dict]:
    """Retrieval figures of each mode through the ask path (the same reading of the question)."""
    out = {}
    for mode in modes:
        ranks = []
        for item in items:
            if item.answerable:
                hits = rag.run(item.question, history=list(item.history), depth=RETRIEVAL_DEPTH, mode=mode).hits
                ranks.append((item, *_ranks(item, hits)))
        paged = [p for it, _, p in ranks if it.page is not None]
        row = {"hit@1": _hit([r for _, r, _ in ranks], 1), "hit@5": _hit([r for _, r, _ in ranks], 5)}
        row |= {"hit@10": _hit([r for _, r, _ in ranks], 10), "mrr": _mean([1.0 / r if r else 0.0 for _, r, _ in ranks])}
        if paged:
            row |= {f"page_hit@{k}": _hit(paged, k) for k in (1, 5, 10)} | {
                "page_mrr": _mean([1.0 / r if r else 0.0 for r in paged])
            }
        out[mode] = row
    return out


def retrieval_table(by_mode: dict[str, dict]) -> str:
    cols = [c for c in RETRIEVAL_COLUMNS if any(c in row for row in by_mode.values())]
    lines = ["| mode | " + " | ".join(cols) + " |", "|" + "---|" * (len(cols) + 1)]
    lines += [f"| {mode} | " + " | ".join(_fmt(row.get(c, float("nan"))) for c in cols) + " |" for mode, row in by_mode.items()]
    return "\n".join(lines)


def evaluate(rag: Rag, items: list[QAItem], name: str = "eval", progress=None) -> EvalReport:
    started = time.perf_counter()
    results = []
    for n, item in enumerate(items):
        if progress:
            progress(n, len(items))
        turn = rag.run(item.question, history=list(item.history), depth=RETRIEVAL_DEPTH)
        a = turn.answer
        rank, page_rank = _ranks(item, turn.hits) if item.answerable else (None, None)
        top = a.citations[0] if a.citations else None
        results.append(
            ItemResult(
                id=item.id,
                lang=item.lang,
                kind=item.kind,
                context_type=item.context_type or "",
                question=item.question,
                expected=item.answers,
                got=a.short_answer or a.answer[:SHORT_CHARS],
                answer_type=a.answer_type,
                grounded=a.grounded,
                notes=a.notes,
                rank=rank,
                page=item.page,
                page_rank=page_rank,
                answer_correct=judge_answer(item, a) if item.answerable else None,
                full_correct=judge_full(item, a) if item.answerable else None,
                wrong=judge_wrong(item, a),
                refused=refused(a),
                citation_hit=citation_hit(item, a) if item.answerable else None,
                unanswerable_correct=None if item.answerable else judge_unanswerable(a),
                top_citation=(
                    f"{top.doc_id}{f' p.{top.page}' if top.page else ''}: {' '.join(top.text.split())[:80]}" if top else ""
                ),
            )
        )
    if progress:
        progress(len(items), len(items))
    groups: dict[str, dict[str, list[ItemResult]]] = {"by_kind": defaultdict(list), "by_lang": defaultdict(list)}
    if any(r.context_type for r in results):
        groups["by_context"] = defaultdict(list)
    for r in results:
        groups["by_kind"][r.kind].append(r)
        groups["by_lang"][r.lang].append(r)
        if "by_context" in groups:
            groups["by_context"][r.context_type or "-"].append(r)
    info = rag.info()
    meta = {
        "set": name,
        "model": info["model"],
        "index_built_at": info["built_at"],
        "chunks": info["chunks"],
        "documents": len(info["documents"]),
        "settings": {"top_k": rag.settings.top_k, "rrf_k": rag.settings.rrf_k, "chunk_chars": rag.settings.chunk_chars},
        "seconds": round(time.perf_counter() - started, 1),
    }
    return EvalReport(
        name,
        results,
        summarize(results),
        {g: {k: summarize(v) for k, v in sorted(members.items())} for g, members in groups.items()},
        meta,
    )


def load_thresholds(path: Path = DEFAULT_THRESHOLDS) -> dict[str, float]:
    if not path.exists():
        raise RagError(f"thresholds file {path} does not exist")
    return json.loads(path.read_text())


# metrics where lower is better: their threshold is a ceiling
CEILINGS = ("wrong_answer_rate", "refusal_rate")


def check_thresholds(metrics: dict[str, float], thresholds: dict[str, float]) -> list[str]:
    """The regressions: each guarded metric that fell below its floor (or rose above its ceiling)."""
    problems = []
    for name, limit in thresholds.items():
        if name not in metrics:
            continue
        if name in CEILINGS and metrics[name] > limit:
            problems.append(f"{name} {metrics[name]:.3f} is above the ceiling {limit:.3f}")
        elif name not in CEILINGS and metrics[name] < limit:
            problems.append(f"{name} {metrics[name]:.3f} is below the threshold {limit:.3f}")
    return problems


_COLUMNS = (
    ("n", "n"),
    ("answer_accuracy", "answer"),
    ("full_answer_accuracy", "full"),
    ("wrong_answer_rate", "wrong"),
    ("refusal_rate", "refused"),
    ("citation_hit", "cite hit"),
    ("unanswerable_accuracy", "unans."),
    ("hit@1", "hit@1"),
    ("hit@5", "hit@5"),
    ("mrr", "MRR"),
    ("page_hit@1", "page@1"),
    ("page_hit@5", "page@5"),
    ("page_mrr", "page MRR"),
)


def _fmt(v) -> str:
    if isinstance(v, float):
        return "–" if v != v else f"{v:.3f}"
    return str(v)


def table(report: EvalReport) -> str:
    cols = [(k, label) for k, label in _COLUMNS if k in report.metrics]
    lines = ["| group | " + " | ".join(label for _, label in cols) + " |", "|" + "---|" * (len(cols) + 1)]
    rows = [("overall", report.metrics)]
    for group, members in report.groups.items():
        prefix = group.removeprefix("by_")
        rows += [(f"{prefix}={k}", v) for k, v in members.items()]
    for name, m in rows:
        lines.append(f"| {name} | " + " | ".join(_fmt(m.get(c, float("nan"))) for c, _ in cols) + " |")
    return "\n".join(lines)


def failures_markdown(report: EvalReport) -> str:
    out = [
        "| id | kind | lang | question | expected | got | type | rank | top citation |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.items:
        if r.answer_correct is not False and r.unanswerable_correct is not False:
            continue
        cells = [
            r.id,
            r.kind,
            r.lang,
            r.question,
            " / ".join(r.expected[:3]) or "(not in documents)",
            r.got,
            r.answer_type + (" WRONG" if r.wrong else ""),
            str(r.rank or "–"),
            r.top_citation,
        ]
        out.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(out)


def write_report(report: EvalReport, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = "eval" if report.name == "eval" else f"eval-{report.name}"
    md = out_dir / f"{stem}.md"
    md.write_text(
        f"# Eval report: {report.name}\n\n"
        f"Model `{report.meta['model']['id']}`, {report.meta['documents']} documents, {report.meta['chunks']} chunks, "
        f"index built {report.meta['index_built_at']}, settings {report.meta['settings']}, {report.meta['seconds']} s.\n\n"
        "answer: the short answer (or the answer's first 160 characters) holds the keys; full: the whole answer does; "
        "wrong: a short answer that is wrong; refused: answerable but answered 'no passage states this'; "
        "cite hit: a cited passage holds the evidence or keys; retrieval columns count answerable questions.\n\n"
        + table(report)
        + "\n\n## Failing questions\n\n"
        + failures_markdown(report)
        + "\n",
        encoding="utf-8",
    )
    js = out_dir / f"{stem}.json"
    js.write_text(
        json.dumps(
            {"metrics": report.metrics, **report.groups, "meta": report.meta, "items": [asdict(r) for r in report.items]},
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    png = out_dir / f"{stem}.png"
    _chart(report, png)
    return [md, js, png]


def _chart(report: EvalReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ("answer_accuracy", "full_answer_accuracy", "wrong_answer_rate", "citation_hit")
    data = {k: v for members in report.groups.values() for k, v in members.items() if v["n_answerable"]}
    groups = list(data)
    fig, ax = plt.subplots(figsize=(max(8, len(groups) * 0.9), 4))
    width = 0.8 / len(metrics)
    for i, m in enumerate(metrics):
        ax.bar([x + i * width for x in range(len(groups))], [data[g][m] for g in groups], width, label=m)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(groups))], groups, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    m = report.metrics
    ax.set_title(
        f"{report.name}: answer {m['answer_accuracy']:.2f}, full {m['full_answer_accuracy']:.2f}, "
        f"wrong {m['wrong_answer_rate']:.2f}, cite hit {m['citation_hit']:.2f}"
    )
    ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

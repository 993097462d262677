"""The reliability suite: hostile questions through the CLI and the API, probes of the file
route, script payloads in every document format checked in a browser, a build killed at
several points, and 50 concurrent questions with a rebuild in the middle. Each probe is
recorded; the summary goes to test-artifacts/reliability.json (CI prints it)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import MODELS, REPO
from tests.integration.test_app import ARTIFACTS, CHROMIUM, launch_browser, start_app

PROBES: list[dict] = []

HOSTILE_QUESTIONS = [
    "",
    " ",
    "あ" * 2001,
    "<script>alert(1)</script>の目標は？",
    "[x](javascript:alert(1))",
    "\ud800",
    "\u0000\u0001 目標",
    "' OR 1=1 --",
    "../../etc/passwd",
    "徳島県" * 600,
    "R99年度の予算は？",
    "令和元年度の目標は？",
    "2022年度" * 100,
    "その実績は？",
    "FY99999 target",
    "\u202e目標は？",
]


def record(kind: str, name: str, ok: bool, detail: str = "") -> None:
    PROBES.append({"kind": kind, "probe": name[:60], "ok": ok, "detail": detail[:200]})


@pytest.fixture(scope="module")
def sandbox(built, tmp_path_factory):
    _, rag = built
    root = tmp_path_factory.mktemp("reliability")
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(rag.settings.corpus, corpus)
    (corpus / "corrupt.pdf").unlink(missing_ok=True)
    shutil.copytree(rag.settings.index, index, symlinks=True)
    return corpus, index


def test_hostile_questions_on_the_cli_are_one_line_each(sandbox):
    corpus, index = sandbox
    env = {**os.environ, "RAG_CORPUS": str(corpus), "RAG_INDEX": str(index), "RAG_MODELS_DIR": str(MODELS)}
    queries = corpus.parent / "hostile.jsonl"
    queries.write_text(
        "\n".join(json.dumps({"id": i, "question": q}) for i, q in enumerate(HOSTILE_QUESTIONS)) + "\n{broken\n", encoding="utf-8"
    )
    out = subprocess.run([sys.executable, "-m", "rag", "ask", "--queries", str(queries)], env=env, capture_output=True, text=True)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    ok = len(rows) == len(HOSTILE_QUESTIONS) + 1 and "Traceback" not in out.stderr
    record("cli", "hostile batch", ok, out.stderr[-200:])
    for i, q in enumerate(HOSTILE_QUESTIONS):
        row = rows[i] if i < len(rows) else {}
        answered = "answer" in row or "error" in row
        shown = row.get("short_answer") or ""
        record("cli", repr(q), answered and "<script" not in shown)
    assert ok and all(p["ok"] for p in PROBES if p["kind"] == "cli")


@pytest.fixture(scope="module")
def app(sandbox):
    corpus, index = sandbox
    proc, url, _, log = start_app(corpus, index, "app-reliability.log")
    yield url, corpus, index
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def test_hostile_questions_on_the_api(app):
    from gradio_client import Client

    url, _, _ = app
    client = Client(url, verbose=False)
    for q in HOSTILE_QUESTIONS:
        try:
            a = client.predict(q, "", "", [], api_name="/ask")
            ok = isinstance(a, dict) and "<script" not in (a.get("short_answer") or "")
        except Exception as e:  # a gr.Error with a message is the expected refusal
            ok = "Traceback" not in str(e)
        record("api", repr(q), ok)
    for bad_filter in ("Atlantis", "../../etc", "<b>"):
        try:
            client.predict("目標は？", bad_filter, "", [], api_name="/ask")
            ok = False
        except Exception as e:
            ok = "unknown prefecture" in str(e)
        record("api", f"prefecture filter {bad_filter}", ok)
    # still serving
    a = client.predict("徳島県の2022年度の電子決裁の目標は？", "", "", [], api_name="/ask")
    record("api", "still answers", a["short_answer"] == "100%")
    # a refused question is the user's error, not the app's: the server log holds no traceback for it
    log_text = (ARTIFACTS / "app-reliability.log").read_text(encoding="utf-8", errors="replace")
    record("api", "no traceback in the server log", "Traceback" not in log_text)
    assert all(p["ok"] for p in PROBES if p["kind"] == "api")


def test_the_file_route_serves_nothing_of_the_corpus_or_the_machine(app):
    url, corpus, _ = app
    targets = [
        f"{corpus.resolve()}/tokushima-digital-plan.txt",
        "/etc/passwd",
        f"{corpus.resolve()}/../../../../etc/passwd",
        "..%2f..%2f..%2fetc%2fpasswd",
        f"{corpus.resolve()}/metadata.toml",
    ]
    for target in targets:
        try:
            with urllib.request.urlopen(url.rstrip("/") + "/gradio_api/file=" + target, timeout=10) as r:
                body = r.read(2000).decode("utf-8", "replace")
                ok = r.status != 200 or ("root:" not in body and "デジタル" not in body)
        except urllib.error.HTTPError as e:
            ok = e.code in (400, 403, 404)
        except OSError:
            ok = True
        record("file route", target, ok)
    assert all(p["ok"] for p in PROBES if p["kind"] == "file route")


PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert("y")>[link](javascript:alert(1)) 香川県の{name}の目標は令和7年度までに5件。'


def _payload_files(folder: Path) -> list[str]:
    from docx import Document as Docx

    from tests.pdfs import make_pdf

    (folder / "xss.txt").write_text(PAYLOAD.format(name="テキスト計画"), encoding="utf-8")
    (folder / "xss.md").write_text("# 計画\n\n" + PAYLOAD.format(name="マークダウン計画"), encoding="utf-8")
    (folder / "xss.html").write_text(
        f"<html><body><p>{PAYLOAD.format(name='ウェブ計画')}</p><script>alert(2)</script></body></html>", encoding="utf-8"
    )
    d = Docx()
    d.add_paragraph(PAYLOAD.format(name="ワード計画"))
    d.save(folder / "xss.docx")
    make_pdf(
        folder / "xss.pdf", [PAYLOAD.format(name="PDF計画").replace("<", "＜").replace(">", "＞") + " <script>alert(3)</script>"]
    )
    return ["テキスト計画", "マークダウン計画", "ウェブ計画", "ワード計画"]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (CI installs it)")
def test_script_in_every_document_format_stays_text_in_the_browser(sandbox, tmp_path):
    from playwright.sync_api import sync_playwright

    corpus, index = sandbox
    corpus2, index2 = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(corpus, corpus2)
    shutil.copytree(index, index2, symlinks=True)
    names = _payload_files(corpus2)
    env = {**os.environ, "RAG_CORPUS": str(corpus2), "RAG_INDEX": str(index2), "RAG_MODELS_DIR": str(MODELS)}
    subprocess.run([sys.executable, "-m", "rag", "index", "--quiet"], env=env, check=False)
    proc, url, _, log = start_app(corpus2, index2, "app-xss.log")
    try:
        with sync_playwright() as p:
            browser = launch_browser(p)
            page = browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(url)
            for name in names:
                page.fill("#question textarea", f"香川県の{name}の目標は？")
                page.click("#ask-button")
                page.wait_for_timeout(2500)
                buttons = page.locator("#passages section.turn:not([hidden]) button.open-source")
                if buttons.count():
                    buttons.first.click()
                    page.wait_for_timeout(1500)
                record("xss", name, not dialogs and page.locator("#chat script, #passages script, #viewer script").count() == 0)
            page.screenshot(path=str(ARTIFACTS / "app-xss.png"), full_page=True)
            browser.close()
        assert not dialogs
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    assert all(p["ok"] for p in PROBES if p["kind"] == "xss")


def test_a_build_killed_at_any_point_leaves_the_old_index_serving(sandbox, tmp_path):
    corpus, index = sandbox
    corpus2, index2 = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(corpus, corpus2)
    shutil.copytree(index, index2, symlinks=True)
    env = {**os.environ, "RAG_CORPUS": str(corpus2), "RAG_INDEX": str(index2), "RAG_MODELS_DIR": str(MODELS)}
    ask = [sys.executable, "-m", "rag", "ask", "--json", "徳島県の2022年度の電子決裁の目標は？"]
    before = json.loads(subprocess.run(ask, env=env, capture_output=True, text=True, check=True).stdout)["short_answer"]
    for delay in (0.5, 3.0, 8.0, 14.0):
        proc = subprocess.Popen([sys.executable, "-m", "rag", "index", "--rebuild", "--quiet"], env=env)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        out = subprocess.run(ask, env=env, capture_output=True, text=True)
        ok = out.returncode == 0 and json.loads(out.stdout)["short_answer"] == before
        record("kill -9", f"after {delay}s", ok, out.stderr[-200:])
    out = subprocess.run([sys.executable, "-m", "rag", "index", "--quiet"], env=env, capture_output=True, text=True)
    record("kill -9", "next build", out.returncode == 0, out.stderr[-200:])
    assert all(p["ok"] for p in PROBES if p["kind"] == "kill -9")


def test_fifty_concurrent_questions_with_a_rebuild_in_the_middle(app):
    from gradio_client import Client

    url, _, index = app
    env = {**os.environ, "RAG_CORPUS": str(app[1]), "RAG_INDEX": str(index), "RAG_MODELS_DIR": str(MODELS)}
    questions = ["徳島県の2022年度の電子決裁の目標は？", "岡山県DX推進指針の対象期間は？"]

    def ask(i: int):
        try:
            return Client(url, verbose=False).predict(questions[i % 2], "", "", [], api_name="/ask")["short_answer"]
        except Exception as e:  # counted as an error below
            return f"ERROR {e}"

    rebuild = subprocess.Popen([sys.executable, "-m", "rag", "index", "--rebuild", "--quiet"], env=env)
    with ThreadPoolExecutor(max_workers=25) as pool:
        answers = list(pool.map(ask, range(50)))
    rebuild.wait(timeout=600)
    errors = [a for a in answers if str(a).startswith("ERROR")]
    changed = [a for i, a in enumerate(answers) if a not in (None,) and not str(a).startswith("ERROR") and a != answers[i % 2]]
    record("load", "50 concurrent with a rebuild", not errors and not changed, f"{len(errors)} errors, {len(changed)} changed")
    assert not errors and not changed


def teardown_module():
    ARTIFACTS.mkdir(exist_ok=True)
    summary = {
        "probes": len(PROBES),
        "passed": sum(p["ok"] for p in PROBES),
        "by_kind": {k: sum(1 for p in PROBES if p["kind"] == k) for k in dict.fromkeys(p["kind"] for p in PROBES)},
        "failed": [p for p in PROBES if not p["ok"]],
    }
    (ARTIFACTS / "reliability.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nreliability: {summary['passed']}/{summary['probes']} probes passed {summary['by_kind']}", file=sys.stderr)


assert REPO  # the suite runs from the repository (its fixtures build the bundled corpus)

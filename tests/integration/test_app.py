"""The running app: the stable `ask` API under concurrent use, and a real browser session."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import MODELS, REPO

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(corpus: Path, index: Path, log_name: str):
    port = free_port()
    env = {
        **os.environ,
        "RAG_CORPUS": str(corpus),
        "RAG_INDEX": str(index),
        "RAG_MODELS_DIR": str(MODELS),
        "RAG_ADMIN_TOKEN": "test-token",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / log_name).open("w")
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "app.py"), "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.perf_counter() - started > 180:
                proc.kill()
                pytest.fail(f"the app did not start; see {ARTIFACTS / log_name}")
            time.sleep(0.5)
    return proc, url, time.perf_counter() - started, log


@pytest.fixture(scope="module")
def app_url(built):
    _, rag = built
    proc, url, seconds, log = start_app(rag.settings.corpus, rag.settings.index, "app.log")
    (ARTIFACTS / "app-cold-start.txt").write_text(f"{seconds:.1f} s\n")
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def launch_browser(p):
    return p.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    )


def test_twenty_concurrent_api_requests_all_answer_correctly(app_url):
    from gradio_client import Client

    def ask(i: int) -> tuple[dict, float]:
        client = Client(app_url, verbose=False)
        question = "徳島県の2022年度の電子決裁の目標は？" if i % 2 else "what is Tokushima's 2022 e-approval target"
        t0 = time.perf_counter()
        result = client.predict(question, "", "", [], api_name="/ask")
        return result, time.perf_counter() - t0

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(ask, range(20)))
    wall = time.perf_counter() - started
    answers = [r for r, _ in results]
    assert len(answers) == 20
    assert all(a["short_answer"] == "100%" and a["citations"][0]["doc_id"] == "tokushima-digital-plan.txt" for a in answers)
    latencies = sorted(t for _, t in results)
    (ARTIFACTS / "concurrency.json").write_text(
        json.dumps(
            {
                "requests": 20,
                "correct": 20,
                "wall_s": round(wall, 2),
                "p50_s": round(latencies[9], 2),
                "max_s": round(latencies[-1], 2),
            }
        )
    )


def test_api_rejects_an_empty_question_with_a_message(app_url):
    from gradio_client import Client

    with pytest.raises(Exception, match="empty"):
        Client(app_url, verbose=False).predict("", "", "", [], api_name="/ask")


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (CI installs it)")
def test_browser_asks_clicks_a_marker_and_opens_the_source(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="ja-JP")
        errors, dialogs = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(app_url)
        page.wait_for_selector("#ask-button")
        assert page.evaluate("document.documentElement.lang") == "ja"  # Japanese first
        assert page.inner_text("#ask-button") == "質問する"
        page.fill("#question textarea", "徳島県の2022年度の電子決裁の目標は？")
        page.click("#ask-button")
        page.wait_for_selector("#passages details.citation", timeout=60000)
        assert "100%" in page.inner_text("#chat")
        assert page.locator("#chat strong").first.inner_text() == "100%"  # a grounded value is bold
        # [2] in the answer opens passage 2 of this answer
        page.locator('#chat a[href="#cite-0-2"]').first.click()
        assert page.locator("#cite-0-2").get_attribute("open") is not None
        first = page.locator("#cite-0-1")
        assert "100%" in first.locator("mark").first.inner_text().replace("１００％", "100%")
        # the source opens inside the app with the span marked and scrolled to
        first.locator("button.open-source").click()
        page.wait_for_selector("#viewer #viewer-focus", timeout=30000)
        assert "100%" in page.inner_text("#viewer-focus").replace("１００％", "100%")
        page.screenshot(path=str(ARTIFACTS / "app.png"), full_page=True)
        # a second answer keeps its own passages; selecting the first answer shows them again
        page.fill("#question textarea", "岡山県DX推進指針の対象期間は？")
        page.click("#ask-button")
        page.wait_for_selector("#turn-1:not([hidden])", timeout=60000)
        assert page.locator("#turn-0").get_attribute("hidden") is not None
        page.locator("#chat .message").first.click()
        page.wait_for_selector("#turn-0:not([hidden])", timeout=30000)
        # the conversation survives a reload
        page.reload()
        page.wait_for_selector("#chat a[href^='#cite-1-']", timeout=30000)
        # English switch: labels and <html lang> follow
        page.get_by_text("English", exact=True).click()
        page.wait_for_function("document.documentElement.lang === 'en'", timeout=10000)
        assert page.inner_text("#ask-button") == "Ask"
        # the choice persists, and <html lang> with it
        page.reload()
        page.wait_for_function("document.querySelector('#ask-button')?.innerText === 'Ask'", timeout=30000)
        page.wait_for_function("document.documentElement.lang === 'en'", timeout=10000)
        browser.close()
    assert dialogs == [] and errors == []


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (CI installs it)")
def test_admin_uploads_and_rebuilds_while_the_app_keeps_answering(built, tmp_path):
    import shutil

    from gradio_client import Client
    from playwright.sync_api import sync_playwright

    _, rag = built
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(rag.settings.corpus, corpus)
    shutil.copytree(rag.settings.index, index, symlinks=True)
    upload = tmp_path / "kagawa <plan>.md"
    upload.write_text(
        "# 香川県デジタル計画\n\n香川県はオープンデータの公開件数を令和7年度までに500件とする。\n\n"
        "香川県の計画期間は令和5年度から令和7年度まで。香川県の全庁で取り組む。\n",
        encoding="utf-8",
    )
    proc, url, _, log = start_app(corpus, index, "app-admin.log")
    try:
        with sync_playwright() as p:
            browser = launch_browser(p)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            other = browser.new_page(viewport={"width": 1400, "height": 1000})
            other.goto(url)  # a second user, already on the page before the rebuild
            other.wait_for_selector("#ask-button")
            page.get_by_role("tab", name="管理").click()
            page.locator("#admin-token input").fill("test-token")
            page.locator("#admin-files input[type=file]").set_input_files(str(upload))
            page.wait_for_timeout(1500)
            page.locator("#upload-button").click()
            page.wait_for_selector("text=追加しました", timeout=30000)
            page.locator("#rebuild-button").click()
            # the app answers while the rebuild runs
            during = Client(url, verbose=False).predict("徳島県の2022年度の電子決裁の目標は？", "", "", [], api_name="/ask")
            page.wait_for_selector("text=再構築しました", timeout=180000)
            # the second page sees the new document without reloading (the build watcher)
            other.get_by_role("tab", name="索引").click()
            other.wait_for_selector("text=kagawa", timeout=40000)
            # picking a document in the edit form shows its saved details (saving then changes only what is edited)
            page.get_by_text("登録済みの文書").click()
            page.locator("#admin-target input").click()
            page.locator("#admin-target input").fill("tokushima")
            page.keyboard.press("ArrowDown")
            page.keyboard.press("Enter")
            page.wait_for_function(
                "document.querySelector('#admin-meta-title textarea, #admin-meta-title input').value.includes('とくしま')",
                timeout=30000,
            )
            page.screenshot(path=str(ARTIFACTS / "app-admin.png"), full_page=True)
            browser.close()
        assert during["short_answer"] == "100%"
        (saved,) = corpus.glob("kagawa*plan.md")  # a safe name: no angle brackets
        assert "<" not in saved.name
        after = Client(url, verbose=False).predict("香川県のオープンデータの公開件数の目標は？", "", "", [], api_name="/ask")
        assert after["citations"][0]["doc_id"] == saved.name and after["citations"][0]["prefecture"] == "香川県"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _contrast(fg: str, bg: str) -> float:
    import re

    def lum(rgb: str) -> float:
        r, g, b = (int(x) / 255 for x in re.findall(r"[0-9.]+", rgb)[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    a, b = sorted((lum(fg), lum(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (CI installs it)")
def test_browser_dark_mode_mobile_copy_feedback_and_evaluator(built, tmp_path):
    import shutil

    from playwright.sync_api import sync_playwright

    _, rag = built
    index = tmp_path / "index"
    shutil.copytree(rag.settings.index, index, symlinks=True)
    qa = tmp_path / "qa.jsonl"
    lines = [line for line in (REPO / "eval" / "qa.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()][:3]
    qa.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.environ["RAG_EVAL_QA"] = str(qa)
    try:
        proc, url, _, log = start_app(rag.settings.corpus, index, "app-more.log")
    finally:
        del os.environ["RAG_EVAL_QA"]
    try:
        with sync_playwright() as p:
            browser = launch_browser(p)
            # dark mode: the highlight stays readable (contrast >= 4.5:1)
            ctx = browser.new_context(viewport={"width": 1200, "height": 900}, color_scheme="dark")
            ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
            page = ctx.new_page()
            page.goto(url + "?__theme=dark")
            page.wait_for_selector("#ask-button")  # the app is up, as a user would see it
            page.fill("#question textarea", "徳島県の2022年度の電子決裁の目標は？")
            page.click("#ask-button")
            page.wait_for_selector("#passages mark", timeout=60000)
            colors = page.evaluate(
                "(() => { const s = getComputedStyle(document.querySelector('#passages mark')); return [s.color, s.backgroundColor]; })()"
            )
            assert _contrast(*colors) >= 4.5, colors
            page.screenshot(path=str(ARTIFACTS / "app-dark.png"), full_page=True)
            # copy: plain text with a source line
            page.click("#copy-button")
            page.wait_for_timeout(1000)
            copied = page.evaluate("navigator.clipboard.readText()")
            assert copied.startswith("100%") and "出典：" in copied and "\\\\" not in copied and "**" not in copied
            # 👎 with a comment is written to the feedback log
            page.fill("#comment textarea", "目標ではなく実績が知りたい")
            page.locator("#chat button[aria-label='Dislike']").first.click()
            feedback = index / "feedback.jsonl"
            for _ in range(40):
                if feedback.exists():
                    break
                page.wait_for_timeout(250)
            record = json.loads(feedback.read_text(encoding="utf-8").splitlines()[-1])
            assert record["rating"] == "down" and record["comment"] == "目標ではなく実績が知りたい" and record["build_id"]
            # the evaluator runs the eval from the app
            page.get_by_role("tab", name="評価").click()
            page.locator("#eval-run").click()
            page.wait_for_selector("#eval-last table", timeout=120000)
            assert "answer" in page.inner_text("#eval-last")
            page.screenshot(path=str(ARTIFACTS / "app-eval.png"), full_page=True)
            ctx.close()
            # a phone: the answer, its markers and the passages come before the examples
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.goto(url)
            phone.fill("#question textarea", "岡山県DX推進指針の対象期間は？")
            phone.click("#ask-button")
            phone.wait_for_selector("#passages details.citation", timeout=60000)
            top = phone.evaluate("(s) => document.querySelector(s).getBoundingClientRect().top", "#passages")
            examples = phone.evaluate(
                "() => [...document.querySelectorAll('button')].find(b => b.innerText.includes('How long'))?.getBoundingClientRect().top"
            )
            assert top < examples
            phone.screenshot(path=str(ARTIFACTS / "app-mobile.png"), full_page=True)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


PDF = REPO / "tests" / "fixtures" / "public-pdfs" / "01point.pdf"


@pytest.mark.skipif(not Path(CHROMIUM).exists() or not PDF.exists(), reason="needs Debian's chromium and the PDF fixture")
def test_a_pdf_source_opens_on_its_page_with_the_sentence_marked_in_view(built, tmp_path, embedder):
    """The new user's path end to end: ask in a Japanese browser, click [1], see the page of the
    PDF inside the app with the cited line boxed and scrolled into view."""
    import shutil

    from playwright.sync_api import sync_playwright

    from rag.pipeline import Rag
    from rag.settings import Settings

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    shutil.copy(PDF, corpus / PDF.name)
    Rag(Settings(corpus=corpus, index=index, models_dir=MODELS), embedder=embedder).build()
    proc, url, _, log = start_app(corpus, index, "app-pdf.log")
    try:
        with sync_playwright() as p:
            browser = launch_browser(p)
            page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="ja-JP")
            page.goto(url)
            page.wait_for_selector("#ask-button")
            page.fill("#question textarea", "FTTHが総契約数でDSLを抜いたのは何年？")
            page.click("#ask-button")
            page.wait_for_selector("#passages details.citation", timeout=60000)
            page.locator("#cite-0-1 button.open-source").click()
            page.wait_for_selector("#viewer img.page", timeout=60000)
            assert int(page.get_attribute("#viewer img.page", "data-marks")) >= 1  # boxes were drawn
            anchor = page.locator("#viewer .page-anchor")
            page.wait_for_timeout(1000)  # the scroll into view
            box = anchor.bounding_box()
            assert box is not None and 0 <= box["y"] <= 900, box  # the marked line is on screen
            page.screenshot(path=str(ARTIFACTS / "app-pdf-view.png"))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()

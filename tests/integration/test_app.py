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
def test_browser_asks_and_opens_a_citation(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(app_url)
        page.fill("#question textarea", "徳島県の2022年度の電子決裁の目標は？")
        page.click("#ask-button")
        page.wait_for_selector("#passages details.citation", timeout=60000)
        assert "100%" in page.inner_text("#chat")
        second = page.locator("#passages details.citation").nth(1)
        second.locator("summary").click()
        assert second.get_attribute("open") is not None
        first = page.locator("#passages details.citation").first
        assert "100%" in first.locator("mark").first.inner_text().replace("１００％", "100%")
        href = first.locator("a.source-link").get_attribute("href")
        assert "gradio_api/file=" in href and href.endswith("tokushima-digital-plan.txt")
        page.screenshot(path=str(ARTIFACTS / "app.png"), full_page=True)
        # the served source document opens
        assert urllib.request.urlopen(app_url.rstrip("/") + href).status == 200
        browser.close()
    assert dialogs == []


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
        "# 香川県デジタル計画\n\n香川県はオープンデータの公開件数を令和7年度までに500件とする。\n", encoding="utf-8"
    )
    proc, url, _, log = start_app(corpus, index, "app-admin.log")
    try:
        with sync_playwright() as p:
            browser = launch_browser(p)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.get_by_role("tab", name="Admin").click()
            page.get_by_label("Admin token").fill("test-token")
            page.locator("input[type=file]").set_input_files(str(upload))
            page.get_by_label("Prefecture (optional)").fill("香川")
            page.wait_for_timeout(1500)
            page.get_by_role("button", name="Upload", exact=True).click()
            page.wait_for_selector("text=added", timeout=30000)
            page.get_by_role("button", name="Rebuild index").click()
            # the app answers while the rebuild runs
            during = Client(url, verbose=False).predict("徳島県の2022年度の電子決裁の目標は？", "", "", [], api_name="/ask")
            page.wait_for_selector("text=Rebuilt in", timeout=180000)
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

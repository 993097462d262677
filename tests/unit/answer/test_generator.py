"""Generated answers: the OpenAI-compatible protocol (streamed and not), the prompt's passage
numbering, the verifier, and every fallback, against a small local server started here."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.answer import llm
from rag.answer.generator import GeneratorAnswerer, prompt
from rag.answer.verify import check_answer, check_sentence, figures
from rag.pipeline import Rag
from rag.settings import Settings
from rag.types import Answer
from tests.conftest import MODELS
from tests.fakes import FakeEmbedder

PASSAGES = {
    1: "KGI 公文書の電子化率（電子決裁システム利用率）2022(R4)年度 100%",
    2: "令和４年度予算 電子決裁推進事業 86,700千円。令和5年10月1日から運用を開始する。",
}


# ---- the verifier ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sentence", "ok", "reason"),
    [
        ("2022年度の目標は100%です。[1]", True, ""),
        ("令和4年度の目標は１００％です。[1]", True, ""),  # era year and full-width digits
        ("The FY2022 target is 100% [1].", True, ""),
        ("予算は86,700千円です。[2]", True, ""),
        ("予算は86700千円です。[2]", True, ""),  # separators do not matter
        ("運用開始は2023年10月1日です。[2]", True, ""),  # 令和5年 = 2023
        ("2022年度の目標は90%です。[1]", False, "90 is not in the cited passage"),  # a wrong digit
        ("2021年度の目標は100%です。[1]", False, "2021 is not in the cited passage"),  # a wrong year
        ("予算は86,700千円です。[1]", False, "86700 is not in the cited passage"),  # figure from an uncited passage
        ("目標は100%です。", False, "no citation"),  # a missing [n]
        ("目標は100%です。[7]", False, "cites [7], which is not one of the passages"),  # an invented number
        ("電子決裁を推進します。[1][2]", True, ""),  # no figures: a citation is enough
    ],
)
def test_verifier(sentence, ok, reason):
    checked = check_sentence(sentence, PASSAGES)
    assert (checked.ok, checked.reason) == (ok, reason)


def test_sentences_keep_their_markers_and_figures_ignore_them():
    checked = check_answer("目標は100%です。[1] 予算は86,700千円です。\n[2]", PASSAGES)
    assert [c.citations for c in checked] == [(1,), (2,)]
    assert all(c.ok for c in checked)
    assert figures("目標は100%です[12]") == {"100"}


# ---- a local OpenAI-compatible server --------------------------------------------------------------
class FakeLLM:
    """What the server answers next: the reply text, streamed or not, or a failure."""

    def __init__(self) -> None:
        self.reply = ""
        self.stream = True
        self.status = 200
        self.delay = 0.0
        self.raw: bytes | None = None  # a body that is not the protocol
        self.requests: list[dict] = []


@pytest.fixture
def server():
    state = FakeLLM()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
            time.sleep(state.delay)
            if state.status != 200:
                self.send_response(state.status)
                self.end_headers()
                return
            if state.raw is not None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(state.raw)
                return
            if body.get("stream") and state.stream:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for i in range(0, len(state.reply), 4):
                    chunk = {"choices": [{"delta": {"content": state.reply[i : i + 4]}}]}
                    self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"choices": [{"message": {"content": state.reply}}]}).encode())

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    yield state
    httpd.shutdown()


def test_protocol_streamed_and_not(server):
    server.reply = "目標は100%です。[1]"
    endpoint = llm.Endpoint(server.url, "m", "secret")
    assert "".join(llm.stream(endpoint, [{"role": "user", "content": "q"}])) == server.reply
    assert llm.complete(endpoint, [{"role": "user", "content": "q"}]) == server.reply
    assert server.stream  # the first was really streamed: several pieces
    req = server.requests[0]
    assert req["path"] == "/v1/chat/completions" and req["body"]["stream"] is True and req["body"]["model"] == "m"
    assert req["auth"] == "Bearer secret"
    server.stream = False  # a server that ignores "stream" still works
    assert "".join(llm.stream(endpoint, [{"role": "user", "content": "q"}])) == server.reply


@pytest.fixture
def rag_with(small_corpus, tmp_path, server):
    def make(**settings) -> Rag:
        s = Settings(
            corpus=small_corpus, index=tmp_path / "index", models_dir=MODELS, llm_url=server.url, llm_model="local", **settings
        )
        rag = Rag(s, embedder=FakeEmbedder())
        rag.build()
        return rag

    return make


def test_prompt_numbers_the_passages_as_the_answer_cites_them(rag_with, server):
    rag = rag_with()
    server.reply = "目標は100%です。[1]"
    answer = rag.ask("徳島県の2022年度の電子決裁の目標は？")
    messages = server.requests[-1]["body"]["messages"]
    user = messages[1]["content"]
    for c in answer.citations:
        assert f"[{c.n}] " in user and c.text in user
    assert "日本語" in messages[0]["content"]  # the question's language
    query = rag.understand("what is the e-approval target")
    assert "English" in prompt(query, answer.citations)[0]["content"]


def test_verified_answer_streams_sentence_by_sentence(rag_with, server):
    rag = rag_with()
    hits = rag.run("徳島県の2022年度の電子決裁の目標は？").hits
    n = next(h.rank for h in hits if "100%" in h.chunk.text)
    server.reply = f"徳島県の2022年度の電子決裁の目標は100%です。[{n}] 電子決裁を推進します。[{n}]"
    partial = list(rag.stream("徳島県の2022年度の電子決裁の目標は？"))
    assert len(partial) >= 2 and partial[0].answer != partial[-1].answer  # shown as it was verified
    final = partial[-1]
    assert final.answer_type == "generated" and final.grounded
    assert "100%" in final.answer
    assert [v["citations"] for v in final.generator["verified"]] == [[n], [n]]
    assert final.to_dict()["generator"]["outcome"] == "generated"


def test_a_wrong_figure_is_caught_and_the_answer_falls_back(rag_with, server):
    rag = rag_with()
    server.reply = "徳島県の2022年度の電子決裁の目標は93%です。[1]"
    answer = rag.ask("徳島県の2022年度の電子決裁の目標は？")
    assert answer.answer_type != "generated" and "93%" not in answer.answer
    assert answer.short_answer == "100%"  # the extractive reader's grounded answer
    assert answer.generator["outcome"] == "fallback"
    assert "93" in answer.generator["dropped"][0]["reason"]
    assert any("生成した回答は使いませんでした" in note for note in answer.notes)


def test_a_later_failing_sentence_is_dropped_not_shown(rag_with, server):
    rag = rag_with()
    hits = rag.run("徳島県の2022年度の電子決裁の目標は？").hits
    n = next(h.rank for h in hits if "100%" in h.chunk.text)
    server.reply = f"目標は100%です。[{n}] 実績は99%でした。[{n}]"
    answer = rag.ask("徳島県の2022年度の電子決裁の目標は？")
    assert answer.answer_type == "generated" and "99%" not in answer.answer
    assert answer.generator["dropped"] == [{"text": f"実績は99%でした。[{n}]", "reason": "99 is not in the cited passage"}]


@pytest.mark.parametrize(
    ("setup", "note"),
    [
        ({"status": 500}, "HTTP 500"),
        ({"status": 429}, "rate-limited"),
        ({"raw": b"<html>not json</html>"}, "not an OpenAI-style"),
        ({"reply": "NO_ANSWER"}, "no answer in the passages"),
        ({"reply": "目標は100%です。"}, "no citation"),
        ({"delay": 1.5, "reply": "目標は100%です。[1]"}, "took longer than 0.5 s"),  # the time budget
    ],
)
def test_failures_fall_back_to_the_extractive_answer_with_one_note(rag_with, server, setup, note):
    rag = rag_with(llm_timeout=0.5)
    for k, v in setup.items():
        setattr(server, k, v)
    answer = rag.ask("徳島県の2022年度の電子決裁の目標は？")
    assert answer.short_answer == "100%" and answer.answer_type != "generated"
    notes = [n for n in answer.notes if n.startswith("生成した回答")]
    assert len(notes) == 1 and note in notes[0] and "\n" not in notes[0]


def test_unreachable_endpoint_is_not_an_outage(small_corpus, tmp_path):
    s = Settings(corpus=small_corpus, index=tmp_path / "index", models_dir=MODELS, llm_url="http://127.0.0.1:9/v1", llm_model="m")
    rag = Rag(s, embedder=FakeEmbedder())
    rag.build()
    answer = rag.ask("徳島県の2022年度の電子決裁の目標は？")
    assert answer.short_answer == "100%" and "could not be reached" in answer.notes[-1]


def test_with_no_endpoint_nothing_changes(small_corpus, tmp_path):
    rag = Rag(Settings(corpus=small_corpus, index=tmp_path / "index", models_dir=MODELS), embedder=FakeEmbedder())
    rag.build()
    d = rag.ask("徳島県の2022年度の電子決裁の目標は？").to_dict()
    assert "generator" not in d and d["answer_type"] == "value"
    assert type(rag.answerer).__name__ == "ExtractiveAnswerer"
    assert not isinstance(rag.answerer, GeneratorAnswerer)


def test_the_app_shows_the_answer_as_it_is_verified_and_labels_it(rag_with, server):
    from rag.web import handlers
    from rag.web.render import answer_markdown

    rag = rag_with()
    hits = rag.run("徳島県の2022年度の電子決裁の目標は？").hits
    n = next(h.rank for h in hits if "100%" in h.chunk.text)
    server.reply = f"目標は100%です。[{n}] 電子決裁を推進します。[{n}]"
    steps = list(handlers.ask_stream(rag, "徳島県の2022年度の電子決裁の目標は？", [], None, None, "ja"))
    assert len(steps) >= 2
    final = steps[-1].turns[-1]["answer"]
    shown = answer_markdown(Answer.from_dict(final), 0, "ja")
    assert "生成された回答（local）" in shown and "**" not in shown  # never bold: not a single grounded value
    assert f"(#cite-0-{n})" in shown  # its [n] open the passage like any answer's

"""The CLI contract the app, the eval and the benchmarks rely on, with the fake model."""

import json

import pytest

from rag.cli import main


@pytest.fixture
def indexed(small_corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_MODEL", "fake")
    monkeypatch.setenv("RAG_CORPUS", str(small_corpus))
    monkeypatch.setenv("RAG_INDEX", str(tmp_path / "idx"))
    assert main(["index", "--quiet"]) == 0
    return tmp_path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_index_prints_a_summary(indexed, capsys):
    code, out, _ = run(capsys, "index", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["unchanged"] == 3 and summary["embedded"] == 0


def test_search_json_shape(indexed, capsys):
    code, out, _ = run(capsys, "search", "電子決裁", "-k", "2", "--json")
    result = json.loads(out)
    assert code == 0 and len(result["hits"]) == 2
    assert set(result["hits"][0]) >= {"rank", "score", "doc_id", "title", "prefecture", "page", "chunk_id", "text"}
    assert result["hits"][0]["doc_id"] == "tokushima.txt"


def test_ask_json_shape(indexed, capsys):
    code, out, _ = run(capsys, "ask", "徳島県の2022年度の電子決裁の目標は？", "--json")
    result = json.loads(out)
    assert code == 0
    assert set(result) >= {"id", "question", "answer", "short_answer", "answerable", "citations"}
    assert set(result["citations"][0]) >= {"n", "doc_id", "title", "prefecture", "page", "text", "score"}
    assert result["short_answer"] == "100%"


def test_batch_answers_good_lines_and_reports_bad_ones(indexed, capsys, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"id": "a", "question": "電子決裁の目標"}\nnot json\n{"id": "c"}\n{"id": "d", "question": ""}\n{"id": "e", "question": "テレワーク"}\n',
        encoding="utf-8",
    )
    code, out, err = run(capsys, "ask", "--queries", str(queries))
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["a", None, "c", "d", "e"]
    assert "answer" in rows[0] and "answer" in rows[4]
    assert all("error" in r for r in rows[1:4])
    assert code == 1 and "q.jsonl:2" in err and "q.jsonl:4" in err


def test_search_batch_keeps_ids(indexed, capsys, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": 7, "question": "岡山"}\n', encoding="utf-8")
    code, out, _ = run(capsys, "search", "--queries", str(queries), "-k", "1")
    assert code == 0 and json.loads(out)["id"] == 7


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", ""], "empty"),
        (["search", "計画", "--prefecture", "Atlantis"], "unknown prefecture"),
        (["ask"], "give a question"),
        (["ask", "--queries", "missing.jsonl"], "does not exist"),
    ],
)
def test_errors_are_one_line_without_traceback(indexed, capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_no_index_yet(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_MODEL", "fake")
    code, _, err = run(capsys, "ask", "計画", "--index", str(tmp_path / "none"))
    assert code == 1 and "rag index" in err


def test_info_lists_documents(indexed, capsys):
    code, out, _ = run(capsys, "info")
    assert code == 0 and "tokushima.txt" in out and "徳島県" in out


def test_missing_model_says_how_to_build_it(small_corpus, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_MODELS_DIR", str(tmp_path / "no-models"))
    code, _, err = run(capsys, "index", "--corpus", str(small_corpus))
    assert code == 1 and "rag model build" in err

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


def test_every_batch_line_gets_an_answer_or_an_error(indexed, capsys, tmp_path):
    lines = [
        b'\xef\xbb\xbf{"id": "bom", "question": "\xe9\x9b\xbb\xe5\xad\x90\xe6\xb1\xba\xe8\xa3\x81"}',  # a UTF-8 BOM on line 1
        b'{"id": "bad-utf8", "question": "\xff\xfe"}',
        b'{"id": "surrogate", "question": "\\ud800"}',
        b'{"id": "null", "question": null}',
        b'{"question": "no id"}',
        json.dumps({"id": "long-history", "question": "その実績は？", "history": ["電子決裁の目標は？"] * 900}).encode(),
        b'{"id": "last", "question": "\xe3\x83\x86\xe3\x83\xac\xe3\x83\xaf\xe3\x83\xbc\xe3\x82\xaf"}',
    ]
    queries = tmp_path / "q.jsonl"
    queries.write_bytes(b"\n".join(lines) + b"\n")
    code, out, err = run(capsys, "ask", "--queries", str(queries))
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == len(lines) and "Traceback" not in err
    by_id = {r["id"]: r for r in rows}
    assert "answer" in by_id["bom"] and "answer" in by_id["long-history"] and "answer" in by_id["last"]
    assert all("error" in by_id[k] for k in ("surrogate", "null")) and "error" in rows[1] and "error" in rows[4]
    assert code == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "計画", "-k", "0"], "k must be positive"),
        (["ask", "--queries", "."], "is a folder"),
        (["ask", "\udcff\udcfe"], "not valid text"),
    ],
)
def test_more_bad_input_is_one_line(indexed, capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1


def test_index_exits_2_when_some_files_failed(indexed, capsys, small_corpus):
    (small_corpus / "broken.docx").write_bytes(b"not a zip")
    code, out, err = run(capsys, "index")
    assert code == 2 and "broken.docx" in err and "3 unchanged" in out


def test_index_profile_gives_seconds_per_stage(indexed, capsys):
    code, out, _ = run(capsys, "index", "--rebuild", "--json", "--profile")
    profile = json.loads(out)["profile"]
    assert code == 0
    for stage in (
        "read (extract, grids)",
        "chunk (normalise, split)",
        "embed passages",
        "embed sentences",
        "bm25 (tokenize, index)",
    ):
        assert profile[stage] >= 0
    assert sum(profile.values()) <= json.loads(out)["seconds"] + 0.01
    code, out, _ = run(capsys, "index", "--rebuild", "--profile")
    assert "embed passages" in out and "total" in out.splitlines()[-1]


def test_batch_survives_deep_nesting_and_unreadable_history(indexed, capsys, tmp_path):
    queries = tmp_path / "q.jsonl"
    deep = '{"id": "deep", "question": "a", "history": ' + "[" * 5000 + "]" * 5000 + "}"
    lone = json.dumps({"id": "lone", "question": "その実績は？", "history": ["\ud800", "電子決裁の目標"]})
    queries.write_text(f'{deep}\n{lone}\n{{"id": "after", "question": "電子決裁の目標"}}\n', encoding="utf-8")
    code, out, err = run(capsys, "ask", "--queries", str(queries))
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 1  # one line failed
    assert [r.get("id") for r in rows] == [None, "lone", "after"]
    assert "nested too deeply" in rows[0]["error"]
    assert "answer" in rows[1] and "answer" in rows[2]  # the unreadable earlier question is skipped
    assert "Traceback" not in err


def test_a_question_of_null_bytes_is_empty(indexed, capsys):
    code, _, err = run(capsys, "ask", "\x00\x00")
    assert code == 1 and "empty" in err


def test_a_full_disk_is_one_line(indexed, capsys, monkeypatch):
    import errno

    from rag import pipeline

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device", "index/.build-x/vectors.npy")

    monkeypatch.setattr(pipeline.Rag, "build", full)
    code, _, err = run(capsys, "index")
    assert code == 1 and err.count("\n") == 1 and "No space left on device" in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [["ask", "x", "--bogus"], ["search", "x", "-k", "many"], []])
def test_usage_errors_exit_1_not_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 1 and ": error:" in capsys.readouterr().err


def test_top_k_from_rag_toml_sets_how_many_passages_search_shows(indexed, capsys, monkeypatch):
    monkeypatch.chdir(indexed)
    (indexed / "rag.toml").write_text("top_k = 2\n", encoding="utf-8")
    code, out, _ = run(capsys, "search", "計画", "--json")
    assert code == 0 and len(json.loads(out)["hits"]) == 2
    code, out, _ = run(capsys, "search", "計画", "-k", "1", "--json")  # the flag still wins
    assert len(json.loads(out)["hits"]) == 1


@pytest.mark.parametrize(
    ("toml", "named"),
    [("chunk_chars = -5", "chunk_chars"), ("chunk_chars = 10", "chunk_chars"), ("chunk_overlap = 400", "chunk_overlap")],
)
def test_bad_chunk_setting_is_one_line_naming_it(indexed, capsys, monkeypatch, toml, named):
    monkeypatch.chdir(indexed)
    (indexed / "rag.toml").write_text(toml + "\n", encoding="utf-8")
    code, _, err = run(capsys, "index")
    assert code == 1 and err.count("\n") == 1 and named in err and "Traceback" not in err


def test_serve_refuses_an_open_address_without_a_password(indexed, capsys, monkeypatch):
    monkeypatch.delenv("RAG_APP_PASSWORD", raising=False)
    monkeypatch.delenv("RAG_BEHIND_PROXY", raising=False)
    code, _, err = run(capsys, "serve", "--host", "0.0.0.0")
    assert code == 1 and err.count("\n") == 1 and "RAG_APP_PASSWORD" in err


def test_serve_listens_where_the_settings_say(indexed, capsys, monkeypatch):
    import rag.web.app

    calls = []
    monkeypatch.setattr(rag.web.app, "launch", lambda r, host, port, token, password: calls.append((host, port, token)))
    monkeypatch.chdir(indexed)
    (indexed / "rag.toml").write_text("port = 7999\n", encoding="utf-8")
    monkeypatch.setenv("RAG_ADMIN_TOKEN", "t0ken")
    assert main(["serve"]) == 0 and calls[-1] == ("127.0.0.1", 7999, "t0ken")
    monkeypatch.setenv("RAG_PORT", "7001")
    assert main(["serve", "--host", "localhost"]) == 0 and calls[-1][:2] == ("localhost", 7001)
    assert main(["serve", "--port", "7002"]) == 0 and calls[-1][1] == 7002


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ("port = 99999", "port"),
        ("port = -1", "port"),
        ('port = "abc"', "port"),
        ("top_k = -3", "top_k"),
        ("top_k = 0", "top_k"),
        ("top_k = 2.7", "top_k"),
        ("bm25_share = 1e309", "bm25_share"),
        ("bigram_share = nan", "bigram_share"),
        ('host = ""', "host"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_whatever_the_command(indexed, capsys, monkeypatch, toml, named):
    monkeypatch.chdir(indexed)
    (indexed / "rag.toml").write_text(toml + "\n", encoding="utf-8")
    for argv in (["search", "計画"], ["ask", "計画"], ["serve"]):
        code, _, err = run(capsys, *argv)
        assert code == 1 and err.count("\n") == 1 and named in err and "Traceback" not in err, (argv, err)


def test_serve_says_when_its_port_is_taken(indexed, capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = run(capsys, "serve", "--port", str(port))
    assert code == 1 and f"port {port}" in err and "--port" in err


def test_bigram_mode_reads_latin_words_too(indexed, capsys):
    code, out, _ = run(capsys, "search", "DX", "--mode", "bigram", "--json")
    assert code == 0 and json.loads(out)["hits"]

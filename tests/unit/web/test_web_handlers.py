"""The app's event handlers, as plain functions: a conversation of turns, filters that follow
the index, feedback lines, the evaluator's draft questions, the admin's metadata edits."""

import json

import pytest

from rag.evaluation.evaluate import load_qa
from rag.ingest.documents import load_metadata
from rag.ingest.uploads import UploadError, edit_metadata, remove_document, write_entry
from rag.pipeline import Rag
from rag.settings import Settings
from rag.web import handlers as h
from rag.web.evaluator import append_item, draft_item
from tests.conftest import MODELS, write_files


@pytest.fixture
def rag(small_corpus, tmp_path, fake_embedder):
    r = Rag(Settings(corpus=small_corpus, index=tmp_path / "index", models_dir=MODELS), embedder=fake_embedder)
    r.build()
    return r


def test_a_conversation_is_turns_and_follow_ups_read_them(rag):
    first = h.ask(rag, "徳島県の2022年度の電子決裁の目標は？", [], "", "")
    assert first.warning is None and first.turns[0]["answer"]["short_answer"] == "100%"
    second = h.ask(rag, "その実績は？", first.turns, "", "")
    assert h.history(second.turns) == ["徳島県の2022年度の電子決裁の目標は？", "その実績は？"]
    chat = h.chat_messages(second.turns)
    assert [m["role"] for m in chat] == ["user", "assistant", "user", "assistant"]
    assert "(#cite-0-1)" in chat[1]["content"] and "(#cite-1-" in chat[3]["content"]


@pytest.mark.parametrize("question", ["", "   ", "あ" * 2001])
def test_bad_questions_warn_and_leave_the_conversation_alone(rag, question):
    asked = h.ask(rag, question, [{"question": "x", "answer": None, "error": "e"}], "", "")
    assert asked.warning and len(asked.turns) == 1


def test_an_error_becomes_a_turn_that_says_so(rag):
    asked = h.ask(rag, "電子決裁の目標は？", [], "", "nope.txt")
    assert asked.turns[0]["answer"] is None and "unknown document" in asked.turns[0]["error"]
    assert h.history(asked.turns) == []  # a failed question is not something to follow up on


def test_clearing_the_conversation_clears_what_follow_ups_read():
    assert h.history([]) == []


def test_chat_message_index_maps_to_its_turn():
    assert [h.turn_of_message(i) for i in (0, 1, 2, 3, [5, 0])] == [0, 0, 1, 1, 2]


def test_filters_follow_the_index_and_the_prefecture_narrows_documents(rag):
    prefs, docs = h.choices(rag, None)
    assert [v for _, v in prefs] == ["", "三重県", "岡山県", "徳島県"]  # okayama.md by its title line
    _, mie_docs = h.choices(rag, "三重県")
    assert [v for _, v in mie_docs] == ["", "mie.txt"]
    assert len(docs) == 4


def test_feedback_is_a_json_line_with_question_answer_citations_and_build(rag, tmp_path):
    turns = h.ask(rag, "徳島県の2022年度の電子決裁の目標は？", [], "", "").turns
    path = tmp_path / "feedback.jsonl"
    h.record_feedback(path, turns, 0, "down", "表の値が違う", rag.build_id())
    (record,) = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert record["rating"] == "down" and record["comment"] == "表の値が違う"
    assert record["short_answer"] == "100%" and record["citations"][0]["doc_id"] == "tokushima.txt"
    assert record["build_id"] == rag.build_id() != ""
    assert h.record_feedback(path, turns, 5, "up", "", "b") is None  # no such answer: nothing written
    # a comment sent after the 👎 carries it
    later = h.record_feedback(path, turns, 0, None, "出典のページが違う", rag.build_id())
    assert (later["rating"], later["comment"]) == ("down", "出典のページが違う")


def test_copy_gives_the_selected_answer_as_plain_text(rag):
    turns = h.ask(rag, "徳島県の2022年度の電子決裁の目標は？", [], "", "").turns
    text = h.copy_text(turns, 0)
    assert text.startswith("100%") and "出典：" in text and "**" not in text


def test_a_thumbs_down_becomes_a_valid_eval_question(rag, tmp_path):
    turns = h.ask(rag, "徳島県の2022年度の電子決裁の目標は？", [], "", "").turns
    path = tmp_path / "feedback.jsonl"
    record = h.record_feedback(path, turns, 0, "down", "", rag.build_id())
    evidence = record["citations"][0]["text"][:20]
    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        json.dumps({"id": "fb-001", "lang": "ja", "question": "q", "answers": ["1"], "doc": "d", "evidence": "e", "kind": "kpi"})
        + "\n"
    )
    item = draft_item(record, "100%", evidence, load_qa(qa))
    assert item["id"] == "fb-002" and item["doc"] == "tokushima.txt" and item["answers"] == ["100%"]
    append_item(qa, item)
    assert json.loads(qa.read_text().splitlines()[-1])["id"] == "fb-002"
    with pytest.raises(Exception, match="already has this question"):
        draft_item(record, "100%", evidence, load_qa(qa))  # the same 👎 twice is one eval question
    with pytest.raises(Exception, match="expected answer"):
        draft_item(record, " ", evidence, [])


def test_metadata_edits_replace_the_entry_and_never_break_the_file(tmp_path):
    corpus = write_files(tmp_path / "c", {"a.txt": "文書", "b.txt": "文書2", "metadata.toml": "# 手で書いたコメント\n"})
    edit_metadata(corpus, "a.txt", "国", "白書", "令和5年度")
    edit_metadata(corpus, "a.txt", "徳島", "白書（改）", "")  # again: one table, not two
    meta = load_metadata(corpus)
    assert meta["a.txt"].prefecture == "徳島県" and meta["a.txt"].title == "白書（改）"
    text = (corpus / "metadata.toml").read_text(encoding="utf-8")
    assert text.count('[documents."a.txt"]') == 1 and "# 手で書いたコメント" in text
    edit_metadata(corpus, "b.txt", "その他", "", "")
    assert load_metadata(corpus)["b.txt"].issuer == "その他" and load_metadata(corpus)["b.txt"].prefecture is None
    remove_document(corpus, "a.txt")
    assert not (corpus / "a.txt").exists() and "a.txt" not in load_metadata(corpus)
    with pytest.raises(UploadError):
        edit_metadata(corpus, "../outside.txt", "国", "", "")
    with pytest.raises(UploadError):
        write_entry(corpus, "x.txt", {"title": "ok"}) or edit_metadata(corpus, "b.txt", "Atlantis", "", "")


def test_audit_lines_name_the_token_by_a_hash_only(tmp_path):
    path = tmp_path / "audit.jsonl"
    h.audit(path, "secret-token", "delete", "a.txt", "deleted")
    record = json.loads(path.read_text())
    assert record["who"] == h.token_id("secret-token") and "secret" not in path.read_text()


def test_a_question_that_fails_shows_its_error_and_the_next_still_works(rag):
    from rag.web.render import turns_html

    turns = list(h.ask_stream(rag, "電子決裁\ud800", [], "", ""))[-1].turns
    assert turns[0]["answer"] is None and "not valid text" in turns[0]["error"]
    assert "⚠️" in h.chat_messages(turns)[1]["content"]
    assert 'id="turn-0"' in turns_html(turns, None)  # no crash on a turn without an answer
    turns = list(h.ask_stream(rag, "徳島県の2022年度の電子決裁の目標は？", turns, "", ""))[-1].turns
    assert turns[1]["answer"]["short_answer"] == "100%" and 'id="turn-1"' in turns_html(turns, None)
    assert h.copy_text(turns, 0).startswith("100%")  # copy skips the failed turn

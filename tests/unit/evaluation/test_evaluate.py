import json

import pytest

from rag.errors import RagError
from rag.evaluation.evaluate import (
    DEFAULT_QA,
    QAItem,
    check_thresholds,
    citation_hit,
    judge_answer,
    judge_full,
    judge_unanswerable,
    judge_wrong,
    key,
    load_qa,
    load_set,
    short_part,
)
from rag.types import Answer, Citation
from tests.conftest import CORPUS, REPO

QA = REPO / DEFAULT_QA


@pytest.fixture(scope="module")
def items():
    return load_qa(QA)


def test_eval_set_size_and_mix(items):
    assert len(items) >= 100
    assert sum(i.lang == "en" for i in items) >= len(items) / 4
    kinds = {i.kind for i in items}
    assert {"kpi", "budget", "definition", "list", "date", "comparison", "unanswerable"} <= kinds


def test_every_evidence_is_in_its_document(items):
    for item in items:
        if item.answerable:
            text = (CORPUS / item.doc).read_text(encoding="utf-8")
            assert item.evidence in text, f"{item.id}: evidence not found in {item.doc}"


def test_every_answer_appears_in_its_document(items):
    for item in items:
        if item.answerable:
            doc = key((CORPUS / item.doc).read_text(encoding="utf-8"))
            assert any(key(a) in doc for a in item.answers), f"{item.id}: no answer form in {item.doc}"


def qa(**kw):
    base = {"id": "x", "lang": "ja", "question": "q", "answers": ["100%"], "doc": "d.txt", "evidence": "e", "kind": "kpi"}
    return json.dumps(base | kw, ensure_ascii=False)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{bad json", "not a valid eval item"),
        (qa(lang="fr"), "lang"),
        (qa(kind="trivia"), "kind"),
        (qa(kind="unanswerable"), "unanswerable"),
        (qa(answers=[]), "unanswerable"),
        (qa(doc=None), "need doc"),
        (qa(page=0), "page"),
        (qa(match="some"), "match"),
    ],
)
def test_bad_eval_lines_name_the_line(tmp_path, line, message):
    path = tmp_path / "qa.jsonl"
    path.write_text(qa() + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(RagError, match=rf"qa.jsonl:2: .*{message}"):
        load_qa(path)


def test_duplicate_ids_are_rejected(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text(qa() + "\n" + qa() + "\n", encoding="utf-8")
    with pytest.raises(RagError, match="duplicate"):
        load_qa(path)


def item(answers, match="any"):
    return QAItem("x", "ja", "q", tuple(answers), "d", "e", "kpi", match)


def answer(short, text="本文 [1]", answerable=True, kind=None):
    cite = Citation(1, "d", "t", None, None, "本文 90% と 95%", 0.1, "c")
    kind = kind or ("value" if short else "passage" if answerable else "none")
    return Answer("q", text, short, answerable, (cite,), answer_type=kind)


JUDGE = [
    (item(["100%"]), answer("１００％"), True),  # width-insensitive
    (item(["95,027千円"]), answer("95027千円"), False),  # every accepted form must be listed
    (item(["95,027千円", "95027千円"]), answer("95027千円"), True),
    (item(["90%", "95%"], "all"), answer("90%"), False),
    (item(["90%", "95%"], "all"), answer("目標90%、実績95%"), True),
    (item(["100%"]), answer(None, "目標は100%です。 [1]"), True),  # a passage answer: its first 160 characters count
    (item(["100%"]), answer(None, "あ" * 170 + "100%"), False),  # ... and no more
    (item(["10,000", "10000", "１０，０００", "86,700", "86700"], "all"), answer("10,000千円 / 86,700千円"), True),
    (item(["10,000", "10000", "86,700", "86700"], "all"), answer("10,000千円"), False),  # forms group by value
    (item(["100%"]), answer(None, "該当する記述は見つかりませんでした。関連: 100% [1]", answerable=False), False),
]


@pytest.mark.parametrize(("qa_item", "ans", "expected"), JUDGE)
def test_judge_answer(qa_item, ans, expected):
    assert judge_answer(qa_item, ans) is expected


def test_full_answer_reads_the_whole_text_but_a_refusal_is_never_right():
    long = answer(None, "あ" * 170 + "100%")
    assert judge_full(item(["100%"]), long) and not judge_answer(item(["100%"]), long)
    assert not judge_full(item(["100%"]), answer(None, "見つかりません 100%", answerable=False))


WRONG = [
    (item(["100%"]), answer("95%"), True),  # a bold value that is not the answer
    (item(["100%"]), answer("100%"), False),
    (item(["100%"]), answer(None, "本文 95%"), False),  # a passage answer asserts no value
    (QAItem("u", "ja", "q", (), None, None, "unanswerable"), answer("100%"), True),  # any value for the unanswerable
    (QAItem("u", "ja", "q", (), None, None, "unanswerable"), answer(None, answerable=False), False),
]


@pytest.mark.parametrize(("qa_item", "ans", "wrong"), WRONG)
def test_wrong_answers_are_short_answers_that_miss(qa_item, ans, wrong):
    assert judge_wrong(qa_item, ans) is wrong


def test_judge_unanswerable():
    assert judge_unanswerable(answer(None, answerable=False))
    assert not judge_unanswerable(answer("100%", answerable=True))
    assert not judge_unanswerable(answer(None, "本文"))  # a passage answer is not a refusal


def test_short_part_and_citation_hit():
    assert short_part(answer("100%", "長い本文")) == "100%"
    assert short_part(answer(None, "本 文\n" * 100)) == "本文" * 80
    assert citation_hit(item(["90%", "95%"], "all"), answer(None))  # the cited text holds both
    assert not citation_hit(item(["80%"]), answer(None))


def test_translated_set_takes_the_rest_from_its_base(tmp_path):
    base = tmp_path / "base.jsonl"
    base.write_text(qa(id="a1", question="目標は？", page=3) + "\n", encoding="utf-8")
    folder = tmp_path / "en"
    (folder / "docs").mkdir(parents=True)
    (folder / "qa.jsonl").write_text('{"id": "a1-en", "lang": "en", "question": "What is the target?"}\n', encoding="utf-8")
    (folder / "set.toml").write_text('base = "../base.jsonl"\nbase_id_suffix = "-en"\ncorpus = "docs"\n', encoding="utf-8")
    s = load_set(folder)
    assert s.corpus == (folder / "docs").resolve() and s.name == "en"
    (it,) = s.items
    assert (it.id, it.lang, it.question, it.answers, it.page) == ("a1-en", "en", "What is the target?", ("100%",), 3)


def test_a_set_without_documents_is_refused(tmp_path):
    (tmp_path / "qa.jsonl").write_text(qa() + "\n", encoding="utf-8")
    with pytest.raises(RagError, match="no documents"):
        load_set(tmp_path)


def test_thresholds_only_flag_what_fell():
    problems = check_thresholds({"hit@5": 0.8, "answer_accuracy": 0.5}, {"hit@5": 0.85, "answer_accuracy": 0.5})
    assert problems == ["hit@5 0.800 is below the threshold 0.850"]
    assert check_thresholds({"wrong_answer_rate": 0.2}, {"wrong_answer_rate": 0.1}) == [
        "wrong_answer_rate 0.200 is above the ceiling 0.100"
    ]

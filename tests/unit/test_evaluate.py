import json

import pytest

from rag.errors import RagError
from rag.evaluate import (
    DEFAULT_QA,
    QAItem,
    check_thresholds,
    first_sentence,
    judge_answer,
    judge_unanswerable,
    key,
    load_qa,
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
    assert kinds == {"kpi", "budget", "definition", "list", "date", "comparison", "unanswerable"}


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
        (qa(doc=None), "doc and evidence"),
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


def answer(short, text="本文 [1]", answerable=True):
    cite = Citation(1, "d", "t", None, None, "本文", 0.1, "c")
    return Answer("q", text, short, answerable, (cite,))


JUDGE = [
    (item(["100%"]), answer("１００％"), True),  # width-insensitive
    (item(["95,027千円"]), answer("95027千円"), False),  # every accepted form must be listed
    (item(["95,027千円", "95027千円"]), answer("95027千円"), True),
    (item(["90%", "95%"], "all"), answer("90%"), False),
    (item(["90%", "95%"], "all"), answer("目標90%、実績95%"), True),
    (item(["100%"]), answer(None, "目標は100%です。 [1]"), True),  # first sentence counts
    (item(["10,000", "10000", "１０，０００", "86,700", "86700"], "all"), answer("10,000千円 / 86,700千円"), True),
    (item(["10,000", "10000", "86,700", "86700"], "all"), answer("10,000千円"), False),  # forms group by value
    (item(["100%"]), answer("100%", answerable=False), False),
]


@pytest.mark.parametrize(("qa_item", "ans", "expected"), JUDGE)
def test_judge_answer(qa_item, ans, expected):
    assert judge_answer(qa_item, ans) is expected


def test_judge_unanswerable():
    assert judge_unanswerable(answer(None, answerable=False))
    assert not judge_unanswerable(answer("100%", answerable=True))


def test_first_sentence():
    assert first_sentence("一文目。二文目。") == "一文目。"
    assert first_sentence("KGI 100% [1] 次 [2]") == "KGI 100%"


def test_thresholds_only_flag_what_fell():
    problems = check_thresholds({"hit@5": 0.8, "answer_accuracy": 0.5}, {"hit@5": 0.85, "answer_accuracy": 0.5})
    assert problems == ["hit@5 0.800 is below the threshold 0.850"]

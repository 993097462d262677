import pytest

from rag.errors import QueryError
from rag.lang.glossary import glossary_terms, is_english
from rag.lang.vocab import Expect, Measure, expect_of
from rag.query.understand import MAX_HISTORY, Scope, understand

QUERIES = [
    # question, prefectures, fiscal years, calendar years, measure, topic must include
    ("徳島県の2022年度の電子決裁の目標は？", ("徳島県",), (2022,), (), Measure.TARGET, {"電子", "決裁"}),
    ("what is Tokushima's 2022 e-approval target", ("徳島県",), (2022,), (), Measure.TARGET, {"電子", "決裁"}),
    ("三重県のテレワークの令和３年度の実績は", ("三重県",), (2021,), (), Measure.ACTUAL, {"テレワーク"}),
    ("R4のRPAシナリオ数の目標", (), (2022,), (), Measure.TARGET, {"rpa", "シナリオ"}),
    ("２０２０年に策定された計画は？", (), (), (2020,), None, {"策定", "計画"}),
    ("令和2年に何が起きた？", (), (), (2020,), None, set()),
    ("FY２０２３の予算", (), (2023,), (), Measure.BUDGET, set()),
]


@pytest.mark.parametrize(("question", "prefs", "years", "calendar", "measure", "topic"), QUERIES)
def test_understand(question, prefs, years, calendar, measure, topic):
    q = understand(question)
    assert (q.prefectures, q.years, q.calendar_years, q.measure) == (prefs, years, calendar, measure)
    assert topic <= set(q.topic)
    assert not q.followup and not q.dangling


def test_topic_keeps_nouns_not_verbs_or_question_words():
    q = understand("三重県のスマート自治体推進事業は、令和3年度にいくらの予算が組まれていますか？")
    assert {"スマート", "自治", "推進"} <= set(q.topic)
    assert not {"組ま", "い", "いくら", "予算", "三重", "3"} & set(q.topic)
    # a noun compound is one concept: every part must be found for it to count whole
    assert any(c.alternatives == (("スマート", "自治", "体", "推進"),) for c in q.concepts)


EXPECTS = [
    ("徳島県の2022年度の電子決裁の目標は？", Expect.VALUE),
    ("予算額は？", Expect.MONEY),
    ("電子申請の件数は何件", Expect.COUNT),
    ("利用率は何％", Expect.RATE),
    ("岡山県DX推進指針はいつ改定されましたか", Expect.DATE),
    ("How long does the Okayama DX guideline run?", Expect.PERIOD),
    ("2割特例とは何ですか", Expect.DEFINITION),
    ("三重県の3つの柱は", Expect.LIST),
    ("どの県がテレワークを導入していますか", Expect.WHICH),
    ("予算は令和2年度から3年度でいくら増えましたか", Expect.DIFFERENCE),
    ("2009年から2023年までに個人株主数はどれくらい増えたか。", Expect.DIFFERENCE),
    ("R2からR3にかけてどれだけ減った？", Expect.DIFFERENCE),
    ("By how much did the budget rise?", Expect.DIFFERENCE),
    ("令和3年度に目標をどれだけ上回った？", Expect.DIFFERENCE),
    ("目標を何ポイント上回った？", Expect.DIFFERENCE),
    ("電子決裁の目標はどれくらい？", Expect.VALUE),  # どれくらい alone asks for the value itself
    ("保険金支払額はどのように推移したか。理由も説明してください", Expect.PASSAGE),
    ("Why did complaints increase?", Expect.PASSAGE),
]


@pytest.mark.parametrize(("question", "expect"), EXPECTS)
def test_expected_answer_kind(question, expect):
    assert expect_of(question) == expect


FOLLOWUPS = [
    ("その実績は？", ["徳島県の2022年度の電子決裁の目標は？"], ("徳島県",), (2022,), Measure.ACTUAL),
    ("and the actual?", ["what is Tokushima's 2022 e-approval target"], ("徳島県",), (2022,), Measure.ACTUAL),
    ("令和3年度は？", ["徳島県の2022年度の電子決裁の目標は？"], ("徳島県",), (2021,), Measure.TARGET),
    (
        "what about FY2021?",
        ["How much was budgeted for Tokushima's RPA project in FY2022?"],
        ("徳島県",),
        (2021,),
        Measure.BUDGET,
    ),
]


@pytest.mark.parametrize(("question", "history", "prefs", "years", "measure"), FOLLOWUPS)
def test_followups_reuse_the_conversation(question, history, prefs, years, measure):
    q = understand(question, history)
    assert q.followup
    assert (q.prefectures, q.years, q.measure) == (prefs, years, measure)
    assert history[-1] in q.context


def test_a_new_topic_is_not_a_followup():
    q = understand("岡山県DX推進指針の対象期間は？", ["徳島県の2022年度の電子決裁の目標は？"])
    assert not q.followup and q.prefectures == ("岡山県",) and q.years == ()


def test_a_followup_with_nothing_to_follow_is_dangling():
    assert understand("その実績は？").dangling
    assert not understand("その実績は？", ["徳島県の電子決裁の目標は？"]).dangling


def test_long_history_is_read_without_recursion_and_bounded():
    history = ["徳島県の電子決裁の目標は？"] + ["その実績は？"] * 5000
    q = understand("令和3年度は？", history)  # no RecursionError however long the conversation
    assert 0 < q.context.count("その実績は？") <= MAX_HISTORY
    recent = understand("令和3年度は？", [*history[-3:], "徳島県の電子決裁の目標は？"])
    assert recent.prefectures == ("徳島県",) and recent.years == (2021,)


@pytest.mark.parametrize("bad", ["", "   ", "あ" * 2001, "\ud800の目標"])
def test_bad_questions_raise_query_error(bad):
    with pytest.raises(QueryError):
        understand(bad)


def test_scope_travels_with_the_query():
    q = understand("電子決裁の目標は？", scope=Scope("三重県"))
    assert q.scope.prefecture == "三重県" and q.prefecture == "三重県"


GLOSSARY = [
    ("e-approval target", ["電子決裁"]),
    ("online applications", ["電子申請"]),
    ("the three-layer model", ["三層の対策"]),
]


@pytest.mark.parametrize(("text", "terms"), GLOSSARY)
def test_glossary(text, terms):
    assert set(terms) <= {t for _, ts in glossary_terms(text) for t in ts}


@pytest.mark.parametrize(("text", "english"), [("what is the target", True), ("電子決裁の目標", False), ("KPIの目標は？", False)])
def test_is_english(text, english):
    assert is_english(text) is english

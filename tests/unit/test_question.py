import pytest

from rag.glossary import is_english, japanese_terms
from rag.question import understand

FRAMES = [
    # question, prefectures, years, measure, topic must include
    ("徳島県の2022年度の電子決裁の目標は？", ("徳島県",), (2022,), "target", {"電子", "決裁"}),
    ("what is Tokushima's 2022 e-approval target", ("徳島県",), (2022,), "target", {"電子", "決裁"}),
    ("三重県のテレワークの令和３年度の実績は", ("三重県",), (2021,), "actual", {"テレワーク"}),
    ("How much was budgeted for Mie's network in FY2021?", ("三重県",), (2021,), "budget", {"ネットワーク"}),
    ("みえDXセンターとは何ですか", ("三重県",), (), None, {"dx", "センター"}),
    ("R4のRPAシナリオ数の目標", (), (2022,), "target", {"rpa", "シナリオ"}),
]


@pytest.mark.parametrize(("question", "prefs", "years", "measure", "topic"), FRAMES)
def test_understand(question, prefs, years, measure, topic):
    f = understand(question)
    assert (f.prefectures, f.years, f.measure) == (prefs, years, measure)
    assert topic <= set(f.topic)
    assert not f.followup


FOLLOWUPS = [
    ("その実績は？", ["徳島県の2022年度の電子決裁の目標は？"], ("徳島県",), (2022,), "actual"),
    ("and the actual?", ["what is Tokushima's 2022 e-approval target"], ("徳島県",), (2022,), "actual"),
    ("令和3年度は？", ["徳島県の2022年度の電子決裁の目標は？"], ("徳島県",), (2021,), "target"),
    ("what about FY2021?", ["How much was budgeted for Tokushima's RPA project in FY2022?"], ("徳島県",), (2021,), "budget"),
]


@pytest.mark.parametrize(("question", "history", "prefs", "years", "measure"), FOLLOWUPS)
def test_followups_reuse_the_conversation(question, history, prefs, years, measure):
    f = understand(question, history)
    assert f.followup
    assert (f.prefectures, f.years, f.measure) == (prefs, years, measure)
    assert history[-1] in f.search_text


def test_a_new_topic_is_not_a_followup():
    f = understand("岡山県DX推進指針の対象期間は？", ["徳島県の2022年度の電子決裁の目標は？"])
    assert not f.followup and f.prefectures == ("岡山県",) and f.years == ()


GLOSSARY = [
    ("e-approval target", ["電子決裁", "目標"]),
    ("telework", ["テレワーク", "在宅勤務"]),
    ("RPA scenarios", ["RPA", "シナリオ"]),
    ("budget", ["予算", "予算額"]),
    ("remote inspections", ["立入調査", "遠隔"]),
]


@pytest.mark.parametrize(("text", "terms"), GLOSSARY)
def test_glossary(text, terms):
    assert set(terms) <= set(japanese_terms(text))


@pytest.mark.parametrize(("text", "english"), [("what is the target", True), ("電子決裁の目標", False), ("KPIの目標は？", False)])
def test_is_english(text, english):
    assert is_english(text) is english

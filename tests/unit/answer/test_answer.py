"""The reader: a short answer only when one cited span states it for everything the
question asks; otherwise a passage answer or an honest "no passage states this"."""

import pytest

from rag.pipeline import Rag
from rag.settings import Settings
from tests.conftest import MODELS, write_files


def answerer_over(corpus, index_dir, embedder):
    """Index `corpus` and return ask(question, history=None, prefecture=None) over it."""
    rag = Rag(Settings(corpus=corpus, index=index_dir, models_dir=MODELS), embedder=embedder)
    rag.build()

    def run(question, history=None, prefecture=None, doc_id=None):
        return rag.ask(question, prefecture, doc_id, history)

    return run


@pytest.fixture
def ask(small_corpus, tmp_path, fake_embedder):
    return answerer_over(small_corpus, tmp_path / "index", fake_embedder)


def test_value_question_gets_a_short_value_with_citation(ask):
    a = ask("徳島県の2022年度の電子決裁の目標は？")
    assert (a.answer_type, a.grounded, a.short_answer) == ("value", True, "100%")
    assert a.citations[0].doc_id == "tokushima.txt"
    assert "[1]" in a.answer
    start, end = a.citations[0].highlights[0]
    assert "100%" in a.citations[0].text[start:end]


def test_kgi_answer_names_plan_indicator_and_year(ask):
    a = ask("徳島県の2022年度の電子決裁の目標は？")
    assert a.answer.startswith("100% — 徳島県「デジタルとくしま推進プラン」")
    assert "令和4(2022)年度の目標" in a.answer


@pytest.mark.parametrize(
    ("question", "short"),
    [
        ("徳島県の電子決裁システム利用率の令和3年度の目標と実績は？", "目標 90% / 実績 95%"),
        ("What were Tokushima's e-approval target and actual in FY2021?", "target 90% / actual 95%"),
    ],
)
def test_a_question_naming_target_and_actual_gets_both(tmp_path, fake_embedder, question, short):
    year_table = "令和２年度 令和３年度 令和４年度\n\n目標\n実績\n\n－\n{a}\n\n{b}\n{c}\n\n{d}\n－\n"
    text = (
        "主な指標及び工程（１）\n\n"
        + year_table.format(a="８７％", b="９０％", c="９５％", d="１００％")
        + "ＫＧＩ：公文書の電子化率\n（電子決裁システム利用率）\n\nＫＰＩ－１ ： ＡＩ技術活用事業数\n\n"
        + year_table.format(a="１０件", b="１０件", c="１７件", d="１１件")
    )
    corpus = write_files(
        tmp_path / "corpus",
        {"tokushima.txt": text, "metadata.toml": '[documents."tokushima.txt"]\nprefecture = "徳島"\ntitle = "プラン"\n'},
    )
    a = answerer_over(corpus, tmp_path / "index", fake_embedder)(question)
    assert (a.answer_type, a.grounded, a.short_answer) == ("value", True, short)
    assert a.citations and a.citations[0].doc_id == "tokushima.txt"


def test_a_fact_of_another_kind_than_asked_is_not_the_answer(tmp_path, fake_embedder):
    year_table = "令和２年度 令和３年度 令和４年度\n\n目標\n実績\n\n－\n{a}\n\n{b}\n{c}\n\n{d}\n－\n"
    text = "主な指標及び工程（１）\n\n" + year_table.format(a="８７％", b="９０％", c="９５％", d="１００％")
    text += "ＫＧＩ：公文書の電子化率\n（電子決裁システム利用率）\n"
    corpus = write_files(
        tmp_path / "corpus",
        {"tokushima.txt": text, "metadata.toml": '[documents."tokushima.txt"]\nprefecture = "徳島"\ntitle = "プラン"\n'},
    )
    ask = answerer_over(corpus, tmp_path / "index", fake_embedder)
    assert ask("公文書の電子化率の令和3年度の目標は？").short_answer == "90%"
    # the table states a rate: "how many" (a count) and "how much money" get no rate in bold
    for question in ("公文書の電子化の令和3年度の目標は何件？", "How many e-approvals were targeted for FY2021?"):
        assert ask(question).short_answer != "90%"


def _kpi_plan(tmp_path, fake_embedder):
    year_table = "令和２年度 令和３年度 令和４年度\n\n目標\n実績\n\n－\n{a}\n\n{b}\n{c}\n\n{d}\n－\n"
    text = (
        "主な指標及び工程（４）\n\n"
        + year_table.format(a="４２０人", b="６６０人", c="７８０人", d="７００人")
        + "ＫＰＩ－４ ： 職員向けデジタル研修受講者数\n\n"
        + "3年度目標値の考え方\t令和5年度目標値の達成に向けて、取組を段階的に進展させていくことを勘案し、設定しました。\n"
    )
    corpus = write_files(
        tmp_path / "corpus",
        {"tokushima.txt": text, "metadata.toml": '[documents."tokushima.txt"]\nprefecture = "徳島"\ntitle = "プラン"\n'},
    )
    return answerer_over(corpus, tmp_path / "index", fake_embedder)


@pytest.mark.parametrize(
    "question",
    [
        "徳島県の職員向けデジタル研修受講者数は令和3年度に目標をどれだけ上回った？",
        "徳島県の職員向けデジタル研修受講者数の令和3年度の実績と目標の差は？",
        "By how much did Tokushima's digital training participants exceed the FY2021 target?",
    ],
)
def test_how_far_above_target_is_computed_from_both_figures_not_one_of_them(tmp_path, fake_embedder, question):
    a = _kpi_plan(tmp_path, fake_embedder)(question)
    assert (a.answer_type, a.short_answer) == ("value", "+120人")
    assert "660人" in a.answer and "780人" in a.answer


@pytest.mark.parametrize(
    ("question", "text", "value"),
    [
        # 「3年度目標値」 holds "3年": a question asking 何人 is not answered in years
        ("スマート自治体の進展を実感する職員は何人？", "3年度目標値の考え方 令和5年度目標値の達成に向けて設定しました。", None),
        ("研修を受けた職員は何人？", "研修を受けた職員は20名でした。", "20名"),  # 名 counts people too
        ("申請は何件？", "申請は3年間で1,800件でした。", "1,800件"),
        ("いくつの手続をオンライン化する？", "令和3年度内に約800手続をオンライン申請可能とする。", "約800手続"),  # 約 kept
    ],
)
def test_a_figure_in_another_counter_than_asked_is_not_the_answer(question, text, value):
    from rag.answer.extractive import ExtractiveAnswerer
    from rag.lang.vocab import COUNT
    from rag.query.understand import understand

    picked = ExtractiveAnswerer._pick_value(understand(question), text, COUNT)
    assert (picked[0] if picked else None) == value


def test_two_figures_one_passage_states_as_strongly_are_shown_not_bolded(tmp_path, fake_embedder):
    text = (
        "① (新)スマート自治体推進事業【基本事業名：40601 スマート自治体に向けた新しい技術の活用】\n"
        "予算額：(R2) ６４，３７０ 千円 → (R3) １７７，０５１千円\n事業概要：AIやRPA等新たな技術のさらなる活用を進めます。\n"
        "② 行政サービス提供事業【基本事業名：40602 スマート自治体に向けた行政サービス】\n"
        "予算額：(R2) ２２，７１７ 千円 → (R3) ２３，０９３千円\n事業概要：電子申請を進めます。\n"
    )
    corpus = write_files(
        tmp_path / "corpus",
        {"mie.txt": text, "metadata.toml": '[documents."mie.txt"]\nprefecture = "三重"\ntitle = "施策シート"\n'},
    )
    ask = answerer_over(corpus, tmp_path / "index", fake_embedder)
    a = ask("What was the R3 budget of スマート自治体推進事業 in Mie?")
    assert (a.answer_type, a.short_answer) == ("passage", None)
    assert "177,051千円" in a.answer and "value not pinned down" in a.notes
    assert ask("スマート自治体推進事業のR3の予算は？").short_answer == "177,051千円"  # the fact names its project


@pytest.mark.parametrize(
    ("question", "short"),
    [
        # no project named: the total the plan states, with the note the plan writes after it
        ("徳島県の令和4年度予算は？", "210,487千円（要求中）"),
        ("What is Tokushima's FY2022 budget?", "210,487千円（要求中）"),
        ("徳島県の令和4年度のRPA環境拡充事業の予算は？", "23,798千円"),  # a project named: its line, not the total
    ],
)
def test_a_budget_question_naming_no_project_gets_the_total(tmp_path, fake_embedder, question, short):
    text = "令和４年度予算\n２１０，４８７千円（要求中）\n\nRPA環境拡充事業 ２３，７９８千円\n\n行政情報化推進費 １，８００千円\n"
    corpus = write_files(
        tmp_path / "corpus",
        {"tokushima.txt": text, "metadata.toml": '[documents."tokushima.txt"]\nprefecture = "徳島"\ntitle = "プラン"\n'},
    )
    a = answerer_over(corpus, tmp_path / "index", fake_embedder)(question)
    assert (a.answer_type, a.short_answer) == ("value", short)


def test_english_question_gets_the_same_fact(ask):
    a = ask("what is Tokushima's 2022 e-approval target")
    assert a.short_answer == "100%" and "FY2022" in a.answer
    assert a.citations[0].doc_id == "tokushima.txt"


NOT_FOUND = [
    ("北海道の電子決裁の目標は？", "prefecture not in corpus"),  # a prefecture the index lacks
    ("徳島県の2035年度の電子決裁の目標は？", "year not covered"),  # a fiscal year no passage mentions
    ("予算額は？", "no subject"),  # which budget? the question names nothing
]


@pytest.mark.parametrize(("question", "note"), NOT_FOUND)
def test_what_no_passage_states_gets_no_value(ask, question, note):
    a = ask(question)
    assert (a.answer_type, a.short_answer, a.answerable, a.grounded) == ("none", None, False, False)
    assert note in a.notes
    assert a.answer.startswith("該当する記述は見つかりませんでした")


def test_prefecture_filter_binds_the_facts_too(ask):
    # Tokushima states the target; with the filter on Mie no Tokushima value may come back
    a = ask("電子決裁の目標は？", prefecture="三重県")
    assert a.short_answer is None or "100%" not in a.short_answer
    assert all(c.prefecture == "三重県" for c in a.citations)


def test_a_followup_with_nothing_to_follow_asks_what_it_means(ask):
    a = ask("その実績は？")
    assert a.answer_type == "none" and a.short_answer is None
    assert "何について" in a.answer


def test_followup_uses_the_previous_question(ask):
    a = ask("その予算は？", history=["徳島県の2035年度の電子決裁の目標は？"])
    assert not a.answerable  # 2035 carried over from the first question, and not covered


def test_highlight_covers_the_fact_value(ask):
    a = ask("徳島県の2022年度の電子決裁の目標は？")
    c = a.citations[0]
    assert any(c.text[s:e] in ("100%", "１００％") for s, e in c.highlights)


@pytest.mark.parametrize("question", ["テレワークを利用した所属数は", "スマート自治体に向けた取組はどのように進んでいますか"])
def test_every_quote_is_printed_text_of_a_cited_passage(ask, question):
    import re

    a = ask(question)
    quotes = re.findall(r"「([^「」]{8,})」", a.answer) or [a.answer.split(" [")[0]]
    cited = "".join(c.text for c in a.citations).replace("\n", "").replace(" ", "")
    for q in quotes:
        assert q.replace(" ", "").rstrip("…") in cited


PLAN = """岡山県DX推進指針
令和3（2021）年10月策定
令和5（2023）年3月改定

対象期間
自治体DX推進計画を踏まえ、令和3(2021)年10月から令和7(2025)年度末までを本指針の対象期間とする。

本指針は、官民データ活用推進基本法（平成28年法律第103号）第9条に基づく計画として位置付ける。

重点取組事項
① 自治体の情報システムの標準化・共通化
② マイナンバーカードの普及促進
③ 行政手続のオンライン化

スマート窓口推進事業の予算額は 12,500千円 である。
窓口のキャッシュレス化率は 45% となった。
"""


@pytest.fixture
def plan(tmp_path, fake_embedder):
    corpus = write_files(
        tmp_path / "plan",
        {"plan.txt": PLAN, "metadata.toml": '[documents."plan.txt"]\nprefecture = "岡山県"\ntitle = "岡山県DX推進指針"\n'},
    )
    return answerer_over(corpus, tmp_path / "plan-index", fake_embedder)


def test_period_answer_reads_both_ends(plan):
    a = plan("岡山県DX推進指針の対象期間は？")
    assert a.answer_type == "date" and a.grounded
    assert a.short_answer == "令和3(2021)年10月〜令和7(2025)年度末"


def test_a_law_number_is_not_a_date(plan):
    a = plan("官民データ活用推進基本法に基づく計画の位置付けはいつ？")
    assert a.short_answer is None or "平成28年" not in a.short_answer


def test_list_answer_assembles_the_items_in_order(plan):
    a = plan("岡山県DX推進指針の重点取組事項を挙げてください")
    assert a.answer_type == "list"
    assert a.short_answer.split("、")[:3] == [
        "自治体の情報システムの標準化・共通化",
        "マイナンバーカードの普及促進",
        "行政手続のオンライン化",
    ]


def test_money_question_is_answered_with_an_amount(plan):
    a = plan("スマート窓口推進事業の予算はいくら？")
    assert (a.answer_type, a.short_answer, a.grounded) == ("value", "12,500千円", True)


def test_a_value_of_the_wrong_kind_is_not_asserted(plan):
    # the passage about cashless payment gives a rate, not an amount of money
    a = plan("窓口のキャッシュレス化の予算はいくら？")
    assert a.short_answer is None or "45%" not in a.short_answer


def test_a_calendar_year_never_makes_the_reader_refuse_on_its_own(plan):
    a = plan("2021年に策定された岡山県DX推進指針の対象期間は？")
    assert a.answer_type != "none"


def test_json_says_kind_grounding_and_what_it_is_about(plan):
    d = plan("スマート窓口推進事業の予算はいくら？").to_dict()
    assert d["answer_type"] == "value" and d["grounded"] is True
    assert d["about"] == {"prefecture": "岡山県", "doc_id": "plan.txt", "title": "岡山県DX推進指針"}
    none = plan("北海道の電子決裁の目標は？").to_dict()
    assert none["answer_type"] == "none" and none["short_answer"] is None and none["grounded"] is False


SHEET = "施策シート\n\n①スマート自治体推進事業\n【基本事業名：40601】\n予算額：({y1}) {v1}千円 → ({y2}) {v2}千円\n"


@pytest.fixture
def conflicting(tmp_path, fake_embedder):
    # the R2 sheet's R2 budget (当初) and the R3 sheet's R2 figure disagree
    corpus = write_files(
        tmp_path / "c2",
        {
            "sheet-r2.txt": SHEET.format(y1="R1", v1="1,000", y2="R2", v2="17,300"),
            "sheet-r3.txt": SHEET.format(y1="R2", v1="64,370", y2="R3", v2="177,051"),
            "metadata.toml": '[documents."sheet-r2.txt"]\nprefecture = "三重県"\ntitle = "施策シート R2"\nfiscal_year = "令和2年度"\n'
            '[documents."sheet-r3.txt"]\nprefecture = "三重県"\ntitle = "施策シート R3"\nfiscal_year = "令和3年度"\n',
        },
    )
    return answerer_over(corpus, tmp_path / "i2", fake_embedder)


def test_conflicting_documents_show_both_values_with_sources(conflicting):
    a = conflicting("三重県のスマート自治体推進事業の令和2年度予算額は？")
    assert "17,300千円" in a.short_answer and "64,370千円" in a.short_answer
    assert "documents disagree" in a.notes and not a.grounded
    assert {c.doc_id for c in a.citations} >= {"sheet-r2.txt", "sheet-r3.txt"}
    assert "令和2年度" in a.answer and "令和3年度" in a.answer  # each value with its document's date


def test_a_shared_counting_word_does_not_tie_a_question_to_another_indicator(tmp_path, fake_embedder):
    table = "主な指標及び工程（４）\n\nＫＰＩ－４ ： 職員向けデジタル研修受講者数\n\n令和２年度 令和３年度 令和４年度\n\n目標\n実績\n\n－\n４２０人\n\n６６０人\n７８０人\n\n７００人\n－\n"
    corpus = write_files(tmp_path / "c3", {"plan.txt": table})
    run = answerer_over(corpus, tmp_path / "i3", fake_embedder)
    assert run("職員向けデジタル研修受講者数の令和4年度の目標は？").short_answer == "700人"
    assert "700人" not in (run("RPAシナリオ数の令和4年度の目標は？").short_answer or "")


def test_difference_is_computed_from_two_cited_values(conflicting):
    a = conflicting("三重県のスマート自治体推進事業の予算は、令和２年度から３年度でいくら増えましたか？")
    assert (a.answer_type, a.grounded) == ("value", True)
    # both values shown, from the same sheet, and the difference of exactly those two
    assert a.short_answer == "+112,681千円"
    assert "64,370千円" in a.answer and "177,051千円" in a.answer
    assert "computed from two cited values" in a.notes


def test_which_prefecture_names_the_prefecture_whose_sentence_states_it(ask):
    a = ask("どの県がテレワークを利用した所属数を目標にしていますか")
    assert (a.answer_type, a.short_answer) == ("name", "三重県")
    assert a.citations[0].prefecture == "三重県"


def test_definition_question_reads_the_defining_sentence_first(tmp_path, fake_embedder):
    doc = "用語\n\nRPAの導入を進める。RPAの研修も行う。\n\nRPAとは、定型的なパソコン作業をソフトウェアのロボットが代行する仕組みである。\n"
    run = answerer_over(write_files(tmp_path / "d", {"terms.txt": doc}), tmp_path / "di", fake_embedder)
    a = run("RPAとは何ですか")
    assert a.answer_type == "passage" and "ロボットが代行する仕組み" in a.answer.split("[1]")[0]


def test_a_definition_in_parentheses_is_found_even_when_retrieval_misses_it(tmp_path, fake_embedder):
    qa = "\n\n".join(
        [
            "目次\n○小規模事業者に係る税額控除に関する経過措置（２割特例） ______ 3\n問１．適用対象者を教えてください。 ______ 3",
            *[
                f"問{i}．２割特例は適用できないのですか。\n（答）２割特例は、条件{i}を満たせば適用が可能です。"
                for i in range(2, 12)
            ],
            "○小規模事業者に係る税額控除に関する経過措置（２割特例）\n問１．適用対象者を教えてください。\n（答）免税事業者から課税事業者になった者が対象です。",
        ]
    )
    run = answerer_over(write_files(tmp_path / "q", {"qa.txt": qa}), tmp_path / "qi", fake_embedder)
    a = run("2割特例とは何ですか")
    first = a.answer.split(" [")[0]
    assert "税額控除に関する経過措置（２割特例）" in first  # the defining wording leads
    assert "____" not in first and "教えてください" not in first  # not the contents line, not the question


def test_overlapping_chunks_quote_each_sentence_once(tmp_path, fake_embedder):
    sentences = [f"第{i}の施策として地域の窓口業務を見直し、手続の案内を改善する。" for i in range(30)]
    sentences[11] = "ドローン配送の実証は山間部の集落で毎週火曜日に行う。"
    corpus = write_files(tmp_path / "corpus", {"plan.txt": "".join(sentences)})
    rag = Rag(Settings(corpus=corpus, index=tmp_path / "index", models_dir=MODELS, chunk_overlap=150), embedder=fake_embedder)
    rag.build()
    assert any(c.lead for c in rag.index.chunks)
    a = rag.ask("ドローン配送の実証はどこで行いますか")
    assert "ドローン配送の実証は山間部" in a.answer
    for s in set(sentences):
        assert a.answer.count(s) <= 1, s


def test_catalog_find_needs_the_term_it_is_given():
    import re

    from rag.answer.catalog import Catalog
    from rag.types import Chunk

    chunks = [Chunk(f"c{i}", "d", None, 0, 10, t, t) for i, t in enumerate(["ＤＸとは変革", "DXとは変革", "別の話"])]
    catalog = Catalog({}, {c.chunk_id: c for c in chunks}, (), {}, len(chunks))
    pattern = re.compile(r"DX\s*とは")
    assert [c.chunk_id for c in catalog.find(pattern)] == ["c1"]
    assert [c.chunk_id for c in catalog.find(pattern, holding=re.compile("DX"))] == ["c1"]
    assert catalog.find(pattern, holding=re.compile("無い語")) == []

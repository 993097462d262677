import pytest

from rag.answer import ExtractiveAnswerer
from rag.index import build_index, load_index
from rag.question import understand
from rag.search import Searcher, parse_query


def answerer_over(corpus, index_dir, embedder):
    """Index `corpus` and return ask(question, history=None) over it."""
    build_index(corpus, index_dir, embedder)
    index = load_index(index_dir, embedder)
    searcher = Searcher(index, embedder)
    answerer = ExtractiveAnswerer()

    def run(question, history=None):
        frame = understand(question, history)
        return answerer.answer(frame, searcher.search(parse_query(frame.search_text), k=5), index)

    return run


@pytest.fixture
def ask(small_corpus, tmp_path, fake_embedder):
    return answerer_over(small_corpus, tmp_path / "index", fake_embedder)


def test_value_question_gets_a_short_value_with_citation(ask):
    a = ask("徳島県の2022年度の電子決裁の目標は？")
    assert a.answerable
    assert a.short_answer == "100%"
    assert a.citations[0].doc_id == "tokushima.txt"
    assert "[1]" in a.answer
    start, end = a.citations[0].highlights[0]
    assert "100%" in a.citations[0].text[start:end]


def test_prefecture_not_in_corpus_is_not_answerable(ask):
    a = ask("北海道の電子決裁の目標は？")
    assert not a.answerable and a.short_answer is None
    assert "北海道" in a.answer


def test_year_not_covered_is_not_answerable(ask):
    a = ask("徳島県の2035年度の電子決裁の目標は？")
    assert not a.answerable and a.short_answer is None


def test_answer_text_comes_from_cited_passages(ask):
    a = ask("テレワークを利用した所属数は")
    assert a.answerable
    sentence = a.answer.rsplit(" [", 1)[0]
    cited = "".join(c.text.replace("\n", "") for c in a.citations)
    assert sentence.split(" [")[0].replace(" ", "") in cited.replace(" ", "")


def test_kgi_answer_names_plan_indicator_and_year(ask):
    a = ask("徳島県の2022年度の電子決裁の目標は？")
    assert a.answer.startswith("100% — 徳島県「デジタルとくしま推進プラン」")
    assert "令和4(2022)年度の目標" in a.answer


def test_english_question_gets_the_same_fact(ask):
    a = ask("what is Tokushima's 2022 e-approval target")
    assert a.short_answer == "100%" and "FY2022" in a.answer
    assert a.citations[0].doc_id == "tokushima.txt"


SHEET = "施策シート\n\n①スマート自治体推進事業\n【基本事業名：40601】\n予算額：({y1}) {v1}千円 → ({y2}) {v2}千円\n"


@pytest.fixture
def conflicting(tmp_path, fake_embedder):
    from tests.conftest import write_files

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
    assert "documents disagree" in a.notes
    assert {c.doc_id for c in a.citations} >= {"sheet-r2.txt", "sheet-r3.txt"}
    assert "令和2年度" in a.answer and "令和3年度" in a.answer  # each value with its document's date


def test_followup_uses_the_previous_question(ask):
    a = ask("その予算は？", history=["徳島県の2035年度の電子決裁の目標は？"])
    assert not a.answerable  # 2035 carried over from the first question, and not covered


def test_highlight_covers_the_fact_value(ask):
    a = ask("徳島県の2022年度の電子決裁の目標は？")
    c = a.citations[0]
    assert any(c.text[s:e] in ("100%", "１００％") for s, e in c.highlights)


def test_a_shared_counting_word_does_not_tie_a_question_to_another_indicator(tmp_path, fake_embedder):
    from tests.conftest import write_files

    table = "主な指標及び工程（４）\n\nＫＰＩ－４ ： 職員向けデジタル研修受講者数\n\n令和２年度 令和３年度 令和４年度\n\n目標\n実績\n\n－\n４２０人\n\n６６０人\n７８０人\n\n７００人\n－\n"
    corpus = write_files(tmp_path / "c3", {"plan.txt": table})
    run = answerer_over(corpus, tmp_path / "i3", fake_embedder)
    assert run("職員向けデジタル研修受講者数の令和4年度の目標は？").short_answer == "700人"
    assert "700人" not in (run("RPAシナリオ数の令和4年度の目標は？").short_answer or "")

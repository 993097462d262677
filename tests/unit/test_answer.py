import pytest

from rag.answer import ExtractiveAnswerer
from rag.index import build_index, load_index
from rag.question import understand
from rag.search import Searcher, parse_query


@pytest.fixture
def ask(small_corpus, tmp_path, fake_embedder):
    build_index(small_corpus, tmp_path / "index", fake_embedder)
    index = load_index(tmp_path / "index", fake_embedder)
    searcher = Searcher(index, fake_embedder)
    answerer = ExtractiveAnswerer()

    def run(question, history=None):
        frame = understand(question, history)
        return answerer.answer(frame, searcher.search(parse_query(frame.search_text), k=5), index)

    return run


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

import json

import numpy as np
import pytest

from rag.errors import QueryError
from rag.index.build import build_index
from rag.index.store import load_index
from rag.query.search import Searcher
from rag.query.understand import Scope, understand


class Search:
    """The searcher as the ask path calls it: a question read into a Query with its filters."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher

    def search(self, question, k=5, prefecture=None, doc_id=None, mode="hybrid"):
        return self.searcher.search(understand(question, scope=Scope(prefecture, doc_id)), k, mode)


@pytest.fixture
def searcher(small_corpus, tmp_path, fake_embedder):
    build_index(small_corpus, tmp_path / "index", fake_embedder)
    return Search(Searcher(load_index(tmp_path / "index", fake_embedder), fake_embedder))


def test_hybrid_finds_the_passage(searcher):
    hits = searcher.search("電子決裁 目標", k=3)
    assert hits[0].chunk.doc_id == "tokushima.txt"
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(hits[i].score >= hits[i + 1].score for i in range(len(hits) - 1))


def test_western_year_matches_era_year_in_bm25(searcher):
    # the Okayama text says 令和３年度 only; the question says 2021
    hits = searcher.search("2021", k=3, mode="bm25")
    assert hits and hits[0].chunk.doc_id == "okayama.md"


def test_english_prefecture_name_reaches_its_documents(searcher):
    hits = searcher.search("Okayama", k=1, mode="bm25")
    assert hits[0].chunk.doc_id == "okayama.md"


@pytest.mark.parametrize("pref", ["三重", "Mie", "三重県"])
def test_prefecture_filter(searcher, pref):
    hits = searcher.search("電子決裁 目標", k=5, prefecture=pref)
    assert hits and all(h.prefecture == "三重県" for h in hits)


def test_document_filter(searcher):
    hits = searcher.search("計画", k=5, doc_id="okayama.md")
    assert hits and {h.chunk.doc_id for h in hits} == {"okayama.md"}


def test_prefecture_without_documents_gives_no_hits(searcher):
    assert searcher.search("計画", prefecture="北海道") == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"question": ""}, "empty"),
        ({"question": "   "}, "empty"),
        ({"question": "あ" * 2001}, "limit"),
        ({"question": "計画", "prefecture": "Atlantis"}, "unknown prefecture"),
        ({"question": "計画", "doc_id": "nope.txt"}, "unknown document"),
        ({"question": "計画", "k": 0}, "k must be positive"),
        ({"question": "計画", "mode": "magic"}, "mode"),
    ],
)
def test_bad_queries_raise_query_error(searcher, kwargs, message):
    with pytest.raises(QueryError, match=message):
        searcher.search(**kwargs)


def test_understand_collects_years_and_prefectures():
    q = understand("Tokushima FY2022 電子決裁")
    assert q.years == (2022,) and q.prefectures == ("徳島県",)
    assert "fy2022" in q.tokens and "令和4年度" in q.dense_text


def test_bigram_mode_matches_words_the_dictionary_splits_differently(searcher):
    # 子決 exists only as a character pair inside 電子決裁: word BM25 has no such token
    assert searcher.search("子決", k=3, mode="bm25") == []
    hits = searcher.search("子決", k=3, mode="bigram")
    assert hits and "電子決裁" in hits[0].chunk.text


def test_bigram_share_moves_the_hybrid_ranking(small_corpus, tmp_path, fake_embedder):
    from rag.query.fusion import Fusion

    build_index(small_corpus, tmp_path / "index", fake_embedder)
    index = load_index(tmp_path / "index", fake_embedder)
    query = understand("子決")
    without = Searcher(index, fake_embedder, Fusion(bm25_share=0.0, bigram_share=0.0)).search(query, k=len(index.chunks))
    with_pairs = Searcher(index, fake_embedder, Fusion(bm25_share=0.0, bigram_share=5.0)).search(query, k=len(index.chunks))
    assert "電子決裁" in with_pairs[0].chunk.text
    assert [h.chunk.chunk_id for h in without] != [h.chunk.chunk_id for h in with_pairs]


def test_an_index_built_before_bigrams_still_searches_and_a_plain_build_adds_them(small_corpus, tmp_path, fake_embedder):
    import shutil

    build_index(small_corpus, tmp_path / "index", fake_embedder)
    current = (tmp_path / "index" / "current").resolve()
    shutil.rmtree(current / "bm25_chars")
    manifest = json.loads((current / "manifest.json").read_text())
    manifest["files"] = {k: v for k, v in manifest["files"].items() if not k.startswith("bm25_chars/")}
    (current / "manifest.json").write_text(json.dumps(manifest))
    old = load_index(tmp_path / "index", fake_embedder)
    assert old.chars is None
    assert Searcher(old, fake_embedder).search(understand("電子決裁 目標"), k=3)
    assert Searcher(old, fake_embedder).search(understand("子決"), k=3, mode="bigram") == []
    report = build_index(small_corpus, tmp_path / "index", fake_embedder)
    assert report.embedded == 0 and load_index(tmp_path / "index", fake_embedder).chars is not None


def test_english_hybrid_ranks_chunks_by_their_best_sentence_too(small_corpus, tmp_path, fake_embedder):
    from rag.query.fusion import Fusion

    build_index(small_corpus, tmp_path / "index", fake_embedder)
    index = load_index(tmp_path / "index", fake_embedder)
    assert index.units is not None and len(index.units)
    searcher = Searcher(index, fake_embedder)
    # a query vector equal to one stored sentence's vector: max-sim puts that sentence's chunk first
    row = len(index.units) // 2
    target = int(index.units[row, 0])
    vector = np.asarray(index.unit_vectors[row], dtype=np.float32)
    assert searcher.sentence_ranking(vector, None, 5)[0] == target
    # and a filter that excludes the chunk's document keeps it out
    doc = index.chunks[target].doc_id
    mask = np.array([c.doc_id != doc for c in index.chunks])
    assert target not in searcher.sentence_ranking(vector, mask, 5)
    # an English question's fusion adds it as a third reciprocal-rank list: the chunk of the best
    # sentence gains a first place's share; with the weight 0 nothing is added
    query = understand("What is the target?")
    assert query.lang == "en"
    n = len(index.chunks)
    on = {i: s for i, s, *_ in searcher.ranked(query, n, query_vector=vector)["hybrid"]}
    off = {
        i: s
        for i, s, *_ in Searcher(index, fake_embedder, Fusion(sentence_weight=0.0)).ranked(query, n, query_vector=vector)[
            "hybrid"
        ]
    }
    assert on[target] - off.get(target, 0.0) == pytest.approx(1 / (Fusion().rrf_k + 1))

"""The benchmark's plumbing (its figures are printed by `rag bench`, never asserted on time)."""

from rag.bench import BenchResult, scaled_index
from rag.embed import FakeEmbedder
from rag.index import DocRecord, bm25_tokens
from rag.search import Searcher
from rag.types import Chunk, DocumentMeta


def test_scaled_index_repeats_real_text_to_the_asked_size():
    emb = FakeEmbedder()
    texts = ["徳島県の電子決裁", "三重県のテレワーク", "岡山県のDX推進指針"]
    base = [Chunk(f"p{i}", f"p{i}", None, 0, len(t), t, t) for i, t in enumerate(texts)]
    records = {c.doc_id: DocRecord(c.doc_id, "", DocumentMeta(), 1, 1) for c in base}
    vectors = emb.embed_passages(texts)
    tokens = [bm25_tokens(c, records[c.doc_id]) for c in base]
    index = scaled_index(emb, 2500, vectors, base, tokens, random_vectors=False)
    assert len(index.chunks) == 2500 and index.vectors.shape == (2500, emb.dim)
    hits = Searcher(index, emb).search("テレワーク", 3)
    assert {h.chunk.text for h in hits} == {"三重県のテレワーク"}


def test_result_table_marks_missed_targets():
    r = BenchResult()
    r.add("a", "1 ms", "≤ 2 ms", True)
    r.add("b", "3 ms", "≤ 2 ms", False)
    assert "| a | 1 ms | ≤ 2 ms | met |" in r.markdown() and "MISSED" in r.markdown()

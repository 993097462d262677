"""The benchmark's plumbing (its figures are printed by `rag bench`, never asserted on time)."""

import numpy as np

from rag.evaluation.bench import BenchBase, BenchResult, _latencies, scaled_index, write_doc, write_scaled
from rag.index.text import bigram_tokens, bm25_tokens
from rag.lang.segment import split_units
from rag.pipeline import Rag
from rag.settings import Settings
from rag.types import Chunk, DocRecord, DocumentMeta
from tests.conftest import MODELS
from tests.fakes import FakeEmbedder


def _base(emb):
    texts = ["徳島県の電子決裁", "三重県のテレワーク", "KGI 公文書の電子化率 2022(R4)年度 100%"]
    base = [Chunk(f"p{i}", f"p{i}", None, 0, len(t), t, t) for i, t in enumerate(texts)]
    records = {c.doc_id: DocRecord(c.doc_id, "", DocumentMeta(prefecture="徳島県"), 1, 1) for c in base}
    spans = [np.array([(u.start, u.end) for u in split_units(t)], np.int32).reshape(-1, 2) for t in texts]
    bb = BenchBase(
        base,
        records,
        emb.embed_passages(texts),
        [bm25_tokens(c, records[c.doc_id]) for c in base],
        spans,
        [emb.embed_passages([t[s:e] for s, e in sp]).astype(np.float16) for t, sp in zip(texts, spans, strict=True)],
        ["テレワーク", "2022年度の電子化率の目標は？"],
        [bigram_tokens(c, records[c.doc_id]) for c in base],
    )
    return bb


def test_scaled_index_repeats_real_text_with_facts_and_sentences():
    emb = FakeEmbedder()
    bb = _base(emb)
    index = scaled_index(emb, 2500, bb, random_vectors=False)
    assert len(index.chunks) == 2500 and index.vectors.shape == (2500, emb.dim)
    assert len(index.facts) >= 2500 // 3 and index.units is not None and len(index.units) == len(index.unit_vectors)
    rag = Rag.over(Settings(models_dir=MODELS), index, emb)
    assert {h.chunk.text for h in rag.search("テレワーク", 3)} == {"三重県のテレワーク"}
    assert index.chars is not None and rag.search("テレワーク", 3, mode="bigram")[0].chunk.text == "三重県のテレワーク"
    assert rag.ask("2022年度の電子化率の目標は？").short_answer == "100%"  # the timed path reads facts
    assert set(_latencies(rag, bb.questions)) == {"search", "ask", "bm25", "dense"}


def test_result_table_marks_missed_targets():
    r = BenchResult()
    r.add("a", "1 ms", "≤ 2 ms", True)
    r.add("b", "3 ms", "≤ 2 ms", False)
    assert "| a | 1 ms | ≤ 2 ms | met |" in r.markdown() and "MISSED" in r.markdown()


def test_a_scaled_index_written_for_the_growth_figures_loads_as_a_built_one(tmp_path):
    from rag.index.store import load_index

    emb = FakeEmbedder()
    index = scaled_index(emb, 300, _base(emb), random_vectors=True)
    disk = write_scaled(index, emb, tmp_path / "index")
    loaded = load_index(tmp_path / "index", emb)
    assert disk > 0 and len(loaded.chunks) == 300 and len(loaded.facts) == len(index.facts)
    assert np.array_equal(loaded.units, index.units)
    assert Rag.over(Settings(models_dir=MODELS), loaded, emb).ask("2022年度の電子化率の目標は？").short_answer == "100%"


def test_writing_the_table_keeps_the_notes_below_it(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n| old table |\n\n## What changed\n\nhand-written notes\n", encoding="utf-8")
    r = BenchResult()
    r.add("ask", "1 ms")
    write_doc(r, doc, "rag bench")
    text = doc.read_text(encoding="utf-8")
    assert "| ask | 1 ms |" in text and "| old table |" not in text
    assert text.endswith("## What changed\n\nhand-written notes\n")

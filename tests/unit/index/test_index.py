import json

import numpy as np
import pytest

from rag.errors import IndexMismatchError, IndexNotFoundError
from rag.index.build import build_index
from rag.index.store import SCHEMA_VERSION, load_index
from tests.fakes import FakeEmbedder
from tests.pdfs import make_pdf


class CountingEmbedder(FakeEmbedder):
    def __init__(self):
        super().__init__()
        self.embedded: list[str] = []

    def embed_passages(self, texts, progress=False):
        self.embedded += texts
        return super().embed_passages(texts)


class FailingEmbedder(FakeEmbedder):
    def embed_passages(self, texts, progress=False):
        raise RuntimeError("embedding crashed")


def test_build_writes_plain_files_and_manifest(small_corpus, tmp_path, fake_embedder):
    report = build_index(small_corpus, tmp_path / "index", fake_embedder)
    assert sorted(report.added) == ["mie.txt", "okayama.md", "tokushima.txt"]
    current = tmp_path / "index" / "current"
    assert current.is_symlink()
    names = {p.name for p in current.iterdir()}
    assert {"manifest.json", "documents.json", "chunks.jsonl", "vectors.npy", "dense.faiss", "bm25"} <= names
    m = json.loads((current / "manifest.json").read_text())
    assert m["schema_version"] == SCHEMA_VERSION
    assert m["model"] == {"id": "fake", "fingerprint": fake_embedder.fingerprint, "dim": fake_embedder.dim}
    assert set(m["documents"]) == {"mie.txt", "okayama.md", "tokushima.txt"}
    assert m["chunks"] == report.chunks > 0
    np.load(current / "vectors.npy", allow_pickle=False)  # no pickle needed


def test_incremental_embeds_only_new_and_changed(small_corpus, tmp_path):
    emb = CountingEmbedder()
    build_index(small_corpus, tmp_path / "index", emb)
    first = len(emb.embedded)
    emb.embedded.clear()
    report = build_index(small_corpus, tmp_path / "index", emb)
    assert emb.embedded == [] and report.unchanged and not report.changed

    (small_corpus / "new.txt").write_text("新しい文書：香川県の計画です。", encoding="utf-8")
    (small_corpus / "okayama.md").unlink()
    report = build_index(small_corpus, tmp_path / "index", emb)
    assert report.added == ("new.txt",) and report.removed == ("okayama.md",)
    # the new chunk and its sentence, nothing else
    assert emb.embedded and all("香川県" in t for t in emb.embedded) and report.embedded == 1
    index = load_index(tmp_path / "index", emb)
    assert set(index.documents) == {"mie.txt", "new.txt", "tokushima.txt"}
    assert all(c.doc_id != "okayama.md" for c in index.chunks)

    emb.embedded.clear()
    report = build_index(small_corpus, tmp_path / "index", emb, rebuild=True)
    assert len(emb.embedded) == report.chunks + report.embedded_sentences and first > 0


def test_metadata_change_updates_the_document(small_corpus, tmp_path, fake_embedder):
    build_index(small_corpus, tmp_path / "index", fake_embedder)
    meta = small_corpus / "metadata.toml"
    meta.write_text(meta.read_text(encoding="utf-8").replace('title = "施策シート"', 'title = "新しい題"'), encoding="utf-8")
    report = build_index(small_corpus, tmp_path / "index", fake_embedder)
    assert report.updated == ("mie.txt",)
    assert load_index(tmp_path / "index").documents["mie.txt"].title == "新しい題"


def test_broken_file_is_reported_and_others_index(small_corpus, tmp_path, fake_embedder):
    (small_corpus / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    make_pdf(small_corpus / "good.pdf", ["徳島県のページ"])
    report = build_index(small_corpus, tmp_path / "index", fake_embedder)
    assert [f.doc_id for f in report.failed] == ["broken.pdf"]
    index = load_index(tmp_path / "index")
    assert "good.pdf" in index.documents and "broken.pdf" not in index.documents
    assert index.manifest["failures"][0]["doc_id"] == "broken.pdf"
    assert next(c for c in index.chunks if c.doc_id == "good.pdf").page == 1


def test_a_document_that_breaks_later_keeps_its_previous_version(small_corpus, tmp_path, fake_embedder):
    build_index(small_corpus, tmp_path / "index", fake_embedder)
    (small_corpus / "mie.txt").write_bytes(b"\x00\x00binary now")
    report = build_index(small_corpus, tmp_path / "index", fake_embedder)
    assert report.kept_previous == ("mie.txt",)
    assert "mie.txt" in load_index(tmp_path / "index").documents


def test_failed_build_leaves_the_old_index_serving(small_corpus, tmp_path, fake_embedder):
    build_index(small_corpus, tmp_path / "index", fake_embedder)
    before = (tmp_path / "index" / "current").resolve()
    (small_corpus / "new.txt").write_text("追加の文書", encoding="utf-8")
    with pytest.raises(RuntimeError):
        build_index(small_corpus, tmp_path / "index", FailingEmbedder())
    assert (tmp_path / "index" / "current").resolve() == before
    assert "new.txt" not in load_index(tmp_path / "index").documents
    assert not [p for p in (tmp_path / "index" / "builds").iterdir() if p.name.startswith(".build-")]


def test_load_refuses_another_model(small_corpus, tmp_path, fake_embedder):
    build_index(small_corpus, tmp_path / "index", fake_embedder)
    with pytest.raises(IndexMismatchError, match="rebuild"):
        load_index(tmp_path / "index", FakeEmbedder(dim=32))


def test_load_refuses_another_schema(small_corpus, tmp_path, fake_embedder):
    build_index(small_corpus, tmp_path / "index", fake_embedder)
    manifest = tmp_path / "index" / "current" / "manifest.json"
    m = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(m | {"schema_version": 999}))
    with pytest.raises(IndexMismatchError, match="schema"):
        load_index(tmp_path / "index")


def test_missing_index_says_what_to_do(tmp_path):
    with pytest.raises(IndexNotFoundError, match="rag index"):
        load_index(tmp_path / "nothing")


def test_old_builds_are_pruned(small_corpus, tmp_path, fake_embedder):
    for i in range(4):
        (small_corpus / f"extra{i}.txt").write_text(f"追加{i}", encoding="utf-8")
        build_index(small_corpus, tmp_path / "index", fake_embedder)
    assert len(list((tmp_path / "index" / "builds").iterdir())) == 2


@pytest.mark.parametrize("folder", ["bm25", "bm25_chars"])
def test_saved_bm25_scores_as_bm25s_does(small_corpus, tmp_path, fake_embedder, folder):
    import bm25s

    from rag.index.bm25 import SavedBM25
    from rag.lang.tokenize import char_bigrams, tokenize

    build_index(small_corpus, tmp_path / "index", fake_embedder)
    path = tmp_path / "index" / "current" / folder
    ours, theirs = SavedBM25(path), bm25s.BM25.load(str(path), show_progress=False)
    split = char_bigrams if folder == "bm25_chars" else tokenize
    for question in ("徳島県の電子決裁の目標", "テレワーク 実績 2021", "県 県", "存在しない語"):
        tokens = split(question)
        known = [t for t in tokens if t in theirs.vocab_dict]
        expected = theirs.get_scores(known) if known else np.zeros(theirs.scores["num_docs"])
        assert np.allclose(ours.get_scores(tokens), expected, atol=1e-5)
    assert ours.get_scores(split("県の電子決裁")).max() > 0

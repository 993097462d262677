"""A rebuild never interrupts answering: questions keep being answered from the old
index while a new one is built, and the switch happens in one step."""

import threading

import pytest

from rag.pipeline import Rag
from rag.settings import Settings
from tests.fakes import FakeEmbedder


def test_answers_continue_during_a_rebuild_and_switch_atomically(small_corpus, tmp_path):
    rag = Rag(Settings(corpus=small_corpus, index=tmp_path / "index"), embedder=FakeEmbedder())
    rag.build()
    assert "new.txt" not in rag.index.documents
    (small_corpus / "new.txt").write_text("香川県のデジタル計画：オープンデータを推進する。", encoding="utf-8")
    errors, answered = [], []
    stop = threading.Event()

    def keep_asking():
        while not stop.is_set():
            try:
                answered.append(rag.ask("電子決裁の目標は？").answerable)
            except Exception as e:
                errors.append(e)

    worker = threading.Thread(target=keep_asking)
    worker.start()
    report = rag.build()
    stop.set()
    worker.join()
    assert errors == [] and answered and all(answered)
    assert report.added == ("new.txt",)
    assert "new.txt" in rag.index.documents  # the running instance switched to the new build


def test_failed_rebuild_keeps_serving(small_corpus, tmp_path):
    class Breaking(FakeEmbedder):
        fail = False

        def embed_passages(self, texts, progress=False):
            if self.fail:
                raise RuntimeError("model crashed")
            return super().embed_passages(texts)

        def embed_queries(self, texts):
            return FakeEmbedder.embed_passages(self, texts)

    emb = Breaking()
    rag = Rag(Settings(corpus=small_corpus, index=tmp_path / "index"), embedder=emb)
    rag.build()
    before = rag.index.path
    (small_corpus / "new.txt").write_text("追加文書", encoding="utf-8")
    emb.fail = True
    with pytest.raises(RuntimeError):
        rag.build()
    assert rag.index.path == before
    assert rag.ask("電子決裁の目標は？").answerable

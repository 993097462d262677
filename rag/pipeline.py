"""The Python API that the CLI, the app, the eval and the benchmarks share:
load the model and the index once, then search and ask many times."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rag.answer.catalog import Catalog
from rag.answer.extractive import Answerer
from rag.answer.generator import make_answerer
from rag.embed.embedders import Embedder, load_embedder
from rag.index.backends import BM25Params
from rag.index.build import BuildReport, ProgressFn, build_index
from rag.index.store import Index, load_index
from rag.lang.tokenize import tokenize
from rag.lang.translate import load_lexicon
from rag.query.search import Searcher
from rag.query.understand import Query, Reader, Scope
from rag.settings import Settings
from rag.types import Answer, Hit


@dataclass(frozen=True)
class Turn:
    """One question answered: how it was read, what was retrieved (best first), the answer."""

    query: Query
    hits: list[Hit]
    answer: Answer


@dataclass(frozen=True)
class _Loaded:
    """Everything that depends on one build of the index, swapped in together."""

    searcher: Searcher
    catalog: Catalog
    reader: Reader


class Rag:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, answerer: Answerer | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self.answerer = answerer or make_answerer(settings)
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()

    @classmethod
    def over(cls, settings: Settings, index: Index, embedder: Embedder) -> Rag:
        """A Rag serving an index built in memory (benchmarks, tests)."""
        rag = cls(settings, embedder)
        rag._loaded = rag._serve(index)
        return rag

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.model, self.settings.models_dir, self.settings.backend)
        return self._embedder

    def _load(self) -> _Loaded:
        return self._serve(load_index(self.settings.index, self.embedder))

    def _serve(self, index: Index) -> _Loaded:
        s = self.settings
        tokenize("県")  # load the dictionary now, not in the first of several concurrent questions
        catalog = Catalog.of(index)
        reader = Reader(load_lexicon(s.models_dir.resolve()), catalog.df)
        return _Loaded(Searcher(index, self.embedder, s.fusion()), catalog, reader)

    @property
    def loaded(self) -> _Loaded:
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
            loaded = self._loaded
        if self._stale(loaded):
            # another process (`rag index`, an admin in another app) swapped in a newer build
            with self._reload_lock:
                if self._loaded is loaded:
                    self.reload()
            loaded = self._loaded
        return loaded

    def _stale(self, loaded: _Loaded) -> bool:
        path = loaded.searcher.index.path
        if path == Path(".") or not (self.settings.index / "current").exists():
            return False
        try:
            return (self.settings.index / "current").resolve() != path.resolve()
        except OSError:
            return False

    def build_id(self) -> str:
        return str(self.index.manifest.get("build_id", ""))

    @property
    def searcher(self) -> Searcher:
        return self.loaded.searcher

    @property
    def index(self) -> Index:
        return self.searcher.index

    def reload(self) -> None:
        """Load the newest build and switch to it in one step; in-flight questions finish on the old one."""
        loaded = self._load()
        with self._lock:
            self._loaded = loaded

    def build(self, rebuild: bool = False, progress: ProgressFn | None = None) -> BuildReport:
        report = build_index(
            self.settings.corpus,
            self.settings.index,
            self.embedder,
            self.settings.chunking(),
            rebuild=rebuild,
            progress=progress,
            bm25_params=BM25Params(self.settings.bm25_k1, self.settings.bm25_b),
            ocr=self.settings.ocr,
        )
        if self._loaded is not None:
            self.reload()
        return report

    def understand(
        self, question: str, history: list[str] | None = None, prefecture: str | None = None, doc_id: str | None = None
    ) -> Query:
        loaded = self.loaded
        return loaded.searcher.scoped(loaded.reader.understand(question, history or (), Scope(prefecture, doc_id)))

    def search(
        self,
        question: str | Query,
        k: int | None = None,
        prefecture: str | None = None,
        doc_id: str | None = None,
        mode: str = "hybrid",
    ) -> list[Hit]:
        query = question if isinstance(question, Query) else self.understand(question, None, prefecture, doc_id)
        return self.searcher.search(query, self.settings.top_k if k is None else k, mode)

    def ask(
        self, question: str, prefecture: str | None = None, doc_id: str | None = None, history: list[str] | None = None
    ) -> Answer:
        """Answer `question`; `history` holds the earlier questions of the conversation, oldest first."""
        return self.run(question, prefecture, doc_id, history).answer

    def run(
        self,
        question: str,
        prefecture: str | None = None,
        doc_id: str | None = None,
        history: list[str] | None = None,
        depth: int | None = None,
        mode: str = "hybrid",
    ) -> Turn:
        """The one ask path (the CLI, the app, the eval and the bench all come through here):
        read the question, retrieve `depth` passages (best first), answer from the top ones."""
        query, hits, sv, catalog = self._retrieve(question, prefecture, doc_id, history, depth, mode)
        answer = self.answerer.answer(query, hits[: self.settings.top_k], catalog, sv)
        return Turn(query, hits, answer)

    def stream(
        self, question: str, prefecture: str | None = None, doc_id: str | None = None, history: list[str] | None = None
    ) -> Iterator[Answer]:
        """As `ask`, but a generator answerer's partial answers come as they are verified; the final one last."""
        query, hits, sv, catalog = self._retrieve(question, prefecture, doc_id, history, None, "hybrid")
        streaming = getattr(self.answerer, "stream", None)
        if streaming is None:
            yield self.answerer.answer(query, hits[: self.settings.top_k], catalog, sv)
            return
        yield from streaming(query, hits[: self.settings.top_k], catalog, sv)

    def _retrieve(
        self,
        question: str,
        prefecture: str | None,
        doc_id: str | None,
        history: list[str] | None,
        depth: int | None,
        mode: str,
    ) -> tuple[Query, list[Hit], np.ndarray, Catalog]:
        loaded = self.loaded
        query = loaded.searcher.scoped(loaded.reader.understand(question, history or (), Scope(prefecture, doc_id)))
        k = max(self.settings.top_k, depth or 0)
        qv = loaded.searcher.query_vector(query)
        hits: list[Hit] = []
        if query.scope == Scope() and query.prefecture in loaded.catalog.prefectures:
            # a question about one prefecture reads that prefecture's documents first
            hits = loaded.searcher.search(replace(query, scope=Scope(query.prefecture)), k, mode, qv)
        if not hits:
            hits = loaded.searcher.search(query, k, mode, qv)
        # sentences are scored against the retrieval vector, an English question's Japanese terms
        # included (allganize-dev-en answer .139 -> .151 over the question alone; bundled sets unchanged)
        return query, hits, qv, loaded.catalog

    def info(self) -> dict:
        return self.index.info()


def hit_json(hit: Hit) -> dict:
    c = hit.chunk
    return {
        "rank": hit.rank,
        "score": round(hit.score, 6),
        "doc_id": c.doc_id,
        "title": hit.title,
        "prefecture": hit.prefecture,
        "page": c.page,
        "chunk_id": c.chunk_id,
        "heading": c.heading,
        "start": c.start,
        "end": c.end,
        "text": c.text,
    }


def answer_json(answer: Answer) -> dict:
    return answer.to_dict()

"""The Python API that the CLI, the app, the eval and the benchmarks share:
load the model and the index once, then search and ask many times."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from rag.answer import Answerer, ExtractiveAnswerer
from rag.chunk import ChunkSettings
from rag.embed import Embedder, load_embedder
from rag.index import BuildReport, Index, ProgressFn, build_index, load_index
from rag.question import understand
from rag.search import MAX_QUESTION_CHARS, Searcher, parse_query
from rag.settings import Settings
from rag.types import Answer, Hit


@dataclass(frozen=True)
class Turn:
    """One question answered: what was retrieved (best first) and the answer."""

    question: str
    hits: list[Hit]
    answer: Answer


class Rag:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, answerer: Answerer | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self.answerer = answerer or ExtractiveAnswerer()
        self._searcher: Searcher | None = None
        self._lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.model, self.settings.models_dir)
        return self._embedder

    @property
    def searcher(self) -> Searcher:
        with self._lock:
            if self._searcher is None:
                self._searcher = self._make_searcher(load_index(self.settings.index, self.embedder))
            return self._searcher

    @property
    def index(self) -> Index:
        return self.searcher.index

    def _make_searcher(self, index: Index) -> Searcher:
        s = self.settings
        return Searcher(index, self.embedder, s.rrf_k, s.dense_weight, s.bm25_weight)

    def reload(self) -> None:
        """Load the newest build and switch to it in one step; in-flight questions finish on the old one."""
        searcher = self._make_searcher(load_index(self.settings.index, self.embedder))
        with self._lock:
            self._searcher = searcher

    def build(self, rebuild: bool = False, progress: ProgressFn | None = None) -> BuildReport:
        report = build_index(
            self.settings.corpus,
            self.settings.index,
            self.embedder,
            ChunkSettings(max_chars=self.settings.chunk_chars),
            rebuild=rebuild,
            progress=progress,
        )
        if self._searcher is not None:
            self.reload()
        return report

    def search(
        self, question: str, k: int | None = None, prefecture: str | None = None, doc_id: str | None = None, mode: str = "hybrid"
    ) -> list[Hit]:
        return self.searcher.search(question, k or self.settings.top_k, prefecture, doc_id, mode)

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
    ) -> Turn:
        searcher = self.searcher
        parse_query(question)  # validates the question as asked
        frame = understand(question, [h for h in (history or []) if h and h.strip()])
        query = parse_query(frame.search_text[:MAX_QUESTION_CHARS])
        k = max(self.settings.top_k, depth or 0)
        hits: list[Hit] = []
        if (
            prefecture is None
            and doc_id is None
            and len(frame.prefectures) == 1
            and frame.prefectures[0] in searcher.index.prefectures
        ):
            # a question about one prefecture reads that prefecture's documents first
            hits = searcher.search(query, k, frame.prefectures[0])
        if not hits:
            hits = searcher.search(query, k, prefecture, doc_id)
        answer = self.answerer.answer(frame, hits[: self.settings.top_k], searcher.index)
        if not answer.answerable:
            answer = replace(answer, answer_type="none")
        elif answer.short_answer:
            answer = replace(answer, answer_type="value")
        return Turn(question, hits, answer)

    def info(self) -> dict:
        index = self.index
        m = index.manifest
        return {
            "path": str(index.path),
            "built_at": m["built_at"],
            "model": m["model"],
            "chunks": m["chunks"],
            "documents": [asdict(d) | {"title": d.title} for d in index.documents.values()],
            "prefectures": index.prefectures,
            "failures": m.get("failures", []),
            "settings": m.get("settings", {}),
        }


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
    return {
        "question": answer.question,
        "answer": answer.answer,
        "short_answer": answer.short_answer,
        "answerable": answer.answerable,
        "citations": [
            {
                "n": c.n,
                "doc_id": c.doc_id,
                "title": c.title,
                "prefecture": c.prefecture,
                "page": c.page,
                "text": c.text,
                "score": c.score,
                "chunk_id": c.chunk_id,
                "highlights": [list(h) for h in c.highlights],
            }
            for c in answer.citations
        ],
        "notes": list(answer.notes),
    }


def default_model_path(settings: Settings) -> Path:
    return settings.models_dir / "multilingual-e5-small"

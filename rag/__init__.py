"""Question answering over Japanese prefectural plan documents, with cited passages.

The pipeline, one folder per stage (see docs/architecture.md):
lang (text rules) → ingest (documents → chunks) → facts (figures read at index time) →
embed → index (build, store) → query (read the question, search) → answer → web / cli.

    from rag import Rag, Settings
    rag = Rag(Settings())
    print(rag.ask("徳島県の2022年度の電子決裁の目標は？").to_dict())

The names below are imported on first use, so `import rag` stays cheap (the CLI starts fast).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_PUBLIC = {
    "Rag": "rag.pipeline",
    "Settings": "rag.settings",
    "load_settings": "rag.settings",
    "Query": "rag.query.understand",
    "Scope": "rag.query.understand",
    "Answer": "rag.types",
    "Citation": "rag.types",
    "Chunk": "rag.types",
    "Document": "rag.types",
    "DocRecord": "rag.types",
    "Fact": "rag.types",
    "Hit": "rag.types",
    "Index": "rag.index.store",
    "load_index": "rag.index.store",
    "build_index": "rag.index.build",
    "BuildReport": "rag.index.build",
    "RagError": "rag.errors",
}
__all__ = [
    "Answer",
    "BuildReport",
    "Chunk",
    "Citation",
    "DocRecord",
    "Document",
    "Fact",
    "Hit",
    "Index",
    "Query",
    "Rag",
    "RagError",
    "Scope",
    "Settings",
    "build_index",
    "load_index",
    "load_settings",
]

if TYPE_CHECKING:
    from rag.errors import RagError
    from rag.index.build import BuildReport, build_index
    from rag.index.store import Index, load_index
    from rag.pipeline import Rag
    from rag.query.understand import Query, Scope
    from rag.settings import Settings, load_settings
    from rag.types import Answer, Chunk, Citation, DocRecord, Document, Fact, Hit


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))

"""What each retriever sees of a chunk: the embedder its passage text (where it comes from, then the
passage), BM25 its words plus the prefecture's English name and year tokens, the bigram BM25 its
character bigrams. Written once, so a build and a query-time in-memory index agree."""

from __future__ import annotations

import hashlib

from rag.lang.eras import year_token
from rag.lang.prefectures import ENGLISH
from rag.lang.tokenize import char_bigrams, tokenize
from rag.types import Chunk, DocRecord


def _head(chunk: Chunk, record: DocRecord) -> str:
    return " ".join(x for x in (record.prefecture, record.title, chunk.heading) if x)


def passage_text(chunk: Chunk, record: DocRecord) -> str:
    """What the embedder sees: where the passage comes from, then the passage."""
    head = _head(chunk, record)
    return f"{head}\n{chunk.search_text}" if head else chunk.search_text


def bm25_tokens(chunk: Chunk, record: DocRecord) -> list[str]:
    tokens = tokenize(chunk.search_text)
    tokens += tokenize(_head(chunk, record))
    if record.prefecture:
        tokens.append(ENGLISH[record.prefecture].lower())
    tokens += [year_token(y) for y in chunk.years]
    return tokens


def bigram_tokens(chunk: Chunk, record: DocRecord) -> list[str]:
    return char_bigrams(chunk.search_text) + char_bigrams(_head(chunk, record))


def text_key(text: str) -> str:
    """A vector's key for reuse across builds: the text it was computed from."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]

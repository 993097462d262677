"""Which sentences of the retrieved passages answer the question.

Every sentence (see `rag.lang.segment`) of the top passages gets features — how much of the
question's topic it holds (words weighted by rarity, alone and with its heading and the
sentence before it), how close its embedding is to the question's (an English question
scores Japanese sentences directly), the rank of its passage, and whether it holds the
kind of value asked for — and one linear score. The weights live in `WEIGHTS`, fitted
as described there; nothing here knows any particular question.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from rag.answer.catalog import Catalog, units_of
from rag.lang.eras import years_in
from rag.lang.segment import Unit
from rag.lang.tokenize import token_set
from rag.lang.vocab import DATE, Expect, value_pattern
from rag.query.understand import Concept, Query
from rag.types import Hit

FEATURES = ("coverage", "context", "dense", "prior", "kind", "year", "short", "length")


@dataclass(frozen=True)
class Weights:
    """Sentence score = bias + sum of weight × feature, one weight per name in FEATURES:
    coverage  share of the topic (idf-weighted) in the sentence
    context   the same with its heading and the sentence before
    dense     cosine of question and sentence embeddings (0 when the index has none)
    prior     1 / sqrt(rank of its passage)
    kind      holds a value of the asked kind (amount, rate, count, date)
    year      names an asked year
    short     fewer than 8 characters, or a heading or a question line
    length    characters / 200, capped at 1 (longer sentences say more)
    Fitted by logistic regression on which sentence holds the answer, with
    `python -m rag.evaluation.fit_reader` (see docs/reader.md): JSQuAD-test questions (sentences
    of the gold passage) and ../shared/datasets/allganize-dev (sentences of the top
    retrieved passages); never on eval/qa.jsonl."""

    # `python -m rag.evaluation.fit_reader --jsquad 1000 --set ../shared/datasets/allganize-dev` (2026-12-02):
    # held-out top-1 holds the answer: allganize .302 -> .349, JSQuAD .883 -> .869
    values: tuple[float, ...] = (1.516, 1.781, 4.940, 3.047, 1.627, -0.642, -0.313, 1.020)
    bias: float = -7.146


WEIGHTS = Weights()
# a question the document asks (Q&A documents): it repeats the asker's words but answers nothing
QUESTION_LINE = re.compile(r"[?？]\s*$|(?:です|ます|でしょう|ません)か[。.]?\s*$|^(?:Q|問)\s*[0-9]*[.:：\s]")


@dataclass(frozen=True)
class Sentence:
    hit: Hit
    position: int  # index among the passage's sentences
    unit: Unit
    tokens: frozenset[str]
    coverage: float
    context: float
    subject: float  # share of the topic held whole by the sentence with its heading and the sentence before
    dense: float
    features: tuple[float, ...]
    score: float

    @property
    def text(self) -> str:
        return self.unit.text

    @property
    def chunk_id(self) -> str:
        return self.hit.chunk.chunk_id


Topic = list[tuple[Concept, float]]


def topic_weights(query: Query, catalog: Catalog, skip: frozenset[str] = frozenset()) -> Topic:
    """The question's concepts, each weighted by how rare its rarest wording is in the indexed
    passages (a word every passage has says little about which one answers)."""
    out = []
    for c in query.concepts:
        alts = [a for a in c.alternatives if not all(t in skip for t in a)]
        if alts:
            out.append((c, max(sum(catalog.idf(t) for t in a) for a in alts)))
    return out


def share(topic: Topic, tokens: set[str] | frozenset[str], strict: bool = False) -> float:
    """How much of the topic (by weight) `tokens` hold; `strict`: only concepts held whole
    (a compound such as みえDXセンター counts only with every part)."""
    total = sum(w for _, w in topic)
    if not total:
        return 0.0
    if strict:
        return sum(w for c, w in topic if c.found_in(tokens)) / total
    return sum(w * c.fraction_in(tokens) for c, w in topic) / total


# a table-of-contents line: a title, a run of leaders, a page number
_CONTENTS_LINE = re.compile(r"(?:_{4,}|…{2,}|\.{4,}|・{4,}|･{4,})\s*[0-9]+")


def is_heading_like(text: str) -> bool:
    """A heading, a question line or a table-of-contents line: it names a topic but states nothing."""
    s = text.strip()
    short = len(s) < 8 or (len(s) < 30 and "。" not in s and not re.search(r"[0-9]", s))
    return short or bool(QUESTION_LINE.search(s) or _CONTENTS_LINE.search(s))


def score_sentences(
    query: Query,
    hits: list[Hit],
    catalog: Catalog,
    query_vector: np.ndarray | None = None,
    weights: Weights = WEIGHTS,
) -> list[Sentence]:
    """Every sentence of `hits`, best first."""
    words = topic_weights(query, catalog)
    kind = value_pattern(query.expects)
    asked_years = set(query.all_years)
    out: list[Sentence] = []
    seen: set[tuple[str, int | None, int]] = set()  # overlapping chunks hold some sentences twice: read each once
    for hit in hits:
        units = units_of(hit.chunk.text)
        heading = token_set(hit.chunk.heading) if hit.chunk.heading else frozenset()
        vectors = catalog.sentence_vectors(hit.chunk.chunk_id) if query_vector is not None else None
        prior = 1.0 / math.sqrt(hit.rank)
        previous: frozenset[str] = frozenset()
        for i, unit in enumerate(units):
            where = (hit.chunk.doc_id, hit.chunk.page, hit.chunk.start + unit.start)
            if where in seen:
                continue
            seen.add(where)
            tokens = token_set(unit.text)
            coverage = share(words, tokens)
            context = share(words, tokens | heading | previous)
            subject = share(words, tokens | heading | previous, strict=True)
            dense = float(vectors[i] @ query_vector) if vectors is not None and query_vector is not None else 0.0
            holds_kind = bool(kind and kind.search(unit.text)) if query.expects != Expect.DATE else bool(DATE.search(unit.text))
            names_year = bool(asked_years and asked_years & set(years_in(unit.text)))
            features = (
                coverage,
                context,
                dense,
                prior,
                float(holds_kind),
                float(names_year),
                float(is_heading_like(unit.text)),
                min(len(unit.text), 200) / 200,
            )
            score = weights.bias + sum(w * f for w, f in zip(weights.values, features, strict=True))
            out.append(Sentence(hit, i, unit, frozenset(tokens), coverage, context, subject, dense, features, score))
            previous = tokens
    out.sort(key=lambda s: -s.score)
    return out

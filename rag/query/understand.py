"""One reading of the question: `understand(question, history) -> Query`.

The Query carries everything later stages need: the prefectures and fiscal years asked
(calendar years apart), what is measured (目標 / 実績 / 予算), the kind of answer expected
(an amount, a rate, a count, a date, a name, a list, a definition, yes/no, or passages),
the topic in the documents' words, the BM25 tokens and the text for the dense model, the
filters the user set, and, for a follow-up, what it leans on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from rag.errors import QueryError
from rag.lang.eras import expand_years, year_mentions, year_token
from rag.lang.glossary import glossary_terms, is_english
from rag.lang.prefectures import ENGLISH, mentioned_in_question
from rag.lang.tokenize import char_bigrams, content_compounds, tokenize
from rag.lang.translate import Lexicon, english_words
from rag.lang.vocab import GENERIC, Expect, Measure, expect_of, measure_of, measures_of

MAX_QUESTION_CHARS = 2000
MAX_HISTORY = 8  # earlier questions a follow-up may lean on; older ones are ignored

_FOLLOWUP = re.compile(
    r"(?i)^\s*(?:その|それ|そちら|そこ|同じ|では|じゃあ|また|次に|and\b|what about|how about|then\b|same\b|its\b|it\b|that\b|those\b)"
    r"|^(?:その|それの)?(?:実績|目標|予算|理由|背景|内容|期間)(?:値|額)?(?:は|って)?[?？]?$"
)
_REFERS_BACK = re.compile(r"(?i)^\s*(?:その|それ|そちら|its\b|it\b|that\b|those\b|and the\b)")


@dataclass(frozen=True)
class Scope:
    """The filters a user set: they bind every path (passages and facts)."""

    prefecture: str | None = None
    doc_id: str | None = None


@dataclass(frozen=True)
class Concept:
    """One thing the question is about, with the ways a document may word it: a Japanese
    word stands for itself; an English word for the Japanese terms found for it (each a
    sequence of tokens, all of which must occur)."""

    word: str
    alternatives: tuple[tuple[str, ...], ...]

    def found_in(self, tokens: set[str] | frozenset[str]) -> bool:
        return any(all(t in tokens for t in alt) for alt in self.alternatives)

    def fraction_in(self, tokens: set[str] | frozenset[str]) -> float:
        """How much of its best wording `tokens` hold (a compound half present counts half)."""
        return max((sum(t in tokens for t in alt) / len(alt) for alt in self.alternatives if alt), default=0.0)


@dataclass(frozen=True)
class Query:
    question: str  # as asked
    text: str  # NFKC
    lang: str  # "ja" | "en"
    prefectures: tuple[str, ...] = ()
    years: tuple[int, ...] = ()  # fiscal (or bare) years asked, Western
    calendar_years: tuple[int, ...] = ()  # 2020年 / 令和2年: a date, not a fiscal year
    measure: Measure | None = None
    measures: tuple[Measure, ...] = ()  # every measure named: 「目標と実績は」 asks for both
    expects: Expect = Expect.PASSAGE
    topic: tuple[str, ...] = ()  # content words, in the documents' language
    concepts: tuple[Concept, ...] = ()  # the topic grouped by what the question said
    tokens: tuple[str, ...] = ()  # BM25 tokens
    bigrams: tuple[str, ...] = ()  # the character-bigram BM25's tokens
    dense_text: str = ""  # what the dense retriever embeds
    ja_terms: tuple[str, ...] = ()  # Japanese terms found for an English question
    scope: Scope = field(default_factory=Scope)
    followup: bool = False
    context: str = ""  # the earlier question(s) a follow-up leans on
    dangling: bool = False  # refers back ("その実績は？") with nothing to refer to

    @property
    def all_years(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(self.years + self.calendar_years))

    @property
    def prefecture(self) -> str | None:
        """The one prefecture the answer must be about, if the filter or the question names one."""
        if self.scope.prefecture:
            return self.scope.prefecture
        return self.prefectures[0] if len(self.prefectures) == 1 else None


DocFrequency = Callable[[str], int]


@dataclass(frozen=True)
class Reader:
    """Reads questions against one index: English words become Japanese terms the indexed
    documents contain (`df`: in how many passages a term occurs), from the JMdict lexicon
    and the plan-document glossary."""

    lexicon: Lexicon | None = None
    df: DocFrequency = lambda term: 1

    def known(self, term: str) -> bool:
        return self.df(term) > 0

    def understand(self, question: str, history: Sequence[str] = (), scope: Scope | None = None) -> Query:
        return understand(question, history, scope, self)


def _readable(turn: object) -> bool:
    """An earlier question worth leaning on: text, not blank, encodable (a lone surrogate is skipped, not fatal)."""
    if not isinstance(turn, str) or not turn.strip():
        return False
    try:
        turn.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_question(question: object) -> str:
    if not isinstance(question, str):
        raise QueryError("the question must be text")
    text = question.replace("\x00", "").strip()
    if not text:
        raise QueryError("the question is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise QueryError(f"the question is {len(text)} characters long; the limit is {MAX_QUESTION_CHARS}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise QueryError("the question holds characters that are not valid text (a lone surrogate)") from e
    return text


def _english_concepts(norm: str, reader: Reader | None) -> list[Concept]:
    """What an English question is about, in Japanese: glossary phrases, then the dictionary's
    readings of each phrase or word, then English words the documents use as they are (RPA, DX)."""
    known = reader.known if reader is not None else (lambda t: True)
    concepts: list[Concept] = []
    for phrase, terms in glossary_terms(norm):
        alts = tuple(tuple(tokenize(t)) for t in terms if known(t))
        if alts:
            concepts.append(Concept(phrase, alts))
    if reader is not None and reader.lexicon is not None:
        for phrase, terms in reader.lexicon.phrases(norm, reader.df):
            concepts.append(Concept(phrase, tuple(tuple(tokenize(t)) for t in terms)))
    seen = {a for c in concepts for alt in c.alternatives for a in alt}
    for w in english_words(norm):
        if w not in seen and known(w) and not w.isdigit():
            concepts.append(Concept(w, ((w,),)))
    return concepts


def _read(question: str, reader: Reader | None) -> Query:
    """One question on its own, without the conversation."""
    norm = unicodedata.normalize("NFKC", question)
    lang = "en" if is_english(norm) else "ja"
    mentions = year_mentions(norm)
    years = tuple(dict.fromkeys(m.year for m in mentions if m.fiscal is not False))
    calendar = tuple(dict.fromkeys(m.year for m in mentions if m.fiscal is False and m.year not in years))
    prefectures = tuple(mentioned_in_question(norm))
    names: set[str] = set()
    for p in prefectures:
        names |= set(tokenize(p)) | {ENGLISH[p].lower()}
    own_tokens = tokenize(norm)

    def content(t: str) -> bool:
        return t not in GENERIC and t not in names and not t.replace(".", "").isdigit() and not t.startswith("fy")

    if lang == "en":
        concepts = [
            Concept(c.word, alts)
            for c in _english_concepts(norm, reader)
            if c.word.lower() not in names and (alts := tuple(a for a in c.alternatives if a and all(content(t) for t in a)))
        ]
    else:
        compounds = [tuple(t for t in run if content(t)) for run in content_compounds(norm)]
        concepts = [Concept("".join(run), (run,)) for run in dict.fromkeys(r for r in compounds if r)]
    ja_terms = tuple(dict.fromkeys("".join(a) for c in concepts for a in c.alternatives)) if lang == "en" else ()
    topic = tuple(dict.fromkeys(t for c in concepts for a in c.alternatives for t in a))
    tokens = own_tokens + [year_token(y) for y in years + calendar] + [ENGLISH[p].lower() for p in prefectures]
    dense_text = expand_years(norm)
    if lang == "en":
        tokens += [t for t in topic if t not in tokens]
    if lang == "en" and ja_terms:
        # the dense retriever and the sentence scores also see the Japanese words (retrieval rose on
        # all four English sets, docs/retrieval.md)
        dense_text = f"{dense_text} {' '.join(ja_terms)}"
    return Query(
        question=question,
        text=norm,
        lang=lang,
        prefectures=prefectures,
        years=years,
        calendar_years=calendar,
        measure=measure_of(norm),
        measures=measures_of(norm),
        expects=expect_of(norm),
        topic=topic,
        concepts=tuple(concepts),
        tokens=tuple(tokens),
        bigrams=tuple(char_bigrams(norm)),  # English questions' hybrid search does not use them (rag.query.fusion)
        dense_text=dense_text,
        ja_terms=ja_terms,
    )


def _leans_on(query: Query, previous: Query) -> Query:
    """A follow-up ("その実績は？", "what about FY2021?") keeps the conversation's subject and
    fills what it leaves out."""
    own_topic = tuple(t for t in query.topic if t not in ("その", "それ"))
    context = f"{previous.context} {previous.question}".strip()
    expects = query.expects
    if expects in (Expect.VALUE, Expect.PASSAGE) and previous.expects not in (Expect.PASSAGE,):
        expects = previous.expects if query.measure in (None, previous.measure) else query.expects
    return replace(
        query,
        prefectures=query.prefectures or previous.prefectures,
        years=query.years or previous.years,
        calendar_years=query.calendar_years or previous.calendar_years,
        measure=query.measure or previous.measure,
        measures=query.measures or previous.measures,
        expects=expects,
        topic=tuple(dict.fromkeys(previous.topic + own_topic)),
        concepts=previous.concepts
        + tuple(c for c in query.concepts if c not in previous.concepts and c.word not in ("その", "それ")),
        tokens=query.tokens + tuple(t for t in previous.tokens if t not in query.tokens),
        bigrams=query.bigrams + previous.bigrams,
        dense_text=f"{previous.dense_text} {query.dense_text}",
        ja_terms=tuple(dict.fromkeys(previous.ja_terms + query.ja_terms)),
        followup=True,
        context=context,
    )


def _is_followup(query: Query) -> bool:
    own_topic = [t for t in query.topic if t not in ("その", "それ")]
    return bool(_FOLLOWUP.search(query.text)) or not own_topic


def understand(question: str, history: Sequence[str] = (), scope: Scope | None = None, reader: Reader | None = None) -> Query:
    """Read a question; a follow-up takes what it leaves out (prefecture, years, measure, topic)
    from the conversation, read oldest first over at most MAX_HISTORY earlier questions."""
    text = check_question(question)
    query = _read(text, reader)
    earlier = [h for h in list(history or ())[-MAX_HISTORY:] if _readable(h)]
    context: Query | None = None
    for h in earlier:
        if len(h) > MAX_QUESTION_CHARS:
            continue
        turn = _read(h, reader)
        context = _leans_on(turn, context) if context is not None and _is_followup(turn) else turn
    if context is not None and _is_followup(query):
        query = _leans_on(query, context)
    elif context is None and _REFERS_BACK.search(query.text) and len(query.topic) <= 1:
        query = replace(query, dangling=True)
    return replace(query, scope=scope or Scope())

"""Question understanding: prefecture, fiscal years, what is measured (target /
actual / budget), the topic, and follow-ups that lean on the previous question."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from rag.eras import years_in
from rag.glossary import is_english, japanese_terms
from rag.prefectures import ENGLISH, mentioned_in_question
from rag.tokenize import tokenize

_MEASURES = (
    ("budget", re.compile(r"(?i)予算|予算額|budget|how much was (?:budgeted|allocated)")),
    ("actual", re.compile(r"(?i)実績|実績値|actual|result|achieved|how many were|was the rate")),
    ("target", re.compile(r"(?i)目標|目標値|目指|target|goal|aim")),
)
_FOLLOWUP = re.compile(
    r"(?i)^\s*(?:その|それ|そちら|同じ|では|じゃあ|また|and\b|what about|how about|then\b|same\b|its\b|it\b)"
    r"|^(?:その|それの)?(?:実績|目標|予算)(?:値|額)?(?:は|って)?[?？]?$"
)
# words that say what is asked, not what it is about
_GENERIC = frozenset(
    "目標 目標値 実績 実績値 予算 予算額 額 値 年度 年 度 何 いくら いくつ どう どの どれ 県 事業 "
    "target actual budget fy what how many much value result 令和 平成 昭和 元".split()
)


@dataclass(frozen=True)
class Frame:
    question: str  # as asked
    lang: str  # "ja" | "en"
    prefectures: tuple[str, ...]
    years: tuple[int, ...]
    measure: str | None  # target | actual | budget
    topic: tuple[str, ...]  # content tokens, Japanese where the question was English
    ja_terms: tuple[str, ...]  # glossary terms added for an English question
    followup: bool = False
    context: str = ""  # the earlier question a follow-up leans on

    @property
    def search_text(self) -> str:
        """What retrieval sees: the question, the context it leans on, and glossary terms."""
        parts = [self.question]
        if self.context:
            parts.insert(0, self.context)
        if self.ja_terms:
            parts.append(" ".join(self.ja_terms))
        if self.followup and self.years:
            parts.append(" ".join(f"{y}年度" for y in self.years))
        return " ".join(parts)


def _measure(text: str) -> str | None:
    for name, pattern in _MEASURES:
        if pattern.search(text):
            return name
    return None


def _frame(question: str) -> Frame:
    norm = unicodedata.normalize("NFKC", question)
    lang = "en" if is_english(norm) else "ja"
    ja = tuple(japanese_terms(norm)) if lang == "en" else ()
    prefectures = tuple(mentioned_in_question(norm))
    names = set()
    for p in prefectures:
        names |= set(tokenize(p)) | {ENGLISH[p].lower()}
    # an English question's topic is its Japanese glossary terms: that is what the documents say
    topic_source = " ".join(ja) if lang == "en" else norm
    topic = tuple(
        t
        for t in dict.fromkeys(tokenize(topic_source))
        if t not in _GENERIC and t not in names and not t.replace(".", "").isdigit() and not t.startswith("fy")
    )
    return Frame(question, lang, prefectures, tuple(years_in(norm)), _measure(norm), topic, ja)


def understand(question: str, history: list[str] | None = None) -> Frame:
    """Read a question; when it is a follow-up ("その実績は？", "and the actual?"), fill
    what it leaves out (prefecture, years, topic) from the conversation so far."""
    frame = _frame(question)
    if not history:
        return frame
    previous = understand(history[-1], history[:-1])
    own_topic = [t for t in frame.topic if t not in ("その", "それ")]
    is_followup = bool(_FOLLOWUP.search(unicodedata.normalize("NFKC", question))) or not own_topic
    if not is_followup:
        return frame
    return replace(
        frame,
        prefectures=frame.prefectures or previous.prefectures,
        years=frame.years or previous.years,
        measure=frame.measure or previous.measure,
        topic=tuple(dict.fromkeys(previous.topic + tuple(own_topic))),
        ja_terms=tuple(dict.fromkeys(previous.ja_terms + frame.ja_terms)),
        followup=True,
        context=previous.context + " " + previous.question if previous.context else previous.question,
    )

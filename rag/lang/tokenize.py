"""Word tokens for BM25: fugashi + unidic-lite on NFKC text.

Numbers survive whole ("22,400" -> "22400", "20.0"), one-character nouns such as
県 are kept, and particles, auxiliaries and punctuation are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DROP_POS = {"補助記号", "空白", "助詞", "助動詞"}
_KEEP_SYMBOLS = {"%", "％"}
_EN_STOP = frozenset(
    "a an the of in on at to for from by with and or is are was were be been what which who whom "
    "whose when where why how does do did its it this that these those s 's ? me tell about as".split()
)


@lru_cache(maxsize=1)
def _tagger():
    import fugashi

    return fugashi.Tagger()


def _prepare(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return _THOUSANDS.sub("", text)


def tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    prev_number = False
    pending_dot = False
    for word in _tagger()(_prepare(text)):
        surface = word.surface
        pos1 = word.feature.pos1
        if surface.isdigit():
            if pending_dot and tokens:
                tokens[-1] = f"{tokens[-1]}.{surface}"
                pending_dot = False
                prev_number = True
                continue
            tokens.append(surface)
            prev_number = True
            continue
        if surface == "." and prev_number:
            pending_dot = True
            continue
        pending_dot = False
        prev_number = False
        if surface in _KEEP_SYMBOLS:
            tokens.append("%")
            continue
        if pos1 in _DROP_POS or not surface.strip():
            continue
        if not any(ch.isalnum() for ch in surface):
            continue
        if surface in _EN_STOP:
            continue
        tokens.append(surface)
    return tokens


# what a question is about: nouns and noun-like words, not verbs, auxiliaries or numbers
_CONTENT_POS = {"名詞", "形状詞", "接頭辞", "記号"}
_NOT_CONTENT_POS2 = {"数詞", "代名詞"}


def content_tokens(text: str) -> list[str]:
    """The content words of `text` in the same form as `tokenize` gives them: nouns (not
    numerals or pronouns), adjectival nouns, and Latin words; verbs and endings are dropped."""
    out: list[str] = []
    for word in _tagger()(_prepare(text)):
        surface = word.surface
        if not any(ch.isalnum() for ch in surface) or surface in _EN_STOP:
            continue
        f = word.feature
        if (surface.isascii() and surface.isalpha()) or (
            f.pos1 in _CONTENT_POS and f.pos2 not in _NOT_CONTENT_POS2 and not surface.isdigit()
        ):
            out.append(surface)
    return out


def content_compounds(text: str) -> list[tuple[str, ...]]:
    """Runs of content words with nothing between them (スマート 自治 体 推進 事業): the noun
    compounds a question names, each as its tokens."""
    out: list[tuple[str, ...]] = []
    run: list[str] = []
    for word in _tagger()(_prepare(text)):
        surface = word.surface
        f = word.feature
        is_content = (
            any(ch.isalnum() for ch in surface)
            and surface not in _EN_STOP
            and (
                (surface.isascii() and surface.isalpha())
                or (f.pos1 in _CONTENT_POS and f.pos2 not in _NOT_CONTENT_POS2 and not surface.isdigit())
            )
        )
        if is_content:
            run.append(surface)
        elif run:
            out.append(tuple(run))
            run = []
    if run:
        out.append(tuple(run))
    return out


_RUN = re.compile(r"[^\W_]+")


def char_bigrams(text: str) -> list[str]:
    """Overlapping character pairs within each run of letters, digits, kana and kanji, for the
    second BM25 (words the dictionary splits or joins differently still share pairs); a run of
    one character (県, a bare digit) stays as it is."""
    out: list[str] = []
    for run in _RUN.findall(_prepare(text)):
        out += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
    return out


@lru_cache(maxsize=8192)
def token_set(text: str) -> frozenset[str]:
    """`tokenize` as a set, cached: the reader tokenizes the same retrieved sentences question
    after question (a warm ask spent a fifth of its time here)."""
    return frozenset(tokenize(text))

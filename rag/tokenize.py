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

"""English words -> the Japanese terms documents use, from JMdict.

JMdict (the Electronic Dictionary Research and Development Group's Japanese-English
dictionary, CC BY-SA 4.0) comes from PyPI as `jamdict-data`. `build_lexicon` reads its
SQLite file once into a small lookup table (English gloss -> Japanese headwords, common
words first); `Lexicon.terms` looks English phrases up in it and keeps the terms the
indexed documents actually contain, so a word with many senses ("target": 目標, 対象,
標的, ターゲット …) only brings the readings a plan document uses. Plan-document terms a
dictionary lacks (e-approval → 電子決裁) come from `rag.lang.glossary`.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

from rag.errors import ModelUnavailableError

LEXICON_FILE = "jmdict-en-ja-v3.sqlite"
_PRIORITY = ("news1", "ichi1", "spec1", "spec2", "gai1", "news2", "ichi2", "gai2")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_WORD = re.compile(r"[a-z][a-z\-]*[a-z]|[a-z]")
# English words that carry no topic: question words, auxiliaries, pronouns, measure words
# that the question reader handles itself (target, budget, … live in rag.lang.vocab)
STOP = frozenset(
    """a an the of in on at to for from by with and or but not no nor is are was were be been being am
    what which who whom whose when where why how does do did done doing its it this that these those
    s me my we our us you your they them their he she his her i as than then there here about into
    over under per via can could should would will shall may might must has have had having
    tell give list explain describe please show mention mentioned state stated say said
    any some each every all both either neither other such same also only just very much many more most
    between among during after before within without through against up down out off again further
    once too so if while whether because since until upon
    japan japanese year years fiscal fy reiwa heisei showa prefecture prefectural
    january february march april june july august september october november december
    target targets goal goals aim aims budget budgets budgeted actual actuals value values figure figures amount
    result results outcome outcomes achieved achievement
    looking look regarding specific specifically detail details detailed example examples particular particularly
    overall respectively following based according provide provided given kind kinds type types way ways thing things
    include includes including included like well make made take taken use used""".split()
)


def _jmdict_path() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("jamdict_data")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError("the JMdict data is not installed: pip install jamdict-data")
    path = Path(next(iter(spec.submodule_search_locations))) / "jamdict.db"
    if not path.exists():
        raise ModelUnavailableError(f"{path} is missing: reinstall jamdict-data")
    return path


def gloss_keys(gloss: str) -> list[str]:
    """The lookup keys of one JMdict gloss: lower case, no parentheses, no leading "to "."""
    text = _PAREN.sub(" ", gloss.lower())
    out = []
    for part in re.split(r"[;,/]", text):
        words = _WORD.findall(part.removeprefix(" ").removeprefix("to "))
        if words and words[0] == "to" and len(words) > 1:
            words = words[1:]
        if 1 <= len(words) <= 3:
            out.append(" ".join(words))
    return out


def build_lexicon(target: Path) -> Path:
    """Write the English -> Japanese table next to the model: (key, term, rank), where a
    lower rank is a better reading (common word, earlier sense)."""
    source = sqlite3.connect(f"file:{_jmdict_path()}?mode=ro", uri=True)
    common = {
        row[0] for row in source.execute(f"SELECT kid FROM KJP WHERE text IN ({','.join('?' * len(_PRIORITY))})", _PRIORITY)
    }
    kana_common = {
        row[0] for row in source.execute(f"SELECT kid FROM KNP WHERE text IN ({','.join('?' * len(_PRIORITY))})", _PRIORITY)
    }
    forms: dict[int, list[tuple[str, bool]]] = {}
    for kid, idseq, text in source.execute("SELECT ID, idseq, text FROM Kanji ORDER BY ID"):
        forms.setdefault(idseq, []).append((text, kid in common))
    kana: dict[int, list[tuple[str, bool]]] = {}
    for kid, idseq, text, _ in source.execute("SELECT ID, idseq, text, nokanji FROM Kana ORDER BY ID"):
        kana.setdefault(idseq, []).append((text, kid in kana_common))
    # senses JMdict marks "usually written using kana alone" (煙草 → たばこ, 味噌 → みそ): their kana
    # forms come first, as documents write them
    kana_senses = {row[0] for row in source.execute("SELECT sid FROM misc WHERE text = 'word usually written using kana alone'")}
    sense_no: dict[int, int] = {}  # sense id -> its place in the entry (0 = first sense)
    seen_in_entry: dict[int, int] = {}
    for sid, idseq in source.execute("SELECT ID, idseq FROM Sense ORDER BY ID"):
        sense_no[sid] = seen_in_entry.get(idseq, 0)
        seen_in_entry[idseq] = sense_no[sid] + 1
    rows: dict[tuple[str, str], int] = {}
    for sid, idseq, gloss in source.execute(
        "SELECT s.ID, s.idseq, g.text FROM Sense s JOIN SenseGloss g ON g.sid = s.ID WHERE g.lang = 'eng' ORDER BY s.ID"
    ):
        n = sense_no[sid]
        headwords = forms.get(idseq) or [(t, c) for t, c in kana.get(idseq, []) if re.search(r"[ァ-ヺ]", t)]
        if sid in kana_senses and idseq in kana:
            headwords = kana[idseq][:1] + headwords
        if not headwords:
            continue
        for key in gloss_keys(gloss):
            for i, (term, is_common) in enumerate(headwords[:2]):
                rank = (0 if is_common else 10) + i + min(n, 5)
                if rows.get((key, term), 99) > rank:
                    rows[(key, term)] = rank
    source.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".lexicon-", dir=target.parent)
    os.close(fd)
    out = sqlite3.connect(tmp)
    out.execute("CREATE TABLE lexicon (en TEXT, ja TEXT, rank INTEGER)")
    out.executemany("INSERT INTO lexicon VALUES (?, ?, ?)", ((k, t, r) for (k, t), r in rows.items()))
    out.execute("CREATE INDEX lexicon_en ON lexicon (en)")
    out.commit()
    out.close()
    os.replace(tmp, target)
    return target


def _stems(word: str) -> list[str]:
    """The word and its plain forms: plurals, -ing, -ed, British spellings."""
    out = [word]
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    elif word.endswith("es") and len(word) > 4 and word[-3] in "sxzh":
        out.append(word[:-2])
    elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        out.append(word[:-1])
    if word.endswith("ing") and len(word) > 5:
        out += [word[:-3], word[:-3] + "e"]
    if word.endswith("ed") and len(word) > 4:
        out += [word[:-2], word[:-1], word[:-2].removesuffix(word[-3]) if word[-3] == word[-4] else word[:-2]]
    if "is" in word:
        out.append(word.replace("isation", "ization").replace("ise", "ize"))
    return list(dict.fromkeys(out))


class Lexicon:
    """Looks English phrases up in the JMdict table; `known` says whether the indexed
    documents contain a Japanese term, so only their readings are kept."""

    def __init__(self, path: Path, per_word: int = 3) -> None:
        self.path = path
        self.per_word = per_word
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)

    @lru_cache(maxsize=4096)  # noqa: B019 - one Lexicon per process; the cache is the point
    def lookup(self, phrase: str) -> tuple[str, ...]:
        *head, last = phrase.split(" ")
        forms = [" ".join([*head, stem]) for stem in _stems(last)]
        rows = self._db.execute(
            f"SELECT ja, min(rank) AS r FROM lexicon WHERE en IN ({','.join('?' * len(forms))}) GROUP BY ja ORDER BY r, length(ja) DESC",
            forms,
        ).fetchall()
        return tuple(r[0] for r in rows)

    def terms(self, text: str, df: Callable[[str], int] = lambda t: 1) -> list[str]:
        return list(dict.fromkeys(t for _, terms in self.phrases(text, df) for t in terms))

    def phrases(self, text: str, df: Callable[[str], int] = lambda t: 1) -> list[tuple[str, list[str]]]:
        """(English phrase, Japanese terms) for the English content of `text`: longest phrases
        first, for each the `per_word` readings the documents use most (`df`: in how many
        passages a term occurs; 0 drops it). One-character readings are too ambiguous to keep."""
        words = _WORD.findall(text.lower())
        out: list[tuple[str, list[str]]] = []
        covered: set[int] = set()  # words inside a phrase the dictionary knows are not looked up again
        for n in (3, 2, 1):
            for i in range(len(words) - n + 1):
                gram = words[i : i + n]
                if covered & set(range(i, i + n)) or gram[0] in STOP or gram[-1] in STOP:
                    continue
                candidates = [t for t in self.lookup(" ".join(gram))[:12] if len(t) > 1]
                if not candidates and n > 1:
                    candidates = self._compound(gram)
                scored = [(df(t), k, t) for k, t in enumerate(candidates)]
                found = [t for f, _, t in sorted((x for x in scored if x[0] > 0), key=lambda x: (-x[0], x[1]))][: self.per_word]
                if found:
                    out.append((" ".join(gram), found))
                if found and n > 1:
                    covered.update(range(i, i + n))
        return out

    def _compound(self, words: list[str]) -> list[str]:
        """A compound of an acronym and a loanword the dictionary lacks ("DX center" -> DXセンター,
        "AI chatbot" -> AIチャットボット): the acronym as written, the katakana reading of the rest."""
        if not any(len(w) <= 4 and w.isalpha() and not self.lookup(w) for w in words):
            return []
        parts: list[list[str]] = []
        for w in words:
            if len(w) <= 4 and w.isalpha() and not self.lookup(w):
                parts.append([w.upper()])
                continue
            kana = [t for t in self.lookup(w) if re.fullmatch(r"[ァ-ヺー]+", t)][:2]
            if not kana:
                return []
            parts.append(kana)
        combos = [""]
        for options in parts:
            combos = [c + o for c in combos for o in options]
        return combos


@lru_cache(maxsize=4)
def load_lexicon(models_dir: Path) -> Lexicon | None:
    """The lexicon next to the models, built on first use; None when JMdict is not installed."""
    path = models_dir / LEXICON_FILE
    if not path.exists():
        try:
            build_lexicon(path)
        except ModelUnavailableError:
            return None
    return Lexicon(path)


def english_words(text: str) -> Iterable[str]:
    return (w for w in _WORD.findall(text.lower()) if w not in STOP)

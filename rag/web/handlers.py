"""What the app's events do, as plain functions over plain data (no gradio here), so each can
be tested alone. A conversation is a list of turns, `{"question", "answer", "error"}`, where
`answer` is `Answer.to_dict()`; the chat shown and the history a follow-up reads are both
derived from it."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError
from rag.query.understand import MAX_HISTORY, MAX_QUESTION_CHARS
from rag.types import Answer
from rag.web.render import answer_markdown, escape_markdown, plain_text
from rag.web.strings import t

ALL = ""  # the filters' "no filter" value


def history(turns: list[dict]) -> list[str]:
    """The earlier questions a follow-up may lean on (answered ones only)."""
    return [x["question"] for x in turns if x.get("answer")][-MAX_HISTORY:]


def chat_messages(turns: list[dict], lang: str = "ja") -> list[dict]:
    out = []
    for k, turn in enumerate(turns):
        out.append({"role": "user", "content": escape_markdown(turn["question"])})
        if turn.get("answer"):
            out.append({"role": "assistant", "content": answer_markdown(Answer.from_dict(turn["answer"]), k, lang)})
        else:
            out.append({"role": "assistant", "content": f"⚠️ {escape_markdown(turn.get('error') or '')}"})
    return out


@dataclass(frozen=True)
class Asked:
    turns: list[dict]
    warning: str | None = None  # shown as a toast; the conversation is unchanged


def ask(rag, question: str | None, turns: list[dict], prefecture: str | None, document: str | None, lang: str = "ja") -> Asked:
    """Answer `question` in the conversation `turns` with the filters; errors become a turn
    that says what went wrong (never a traceback)."""
    *_, last = ask_stream(rag, question, turns, prefecture, document, lang)
    return last


def ask_stream(
    rag, question: str | None, turns: list[dict], prefecture: str | None, document: str | None, lang: str = "ja"
) -> Iterator[Asked]:
    """As `ask`, yielding the conversation each time the answer grows (a generated answer arrives
    one verified sentence at a time); the last one is final."""
    question = (question or "").strip()
    if not question:
        yield Asked(turns, t(lang, "empty_question"))
        return
    if len(question) > MAX_QUESTION_CHARS:
        yield Asked(turns, t(lang, "too_long", n=len(question), limit=MAX_QUESTION_CHARS))
        return
    try:
        for answer in rag.stream(question, prefecture or None, document or None, history(turns)):
            yield Asked([*turns, {"question": question, "answer": answer.to_dict(), "error": None}])
    except RagError as e:
        yield Asked([*turns, {"question": question, "answer": None, "error": str(e)}])


def turn_of_message(index: int | list | tuple | None) -> int | None:
    """The turn a chat message belongs to (messages alternate question, answer)."""
    if isinstance(index, list | tuple):
        index = index[0] if index else None
    return None if index is None else int(index) // 2


def copy_text(turns: list[dict], selected: int | None, lang: str = "ja") -> str:
    """The selected (or last) answer as plain text with its source lines."""
    answered = [k for k, x in enumerate(turns) if x.get("answer")]
    if not answered:
        return ""
    k = selected if selected in answered else answered[-1]
    return plain_text(Answer.from_dict(turns[k]["answer"]), lang)


def choices(rag, prefecture: str | None, lang: str = "ja") -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The filters' options from the index serving now; the documents narrowed to the prefecture."""
    info = rag.info()
    prefs = [(t(lang, "all"), ALL)] + [(p, p) for p in info["prefectures"]]
    docs = [(t(lang, "all"), ALL)] + [
        (f"{d['title']} ({d['doc_id']})", d["doc_id"])
        for d in info["documents"]
        if not prefecture or d["meta"].get("prefecture") == prefecture
    ]
    return prefs, docs


# ---- feedback ------------------------------------------------------------------------------
def record_feedback(
    path: Path, turns: list[dict], turn: int | None, rating: str | None, comment: str, build_id: str
) -> dict | None:
    """Append one JSON line: the question, the answer, its citations, the build, 👍/👎 and the comment.
    The turn remembers its rating, so a comment sent after a 👎 is recorded with that 👎."""
    if turn is None or not (0 <= turn < len(turns)) or not turns[turn].get("answer"):
        return None
    if rating is None:
        rating = turns[turn].get("rating")
    else:
        turns[turn]["rating"] = rating
    a = turns[turn]["answer"]
    record = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "question": turns[turn]["question"],
        "history": [x["question"] for x in turns[:turn]][-MAX_HISTORY:],
        "rating": rating,
        "comment": (comment or "").strip()[:2000],
        "answer": a["answer"],
        "short_answer": a.get("short_answer"),
        "answer_type": a.get("answer_type"),
        "citations": [
            {"n": c["n"], "doc_id": c["doc_id"], "page": c.get("page"), "chunk_id": c["chunk_id"], "text": c["text"]}
            for c in a.get("citations", [])
        ],
        "build_id": build_id,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return record


def read_feedback(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def token_id(token: str) -> str:
    """Who did it, in the audit log, without writing the token down."""
    return hashlib.sha256(token.encode()).hexdigest()[:12] if token else "-"


def audit(path: Path, token: str, action: str, target: str, result: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "who": token_id(token),
        "action": action,
        "file": target,
        "result": result,
    }
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")

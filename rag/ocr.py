"""Text from page images, for PDF pages whose text layer is missing or unusable.

`usable(text)` tells a real text layer from what some PDFs carry instead: glyph names
(`/edGj0 /edGj1`), `(cid:123)` codes, private-use or replacement characters. Such pages,
and pages with no text at all, are read by OCR when a build allows it (`--ocr auto`, the
default; `force` reads every page; `off` never). The engine and its models come from PyPI
(see docs/ocr.md); nothing is downloaded at run time.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rag.errors import RagError

OCR_MODES = ("auto", "off", "force")

_GLYPH_NAME = re.compile(r"/[A-Za-z][A-Za-z0-9_.]{1,15}")
_URL = re.compile(r"(?:https?://|www\.)[\x21-\x7e]+")
_CID = re.compile(r"\(cid:\d+\)")
_JUNK = re.compile(r"[\ufffd\ue000-\uf8ff]")


class OcrError(RagError):
    pass


def usable(text: str) -> bool:
    """Whether a page's text layer is text a reader can use: not empty, and not mostly glyph
    names, CID codes or private-use/replacement characters."""
    body = "".join(unicodedata.normalize("NFKC", text).split())
    if len(body) < 2:
        return False
    body = _URL.sub("u", body)  # a link's path is not a glyph name
    junk = sum(len(m) for m in _GLYPH_NAME.findall(body)) + sum(len(m) for m in _CID.findall(body))
    junk += len(_JUNK.findall(body))
    return junk / len(body) < 0.3


@dataclass(frozen=True)
class OcrLine:
    text: str
    box: tuple[float, float, float, float]  # left, top, right, bottom in image pixels
    score: float

"""The small frozen types that pass between pipeline stages:
Document (pages of text) -> Chunk -> Hit -> Answer (with Citations); DocRecord is what the index
keeps of a Document once it is chunked."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from rag.lang.vocab import Measure


@dataclass(frozen=True)
class DocumentMeta:
    prefecture: str | None = None
    title: str | None = None
    issuer: str | None = None
    fiscal_year: str | None = None
    date: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Page:
    number: int | None  # 1-based page number; None when the format has no pages
    text: str  # the original extracted text, shown to users
    ocr: bool = False  # the text was read from the page's image, not its text layer


@dataclass(frozen=True)
class Document:
    doc_id: str  # path relative to the corpus folder, with forward slashes
    content_hash: str
    meta: DocumentMeta
    pages: tuple[Page, ...]
    warnings: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return self.meta.title or self.doc_id


@dataclass(frozen=True)
class DocRecord:
    doc_id: str
    content_hash: str
    meta: DocumentMeta
    pages: int
    chunks: int
    warnings: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return self.meta.title or self.doc_id

    @property
    def prefecture(self) -> str | None:
        return self.meta.prefecture

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> DocRecord:
        return cls(
            d["doc_id"], d["content_hash"], DocumentMeta(**d["meta"]), d["pages"], d["chunks"], tuple(d.get("warnings", ()))
        )


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    page: int | None
    start: int  # character span in the page's original text
    end: int
    text: str  # original text, for display and citations
    search_text: str  # normalised text used for matching and embedding
    heading: str | None = None
    years: tuple[int, ...] = ()  # fiscal years mentioned, as Western years
    lead: int = 0  # characters at the start of `text` that end the previous chunk (overlap)
    ocr: bool = False  # read by OCR from the page's image

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Chunk:
        return cls(**{**d, "years": tuple(d.get("years", ()))})


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    chunk: Chunk
    title: str
    prefecture: str | None
    dense_rank: int | None = None
    bm25_rank: int | None = None


@dataclass(frozen=True)
class Citation:
    n: int
    doc_id: str
    title: str
    prefecture: str | None
    page: int | None
    text: str
    score: float
    chunk_id: str
    highlights: tuple[tuple[int, int], ...] = ()  # spans in `text` that support the answer
    section: str | None = None  # the heading the passage sits under
    ocr: bool = False  # the passage was read by OCR (it may hold misread characters)

    def to_dict(self) -> dict:
        return asdict(self) | {"highlights": [list(h) for h in self.highlights]}

    @classmethod
    def from_dict(cls, d: dict) -> Citation:
        names = cls.__dataclass_fields__
        return cls(
            **{k: v for k, v in d.items() if k in names} | {"highlights": tuple(tuple(h) for h in d.get("highlights", ()))}
        )


# the answer types whose short answer is a stated value (a figure, date, name or list)
GROUNDED_TYPES = ("value", "date", "name", "list")


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    short_answer: str | None
    answerable: bool
    citations: tuple[Citation, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = ()
    answer_type: str = "passage"  # value | date | name | list | passage | none | generated
    grounded: bool = False  # one cited span states the short answer for everything the question asks
    # a generated answer (or one that fell back from generation): model, verified sentences, dropped ones
    generator: dict | None = None

    @property
    def headline(self) -> str | None:
        """The short answer a surface shows as the answer itself (in bold, first line): a value a
        cited span states, or the values of documents that disagree, each from its own cited span
        (then `grounded` is False: no one span states it); None for passages, refusals and
        generated text."""
        if self.short_answer and self.answerable and self.answer_type in GROUNDED_TYPES:
            return self.short_answer
        return None

    @property
    def about(self) -> dict[str, str | None]:
        """The prefecture and document a grounded answer is about (its first citation's)."""
        if not self.citations or self.answer_type == "none":
            return {"prefecture": None, "doc_id": None, "title": None}
        c = self.citations[0]
        return {"prefecture": c.prefecture, "doc_id": c.doc_id, "title": c.title}

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.answer,
            "short_answer": self.short_answer,
            "answer_type": self.answer_type,
            "grounded": self.grounded,
            "answerable": self.answerable,
            "about": self.about,
            "citations": [c.to_dict() for c in self.citations],
            "notes": list(self.notes),
        } | ({"generator": self.generator} if self.generator is not None else {})

    @classmethod
    def from_dict(cls, d: dict) -> Answer:
        return cls(
            d["question"],
            d["answer"],
            d.get("short_answer"),
            bool(d.get("answerable")),
            tuple(Citation.from_dict(c) for c in d.get("citations", ())),
            tuple(d.get("notes", ())),
            d.get("answer_type", "passage"),
            bool(d.get("grounded")),
            d.get("generator"),
        )


@dataclass(frozen=True)
class Fact:
    """A figure stated in a passage for an indicator and fiscal year (read at index time)."""

    chunk_id: str
    doc_id: str
    indicator: str  # as written (normalised), e.g. "公文書の電子化率(電子決裁システム利用率)"
    year: int  # Western fiscal year
    measure: Measure
    value: str  # as normalised, e.g. "100", "177,051"
    unit: str  # "%", "千円", …
    start: int  # span of the value in the chunk's original text
    end: int
    label: str | None = None  # KGI / KPI-1 / project heading
    indicator_original: str | None = None  # the indicator as written in the document
    words: tuple[str, ...] = ()  # tokens of the indicator and label, for matching questions

    @property
    def display(self) -> str:
        return f"{self.value}{self.unit}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Fact:
        return cls(**{**d, "measure": Measure(d["measure"]), "words": tuple(d.get("words", ()))})

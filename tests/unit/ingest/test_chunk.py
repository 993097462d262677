import itertools

import pytest

from rag.ingest.chunk import ChunkSettings, chunk_document
from rag.types import Document, DocumentMeta, Page
from tests.conftest import TOKUSHIMA_TEXT


def doc(*pages: str, numbered: bool = False) -> Document:
    return Document("d.txt", "h", DocumentMeta(), tuple(Page(i + 1 if numbered else None, t) for i, t in enumerate(pages)))


def test_chunk_text_is_the_original_span():
    d = doc(TOKUSHIMA_TEXT)
    for c in chunk_document(d, ChunkSettings(max_chars=120, min_chars=20)):
        assert d.pages[0].text[c.start : c.end] == c.text
        assert c.text.strip()


def test_year_header_stays_with_its_values():
    filler = "本県ではデジタル化を進めている。" * 12
    text = filler + "\n\n" + TOKUSHIMA_TEXT.split("令和２年度")[1].join(["令和２年度", ""]) + "\n\n" + filler
    chunks = chunk_document(doc(text), ChunkSettings(max_chars=120, min_chars=20))
    holding = [c for c in chunks if "令和２年度" in c.text]
    assert len(holding) == 1
    assert "１００％" in holding[0].text and "目標" in holding[0].text
    assert holding[0].years == (2020, 2021, 2022, 2023, 2024)


def test_long_prose_is_cut_at_sentence_ends():
    text = "".join(f"これは{i}番目の文です。" for i in range(100))
    chunks = chunk_document(doc(text), ChunkSettings(max_chars=100, min_chars=20))
    assert len(chunks) > 5
    assert all(c.search_text.endswith("。") for c in chunks)
    assert all(len(c.text) <= 150 for c in chunks)


def test_pages_are_kept_and_ids_are_unique():
    chunks = chunk_document(doc("一頁目の本文です。", "二頁目の本文です。", numbered=True))
    assert [c.page for c in chunks] == [1, 2]
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_heading_is_carried():
    text = "【主担当部局：総務部】\n\n" + "本文です。" * 30 + "\n\n" + "続きの本文です。" * 30
    chunks = chunk_document(doc(text), ChunkSettings(max_chars=100, min_chars=20))
    assert chunks[-1].heading == "【主担当部局：総務部】"


def test_search_text_is_normalised_for_matching():
    (c,) = chunk_document(doc("ＫＰＩ－１：１，８００件"))
    assert c.search_text == "KPI-1:1,800件"
    assert c.text == "ＫＰＩ－１：１，８００件"


@pytest.mark.parametrize(
    "kwargs", [{"max_chars": 10}, {"max_chars": 100, "min_chars": 200}, {"max_chars": 400, "table_max_chars": 100}]
)
def test_bad_settings_raise(kwargs):
    with pytest.raises(ValueError):
        ChunkSettings(**kwargs)


def test_overlap_repeats_the_previous_sentences_and_marks_them():
    text = "".join(f"これは{i}番目の文です。" for i in range(60))
    plain = chunk_document(doc(text), ChunkSettings(max_chars=100, min_chars=20))
    chunks = chunk_document(doc(text), ChunkSettings(max_chars=100, min_chars=20, overlap_chars=30))
    assert [c.lead for c in plain] == [0] * len(plain)
    assert chunks[0].lead == 0 and all(0 < c.lead <= 30 for c in chunks[1:])
    for prev, c in itertools.pairwise(chunks):
        assert prev.text.endswith(c.text[: c.lead].strip())  # the lead is the previous chunk's tail
        assert c.text[c.lead - 1] == "。"  # and it starts at a sentence boundary
    # without the leads, the chunks are the plain chunking, text for text
    assert [c.text[c.lead :] for c in chunks] == [c.text for c in plain]


def test_tables_are_never_overlapped():
    filler = "本県ではデジタル化を進めている。" * 12
    text = filler + "\n\n" + TOKUSHIMA_TEXT.split("令和２年度")[1].join(["令和２年度", ""]) + "\n\n" + filler
    chunks = chunk_document(doc(text), ChunkSettings(max_chars=120, min_chars=20, overlap_chars=40))
    holding = [c for c in chunks if "令和２年度" in c.text]
    assert len(holding) == 1 and holding[0].lead == 0
    after = chunks[chunks.index(holding[0]) + 1]
    assert after.lead == 0  # what follows a table does not repeat table cells

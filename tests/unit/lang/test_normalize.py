import pytest

from rag.lang.normalize import join_spaced_letters, match_key, nfkc, normalize_for_matching

NFKC = [
    ("ＫＰＩ－１", "KPI-1"),
    ("１００％", "100%"),
    ("\u2f00\u2f8f", "一行"),  # Kangxi radicals ⼀⾏ look like kanji but are not
    ("ｶﾞｲﾄﾞ", "ガイド"),  # half-width kana with voiced marks compose
    ("令和４年度", "令和4年度"),
]


@pytest.mark.parametrize(("raw", "expected"), NFKC)
def test_nfkc(raw, expected):
    assert nfkc(raw).text == expected


@pytest.mark.parametrize("raw", ["ｶﾞｲﾄﾞ ＫＰＩ", "電 子 決 裁 の推進", "a\nb\n\nc", "１，８００件"])
def test_offsets_map_back_to_original(raw):
    nt = normalize_for_matching(raw)
    assert len(nt.offsets) == len(nt.text)
    assert list(nt.offsets) == sorted(nt.offsets)
    assert all(0 <= o < len(raw) for o in nt.offsets)


def test_spaced_letters_are_joined_but_original_span_is_kept():
    raw = "これは 電 子 決 裁 です"
    nt = join_spaced_letters(nfkc(raw))
    assert "電子決裁" in nt.text
    start = nt.text.index("電子決裁")
    s, e = nt.span_in_original(start, start + 4)
    assert raw[s:e] == "電 子 決 裁"


def test_wrapped_sentence_is_joined_and_short_cells_are_not():
    raw = (
        "電子決裁・文書管理システムを活用した公文書の電子化を\n"
        "推進し、2022年度までに100%電子化する。\n"
        "目標\n実績\n"
        "長い文章はこのように折り返されていることが多くあります、\n"
        "次の行に続きます。\n"
    )
    text = normalize_for_matching(raw).text
    assert "電子化を推進し" in text
    assert "目標\n実績" in text


def test_match_key_ignores_width_and_space():
    assert match_key("１００ ％") == match_key("100%")

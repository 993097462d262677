import pytest

from rag.lang.tokenize import char_bigrams, tokenize

CASES = [
    ("徳島県の電子決裁", ["徳島", "県", "電子", "決裁"]),  # one-character noun 県 kept
    ("２０２２年度", ["2022", "年度"]),  # full-width digits
    ("１，８００件", ["1800", "件"]),  # thousands separator
    ("22,400件", ["22400", "件"]),
    ("20.0%", ["20.0", "%"]),  # decimals stay whole
    ("１００％", ["100", "%"]),
    ("What is the TARGET", ["target"]),  # English stop words dropped, lower case
    ("目標は？", ["目標"]),  # particles and punctuation dropped
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_tokenize(text, expected):
    assert tokenize(text) == expected


def test_bare_number_is_a_token():
    assert "7" in tokenize("市町村数は 7 です")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("電子決裁", ["電子", "子決", "決裁"]),
        ("県、７", ["県", "7"]),  # a one-character run stays whole; punctuation splits runs
        ("ＤＸ推進", ["dx", "x推", "推進"]),  # NFKC, lower case
        ("。、！", []),
    ],
)
def test_char_bigrams(text, expected):
    assert char_bigrams(text) == expected


@pytest.mark.parametrize("text", ["徳島県の電子決裁の目標は100%", "令和4年度 22,400件", "KPI 1人当たり処理件数"])
def test_token_set_is_the_tokens_as_a_set_and_cached(text):
    from rag.lang.tokenize import token_set

    assert token_set(text) == frozenset(tokenize(text))
    hits = token_set.cache_info().hits
    token_set(text)
    assert token_set.cache_info().hits == hits + 1

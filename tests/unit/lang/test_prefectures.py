import pytest

from rag.lang.prefectures import PREFECTURES, canonical, detect_in_document, mentioned_in_question

CANONICAL = [
    ("三重", "三重県"),
    ("Mie", "三重県"),
    ("みえ", "三重県"),
    ("三重県", "三重県"),
    ("tokushima", "徳島県"),
    ("東京", "東京都"),
    ("大阪府", "大阪府"),
    ("Atlantis", None),
    ("", None),
]


@pytest.mark.parametrize(("name", "expected"), CANONICAL)
def test_canonical(name, expected):
    assert canonical(name) == expected


QUESTIONS = [
    ("徳島県の2022年度の電子決裁の目標は？", ["徳島県"]),
    ("what is Tokushima's 2022 e-approval target", ["徳島県"]),
    ("みえDXセンターとは", ["三重県"]),
    ("よくみえるようにする", []),  # ordinary hiragana is not Mie
    ("大幅な買越しが見られた月は？", []),  # the kana ending of a kanji word (越し) then が is not しが (Shiga)
    ("デジタルとくしま推進プラン", ["徳島県"]),
    ("やまなしの職員向け研修の受講者数は？", ["山梨県"]),  # a particle may follow a kana name
    ("ひろしまの県証紙はいつ廃止された？", ["広島県"]),
    ("成果がみえない理由は？", []),
    ("そうならないように", []),
    ("岡山県と三重県を比べて", ["岡山県", "三重県"]),
    ("電子決裁の目標は", []),
]


@pytest.mark.parametrize(("question", "expected"), QUESTIONS)
def test_mentioned_in_question(question, expected):
    assert mentioned_in_question(question) == expected


def test_all_47():
    assert len(PREFECTURES) == 47 and len(set(PREFECTURES)) == 47


def test_detect_in_document():
    assert detect_in_document("岡山県DX推進指針。岡山県では…岡山県の") == "岡山県"
    assert detect_in_document("静岡県の事例") is None  # one passing mention
    assert detect_in_document("県庁の取組") is None
    assert detect_in_document("三重県と岡山県と徳島県") is None  # no clear winner
    white_paper = ("全国の自治体の取組。" * 2000) + "静岡県の事例。静岡県では…静岡県の"
    assert detect_in_document(white_paper) is None  # a long document citing one prefecture's case


def test_a_short_document_titled_with_one_prefecture_is_that_prefectures():
    assert detect_in_document("福岡県 新規追加試験計画\n\n福岡県の新規追加試験の目標は2022年度に12%です。") == "福岡県"
    assert detect_in_document("福岡県 計画\n\n佐賀県と連携する。") is None  # another prefecture appears
    assert detect_in_document("全国の計画\n\n福岡県の例。福岡県の例。") is None  # the title names none

"""OCR: which text layers are unusable, and reading rendered Japanese."""

import pytest

from rag.ingest.ocr import usable

TEXT_LAYERS = [
    ("令和4年度の電子決裁の目標は100%とする。", True),
    ("KPI 1,800件", True),
    ("", False),
    ("   \n ", False),
    # what pypdf gives for a PDF whose fonts carry no Unicode map (as allganize-dev's foodkaku5.pdf)
    ("/edGj0/edGj1/edGj2 /edGj3/edGj4\n/edGj5/edGj6", False),
    ("(cid:1234)(cid:88)(cid:901)(cid:77)", False),
    ("\ue001\ue002\ue003\ue004計", False),
    ("\ufffd\ufffd\ufffd\ufffd", False),
    ("見出し /F1 本文は読める文章で、計画の目標と実績を記す。", True),  # a stray name in real text
    # a page that is mostly a wrapped link (seen in allganize-dev's PDFs)
    ("詳しくは以下をご覧ください。\nhttps://www.caa.go.jp/policies/\npolicy/food_labeling/food_labeli\nng_act/", True),
]


@pytest.mark.parametrize(("text", "expected"), TEXT_LAYERS)
def test_unusable_text_layers_are_told_apart(text, expected):
    assert usable(text) is expected

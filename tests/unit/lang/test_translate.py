"""The English -> Japanese lexicon built from JMdict (jamdict-data), and how it is looked up."""

import pytest

from rag.lang.translate import Lexicon, build_lexicon, english_words, gloss_keys


@pytest.fixture(scope="module")
def lexicon(tmp_path_factory):
    return Lexicon(build_lexicon(tmp_path_factory.mktemp("lexicon") / "lexicon.sqlite"))


@pytest.mark.parametrize(
    "gloss, keys",
    [
        ("to sell (something)", ["sell"]),
        ("approval; sanction", ["approval", "sanction"]),
        ("electronic application (for a permit)", ["electronic application"]),
        ("a very long gloss of many words", []),  # over three words: not a lookup key
    ],
)
def test_gloss_keys(gloss, keys):
    assert gloss_keys(gloss) == keys


@pytest.mark.parametrize("word, term", [("budget", "予算"), ("budgets", "予算"), ("approval", "承認"), ("policies", "政策")])
def test_lookup_finds_the_plain_japanese_word_for_plain_and_inflected_forms(lexicon, word, term):
    assert term in lexicon.lookup(word)


def test_a_sense_usually_written_in_kana_gives_its_kana_form_first(lexicon):
    # JMdict marks 煙草 "usually written using kana alone": documents write たばこ
    found = lexicon.lookup("tobacco")
    assert found.index("たばこ") < found.index("煙草")


def test_phrases_keep_only_readings_the_documents_contain(lexicon):
    in_documents = {"たばこ": 3, "販売": 4}
    phrases = dict(lexicon.phrases("tobacco sales", lambda t: in_documents.get(t, 0)))
    assert phrases == {"tobacco": ["たばこ"], "sales": ["販売"]}


def test_english_words_drop_question_and_measure_words():
    # "budget" is a measure the question reader handles itself, not a topic word
    assert list(english_words("What is the tobacco budget of Tokushima?")) == ["tobacco", "tokushima"]

"""The reader's own words, in the question's language. Everything else in an answer is
text quoted from a cited passage."""

from __future__ import annotations

from rag.lang.eras import era_western_label
from rag.lang.prefectures import ENGLISH
from rag.lang.vocab import MEASURE_EN, MEASURE_JA, Measure

NOT_FOUND = {"ja": "該当する記述は見つかりませんでした。", "en": "No passage states this."}
RELATED = {"ja": "関連する箇所", "en": "Related passages"}
NOT_PINNED = {
    "ja": "（この記述から値を一つに特定できません。引用元を確認してください）",
    "en": "(these passages do not pin down a single value; check the sources)",
}


def where(lang: str, prefecture: str | None, title: str, page: int | None) -> str:
    if lang == "en":
        pref = f"{ENGLISH.get(prefecture, prefecture)} " if prefecture else ""
        return f"{pref}“{title}”{f' p.{page}' if page else ''}"
    return f"{prefecture or ''}「{title}」{f'p.{page}' if page else ''}"


def year_label(lang: str, year: int) -> str:
    return f"FY{year} ({era_western_label(year)})" if lang == "en" else era_western_label(year)


def measure_word(lang: str, measure: Measure | str) -> str:
    m = Measure(measure)
    return MEASURE_EN[m] if lang == "en" else MEASURE_JA[m]


def not_covered_prefecture(lang: str, missing: list[str], indexed: list[str]) -> str:
    if lang == "en":
        names = ", ".join(f"{ENGLISH[p]} ({p})" for p in missing)
        return f"{NOT_FOUND['en']} The indexed documents do not cover {names}. Indexed: {'、'.join(indexed) or 'none'}."
    return (
        f"{NOT_FOUND['ja']}{'、'.join(missing)}の文書は索引にありません（索引にある都道府県：{'、'.join(indexed) or 'なし'}）。"
    )


def not_covered_year(lang: str, years: list[int]) -> str:
    if lang == "en":
        # what was checked: the sentences closest to the question, not the whole documents
        return f"{NOT_FOUND['en']} The closest passages say nothing about {', '.join(year_label('en', y) for y in years)}."
    return f"{NOT_FOUND['ja']}質問に最も近い箇所には{'、'.join(era_western_label(y) for y in years)}についての記述がありません。"


def dangling(lang: str) -> str:
    if lang == "en":
        return "What does this refer to? Ask again with the indicator, project or document (e.g. “the e-approval target of Tokushima”)."
    return "何について聞いているのかが分かりません。指標・事業・文書の名前を添えて、もう一度質問してください（例：「徳島県の電子決裁の目標は？」）。"


def no_subject(lang: str) -> str:
    if lang == "en":
        return (
            f"{NOT_FOUND['en']} The question names no indicator or project; say which one (e.g. “the budget of the RPA project”)."
        )
    return f"{NOT_FOUND['ja']}質問に指標や事業の名前がありません。どの指標・事業かを添えて質問してください。"


def measure_missing(lang: str, indicator: str, year: int, asked: Measure | str, other: Measure | str, value: str) -> str:
    if lang == "en":
        return (
            f"{NOT_FOUND['en']} The document gives no {measure_word('en', asked)} for {indicator} in "
            f"{year_label('en', year)}; its {measure_word('en', other)} is {value} [1]."
        )
    return (
        f"{NOT_FOUND['ja']}{indicator}の{era_western_label(year)}の{measure_word('ja', asked)}は記載されていません"
        f"（{measure_word('ja', other)}は{value}）[1]。"
    )


def filtered_out(lang: str, asked: list[str], scope: str) -> str:
    if lang == "en":
        names = ", ".join(ENGLISH[p] for p in asked)
        return f"The question asks about {names}, but the prefecture filter is set to {ENGLISH[scope]}: clear the filter to search {names}."
    return f"質問は{'、'.join(asked)}についてですが、都道府県の絞り込みが{scope}になっています。絞り込みを外すと{'、'.join(asked)}の文書を検索します。"


def disagree(lang: str) -> str:
    return "Documents disagree:" if lang == "en" else "文書によって値が異なります："


def generator_fallback(lang: str, why: str) -> str:
    if lang == "en":
        return f"The generated answer was not used ({why}); this is the extractive answer."
    return f"生成した回答は使いませんでした（{why}）。文書から抜き出した回答を示します。"

"""A small English -> Japanese glossary of plan-document vocabulary, so English
questions reach the Japanese text. Built from the domain (DX plans, 施策シート,
budgets, KPI tables), not from any eval question."""

from __future__ import annotations

import re

# (English pattern, Japanese terms). Longer phrases first; matching is case-insensitive.
_TERMS: list[tuple[str, tuple[str, ...]]] = [
    (r"e-?approval|electronic approval|electronic decision", ("電子決裁",)),
    (r"official documents?|public documents?", ("公文書",)),
    (r"digiti[sz](?:e|ed|ation)|electronic", ("電子化",)),
    (r"tele-?work(?:ing)?|remote work(?:ing)?|work(?:ing)? from home", ("テレワーク", "在宅勤務")),
    (r"mobile work", ("モバイルワーク",)),
    (r"rpa scenarios?", ("RPA", "シナリオ")),
    (r"scenarios?", ("シナリオ",)),
    (r"rpa", ("RPA",)),
    (r"\bai\b|artificial intelligence", ("AI",)),
    (r"faq", ("FAQ",)),
    (r"chat ?bot", ("チャットボット",)),
    (r"generative ai", ("生成AI",)),
    (r"web[- ]?conferenc\w*|video conferenc\w*|online meeting", ("Web会議",)),
    (r"meeting rooms?|conference rooms?", ("会議室",)),
    (r"municipal cloud|local government cloud", ("自治体クラウド",)),
    (r"municipalit(?:y|ies)", ("市町村",)),
    (r"on-?site inspections?|inspections?", ("立入調査",)),
    (r"remote", ("遠隔",)),
    (r"allowances?", ("諸手当",)),
    (r"commut\w*", ("通勤",)),
    (r"training|courses?", ("研修",)),
    (r"staff|employees?|officials?|personnel", ("職員",)),
    (r"evangelists?", ("エバンジェリスト",)),
    (r"security", ("セキュリティ",)),
    (r"network", ("ネットワーク",)),
    (r"information systems?", ("情報システム",)),
    (r"standardi[sz]\w*", ("標準化",)),
    (r"e-?applications?|online applications?|electronic applications?", ("電子申請",)),
    (r"online procedures?|procedures? online", ("オンライン", "手続")),
    (r"procedures?", ("手続",)),
    (r"online", ("オンライン",)),
    (r"my ?number cards?", ("マイナンバーカード",)),
    (r"open data", ("オープンデータ",)),
    (r"digital divide", ("デジタルデバイド",)),
    (r"analog(?:ue)? regulations?", ("アナログ規制",)),
    (r"revenue stamps?|certificate stamps?", ("証紙",)),
    (r"digital principles?", ("デジタル原則",)),
    (r"three-?layer", ("三層の対策",)),
    (r"smart local government|smart municipalit\w*|smart government", ("スマート自治体",)),
    (r"smart reform", ("スマート改革",)),
    (r"pillars?", ("柱",)),
    (r"progress(?: rating)?", ("進展度",)),
    (r"results? report", ("成果レポート",)),
    (r"dx cent(?:er|re)", ("DXセンター",)),
    (r"dx vision", ("DXビジョン",)),
    (r"dx board", ("DXボード",)),
    (r"advis[oe]rs?", ("アドバイザー", "アドバイザーズ")),
    (r"partners?", ("パートナーズ",)),
    (r"idea box", ("アイデアボックス",)),
    (r"workshops?", ("ワークショップ",)),
    (r"secretariat", ("事務局",)),
    (r"chief digital officer|cdo", ("最高デジタル責任者",)),
    (r"\bcio\b|chief information officer", ("情報統括責任者",)),
    (r"\bciso\b", ("情報セキュリティ責任者",)),
    (r"director", ("ディレクター",)),
    (r"committee|council", ("委員会", "協議会")),
    (r"guidelines?|guiding principles?", ("指針",)),
    (r"(?:target|covered) period|period", ("対象期間",)),
    (r"revis\w*", ("改定",)),
    (r"formulat\w*|established|adopted", ("策定", "設立")),
    (r"budget\w*|how much", ("予算", "予算額")),
    (r"total", ("総額",)),
    (r"project", ("事業",)),
    (r"environment", ("環境",)),
    (r"expansion|expand", ("拡充",)),
    (r"maintenance", ("維持管理",)),
    (r"infrastructure", ("基盤",)),
    (r"targets?|goals?|aims?", ("目標",)),
    (r"actual|results?|achieved|achievement", ("実績",)),
    (r"rate|ratio|share|percentage", ("率", "割合")),
    (r"number of|how many", ("数",)),
    (r"municipal", ("自治体",)),
    (r"prefectural office|prefectural government", ("県庁",)),
    (r"plan", ("プラン", "計画")),
    (r"entries|registrations?|registered", ("登録数",)),
    (r"utili[sz]ation|use of|using", ("活用", "利用")),
    (r"projects?", ("事業",)),
    (r"eltax", ("eLTAX",)),
    (r"soft ?phones?", ("ソフトフォン",)),
    (r"information highway", ("情報ハイウェイ",)),
    (r"division|section|department", ("課", "部")),
    (r"in charge", ("担当",)),
]
_COMPILED = [(re.compile(rf"(?i)(?<![a-z]){p}(?![a-z])"), ja) for p, ja in _TERMS]
_LATIN = re.compile(r"[A-Za-z]")


def is_english(text: str) -> bool:
    letters = [c for c in text if not c.isspace()]
    return bool(letters) and sum(bool(_LATIN.match(c)) for c in letters) / len(letters) > 0.5


def japanese_terms(text: str) -> list[str]:
    """Japanese plan-document terms for the English words in `text`, in order, without repeats."""
    out: list[str] = []
    for pattern, terms in _COMPILED:
        if pattern.search(text):
            out += [t for t in terms if t not in out]
    return out

"""English -> Japanese for the few plan-document terms a general dictionary lacks.

Everything else comes from JMdict (`rag.lang.translate`). Each entry says where the pairing
is taken from: the English editions that ministries publish of their own terms, or the
standard Japanese term of public administration that JMdict does not list. None was
added for a particular question.
"""

from __future__ import annotations

import re

# (English pattern, Japanese terms, source). Matching is case-insensitive, on word boundaries.
_TERMS: list[tuple[str, tuple[str, ...], str]] = [
    (
        r"e-?approvals?|electronic (?:approvals?|decisions?|decision-making)",
        ("電子決裁",),
        "Digital Agency, 自治体DX推進計画 (English summary)",
    ),
    (r"e-?applications?|online applications?|electronic applications?", ("電子申請",), "Digital Agency, 行政手続のオンライン化"),
    (r"online (?:administrative )?procedures?", ("行政手続", "オンライン化"), "Digital Agency, 行政手続のオンライン化"),
    (r"digiti[sz](?:e|ed|ing|ation)", ("電子化", "デジタル化"), "JMdict lists デジタル化 only under 'digitization'"),
    (
        r"(?:working|work) from home|home-?based work",
        ("在宅勤務", "テレワーク"),
        "MHLW, テレワークの適切な導入及び実施の推進のためのガイドライン",
    ),
    (
        r"web[- ]?conferenc\w*|video conferenc\w*|online meetings?",
        ("Web会議",),
        "common administrative term (Web会議), absent from JMdict",
    ),
    (r"generative ai", ("生成AI",), "Digital Agency, 生成AIの利用 guidance"),
    (r"(?:municipal|local government) cloud", ("自治体クラウド",), "MIC, 自治体クラウド"),
    (r"analog(?:ue)? regulations?", ("アナログ規制",), "Digital Agency, アナログ規制の見直し"),
    (r"digital principles?", ("デジタル原則",), "Digital Agency, デジタル原則"),
    (r"three-?layer(?: model| security| measures?)?", ("三層の対策",), "MIC, 自治体情報セキュリティ (三層の対策)"),
    (r"smart (?:local governments?|municipalit\w*|government)", ("スマート自治体",), "MIC, スマート自治体への転換"),
    (r"chief digital officers?|\bcdos?\b", ("最高デジタル責任者", "CDO"), "Digital Agency, CDO (最高デジタル責任者)"),
    (r"chief information officers?|\bcios?\b", ("情報統括責任者", "CIO"), "MIC, CIO (情報統括責任者)"),
    (r"chief information security officers?|\bcisos?\b", ("情報セキュリティ責任者", "CISO"), "MIC, CISO"),
    (r"(?:target|plan|planning|covered) periods?", ("対象期間", "計画期間"), "standard plan wording (計画期間 / 対象期間)"),
    (r"formulat\w*|drawn up|drew up", ("策定",), "standard plan wording (策定); JMdict lists it only under 'formulation'"),
    (r"revis\w*|amend\w*", ("改定", "改訂", "改正"), "standard plan wording; JMdict ranks them below 改める"),
    (r"actual (?:results?|values?|figures?)|results? (?:achieved|for)", ("実績", "実績値"), "KPI tables (目標値 / 実績値)"),
    (r"target values?|numerical targets?", ("目標値", "数値目標"), "KPI tables (目標値 / 実績値)"),
    (r"key performance indicators?|\bkpis?\b", ("KPI", "重要業績評価指標"), "Cabinet Office, 地方版総合戦略 (KPI)"),
    (r"department in charge|division in charge|in charge", ("担当課", "担当"), "施策シート wording (担当課)"),
    (r"total (?:budget|amount|cost)", ("総額", "予算総額"), "budget tables (予算総額)"),
]
_COMPILED = [(re.compile(rf"(?i)(?<![a-z]){p}(?![a-z])"), ja) for p, ja, _ in _TERMS]
_LATIN = re.compile(r"[A-Za-z]")


def is_english(text: str) -> bool:
    letters = [c for c in text if not c.isspace() and not c.isdigit() and c not in "?!.,'\"()-:;%"]
    return bool(letters) and sum(bool(_LATIN.match(c)) for c in letters) / len(letters) > 0.5


def glossary_terms(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """(English phrase as written, Japanese terms) for the glossary phrases in `text`."""
    out = []
    for pattern, terms in _COMPILED:
        m = pattern.search(text)
        if m:
            out.append((m.group(), terms))
    return out

"""Plan-document vocabulary, written once: what a figure measures (目標 / 実績 / 予算),
its units and counters, what kind of answer a question expects, and the patterns of
values and dates in NFKC text. Every other module asks here."""

from __future__ import annotations

import re
from enum import StrEnum


class Measure(StrEnum):
    TARGET = "target"
    ACTUAL = "actual"
    BUDGET = "budget"


# how a question names the measure it asks for (NFKC text, case-insensitive)
MEASURE_IN_QUESTION = (
    (Measure.BUDGET, re.compile(r"(?i)予算|budget|how much (?:was|is|will be) (?:budgeted|allocated)")),
    (Measure.ACTUAL, re.compile(r"(?i)実績|現状値|actual|achieved|result(?:ed|s)? (?:was|were|in)|how many were")),
    (Measure.TARGET, re.compile(r"(?i)目標|目指|target|goal|aim(?:s|ed)? (?:for|at|to)")),
)
# how a passage states it
MEASURE_IN_TEXT = {
    Measure.TARGET: re.compile(r"目標|目指|までに|KGI|KPI|(?:計画|見込)値"),
    Measure.ACTUAL: re.compile(r"実績|現状値|達成|実施した|導入した|件数は|であった|でした"),
    Measure.BUDGET: re.compile(r"予算|千円|百万円|億円|万円|事業費|経費"),
}
MEASURE_JA = {Measure.TARGET: "目標", Measure.ACTUAL: "実績", Measure.BUDGET: "予算額"}
MEASURE_EN = {Measure.TARGET: "target", Measure.ACTUAL: "actual", Measure.BUDGET: "budget"}


def measure_of(question: str) -> Measure | None:
    for measure, pattern in MEASURE_IN_QUESTION:
        if pattern.search(question):
            return measure
    return None


def measures_of(question: str) -> tuple[Measure, ...]:
    """Every measure a question names, in the order above (「目標と実績は」 asks for both)."""
    return tuple(measure for measure, pattern in MEASURE_IN_QUESTION if pattern.search(question))


# ---- units and values ---------------------------------------------------------------------
MONEY_UNITS = ("千円", "百万円", "億円", "万円", "兆円", "円", "ドル")
RATE_UNITS = ("%", "ポイント", "pt", "倍", "割")
# counters: what a "how many" answer is counted in
COUNTERS = (
    "件",
    "人",
    "名",
    "社",
    "者",
    "所属",
    "団体",
    "市町村",
    "手続",
    "室",
    "か所",
    "箇所",
    "ヶ所",
    "カ所",
    "校",
    "店",
    "店舗",
    "台",
    "回",
    "本",
    "個",
    "機関",
    "事業",
    "項目",
    "種類",
    "部門",
    "業種",
    "品目",
    "都道府県",
    "施設",
    "時間",
    "日",
    "か月",
    "ヶ月",
    "カ月",
    "年",
    "歳",
    "kg",
    "t",
    "トン",
    "km",
    "m",
    "g",
    "ml",
    "L",
    "世帯",
    "戸",
    "シナリオ",
    "システム",
)
# counters that name the same thing: a count of people is written 人 or 名
_SAME_COUNTER = {
    "人": ("人", "名"),
    "名": ("人", "名"),
    "か所": ("か所", "箇所", "ヶ所", "カ所"),
    "箇所": ("か所", "箇所", "ヶ所", "カ所"),
}
_LONGEST_FIRST = tuple(sorted(COUNTERS, key=len, reverse=True))
_ASKED_COUNTER = re.compile("何(" + "|".join(re.escape(c) for c in _LONGEST_FIRST) + ")")


def asked_counter(question: str) -> tuple[str, ...]:
    """The counter a question asks a figure in (何人 → 人 or 名, 何件 → 件); () when it names none."""
    m = _ASKED_COUNTER.search(question)
    if not m:
        return ()
    return _SAME_COUNTER.get(m.group(1), (m.group(1),))


def counted_in(value: str) -> str | None:
    """The counter a figure carries ("780人" → 人), None for a bare number or another unit."""
    rest = re.sub(r"^[^0-9]*[0-9][0-9,.]*\s*", "", value).strip()
    return next((c for c in _LONGEST_FIRST if rest.startswith(c)), None) if rest else None


NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?"  # 12 / 1,800 / 95.5
_NUM = NUMBER
# the units a structured fact (rag.facts) is read in, in this order; a figure in another unit is
# left to the passage, never asserted
FACT_UNITS = ("%", "件", "人", "所属", "千円", "百万円", "円", "団体", "市町村", "手続", "室")
# the units a year table's cells carry (rag.facts.tables)
TABLE_UNITS = ("%", "件", "人")
# which units an indicator's wording admits: a rate is in %, a count of people in 人
UNIT_WORDS = {"%": re.compile("率|割合"), "人": re.compile("者数|人数")}
_ALL_UNITS = sorted({*MONEY_UNITS, *RATE_UNITS, *COUNTERS}, key=len, reverse=True)
# a number with what it counts: "1,800千円", "95%", "12件", "3億5,000万円"
VALUE = re.compile(
    rf"(?<![0-9A-Za-z.\-])(?:{_NUM}\s*(?:兆|億|万)\s*)*{_NUM}\s*(?:{'|'.join(re.escape(u) for u in _ALL_UNITS)})"
    r"|(?<![0-9A-Za-z.\-])(?:" + _NUM + r")(?![0-9])"
)
MONEY = re.compile(rf"(?:{_NUM}\s*(?:兆|億|万)\s*)*{_NUM}\s*(?:{'|'.join(re.escape(u) for u in MONEY_UNITS)})")
RATE = re.compile(rf"{_NUM}\s*(?:{'|'.join(re.escape(u) for u in RATE_UNITS)})")
COUNT = re.compile(rf"{_NUM}\s*(?:{'|'.join(re.escape(u) for u in sorted(COUNTERS, key=len, reverse=True))})")
# dates: 令和3年10月, 2021年4月1日, 令和5年度末, 10月中旬
DATE = re.compile(
    r"(?:令和|平成|昭和)\s*(?:[0-9]{1,2}|元)\s*(?:[(（][0-9]{4}[)）])?\s*年度?(?:\s*[0-9]{1,2}\s*月(?:\s*[0-9]{1,2}\s*日)?(?:中旬|上旬|下旬)?)?(?:末)?"
    r"|(?:19|20)[0-9]{2}\s*(?:[(（](?:令和|平成|R|H)\s*(?:[0-9]{1,2}|元)[)）])?\s*年度?(?:\s*[0-9]{1,2}\s*月(?:\s*[0-9]{1,2}\s*日)?)?(?:末)?"
    r"|[0-9]{1,2}\s*月\s*[0-9]{1,2}\s*日"
)
DATE_RANGE = re.compile(r"(?:から|〜|~|～|-|－|—|まで)")


# ---- what the question expects ---------------------------------------------------------------
class Expect(StrEnum):
    MONEY = "money"
    RATE = "rate"
    COUNT = "count"
    VALUE = "value"  # a figure of the asked measure, any unit
    DATE = "date"
    PERIOD = "period"  # from when to when: a range of dates
    NAME = "name"
    WHICH = "which"  # which prefecture / which document
    LIST = "list"
    DEFINITION = "definition"
    DIFFERENCE = "difference"  # how much one figure grew or fell against another
    YESNO = "yesno"
    PASSAGE = "passage"  # how / why / explain: sentences, not a value


# order matters: the first pattern that matches decides
_EXPECT = (
    (
        Expect.DEFINITION,
        re.compile(
            r"(?i)とは(?:何|なに|どのような|どういう|$|[?？]|\s)|の意味|って何|what (?:is|are|does) (?:an? |the )?.{1,60}(?:mean|stand for)\b|^define\b|definition of|meaning of"
        ),
    ),
    (
        Expect.LIST,
        re.compile(
            r"(?i)挙げ|列挙|すべて|全て|一覧|何と何|(?:[0-9]+|二|三|四|五|六|七|八|九|十)つの|の種類|の内訳|の項目|柱は|の柱|\blist\b|what are the (?:[0-9]+|two|three|four|five|six|seven|main|key)\b|name (?:the|all)\b|(?:two|three|four|five|six|seven) (?:pillars|items|areas|points|goals|measures|types|kinds)"
        ),
    ),
    (Expect.WHICH, re.compile(r"(?i)どの(?:県|都道府県|文書|計画|資料)|どこの県|which (?:prefecture|document|plan)")),
    (
        Expect.DIFFERENCE,
        re.compile(
            r"(?i)いくら(?:増|減|多|少|上回|下回)|何(?:ポイント|%|件|人|円|千円|万円)(?:増|減|上昇|低下|多|少|上回|下回)|差は|差額|増減"
            r"|(?:どれ|どの)(?:くらい|ぐらい|ほど|だけ|程度)(?:増|減|多|少|上昇|低下|伸び|上回|下回)"
            r"|how much (?:more|less|higher|lower)|how much did .{1,60} (?:increase|decrease|grow|fall|rise)|by how much|difference (?:between|in)"
        ),
    ),
    (Expect.PERIOD, re.compile(r"(?i)how long|期間は|期間を|いつから|いつまで|what (?:is the )?period|from when")),
    # explanations and trends: the answer is sentences even when they hold figures
    (
        Expect.PASSAGE,
        re.compile(
            r"(?i)どのよう|どう(?:変|推移|な|い|す|し)|推移|変動|変化|傾向|比べ|比較|違い|理由|なぜ|何故|背景|説明|方法|手順|how (?:did|does|do|has|have|is|are|was|were|can|should|to)\b|why\b|explain|describe|trend|compare|compared"
        ),
    ),
    (
        Expect.DATE,
        re.compile(
            r"(?i)いつ|何年何月|何月|何日|時期|期日|期限|(?:^|\s)when\b|what (?:date|month|day)|which (?:month|day)|by when"
        ),
    ),
    (
        Expect.MONEY,
        re.compile(
            r"(?i)予算|いくら|金額|費用|経費|事業費|何円|何万円|何億|how much (?:money|was|is|will|did|does|do)|budget|cost|amount of money|\byen\b"
        ),
    ),
    (Expect.RATE, re.compile(r"(?i)率|割合|何%|何パーセント|何割|シェア|percent|percentage|\brate\b|ratio|share of")),
    (
        Expect.COUNT,
        re.compile(
            r"(?i)何(?:件|人|名|社|校|回|か所|箇所|ヶ所|カ所|団体|所属|市町村|手続|室|店|台|本|個|機関|事業|項目|種類|部門|業種|品目|施設|時間|日|か月|ヶ月|カ月|年|歳|世帯)|いくつ|幾つ|数は|how many|number of"
        ),
    ),
    (
        Expect.NAME,
        re.compile(
            r"(?i)誰|だれ|どなた|どこ(?!まで)|何という|名称|担当(?:課|部|局)は|(?:^|\s)who\b|(?:^|\s)where\b|what is the name|which (?:organi[sz]ation|department|division|body|agency|office)"
        ),
    ),
    (
        Expect.YESNO,
        re.compile(
            r"(?i)(?:ます|です|でした|ました|できる|ある|いる|必要)か[?？。]?\s*$|^(?:is|are|was|were|does|do|did|can|could|should|must|will|has|have)\b"
        ),
    ),
    (Expect.PASSAGE, re.compile(r"(?i)について|教えて|how\b|what (?:measures|steps|actions)")),
    (
        Expect.VALUE,
        re.compile(
            r"(?i)目標|実績|値|いくつ|どれくらい|どのくらい|どの程度|何|target|actual|value|figure|what was|what is|how (?:high|large|big|low)"
        ),
    ),
)
# a value asked for by name of measure alone ("目標は?") is a figure of any unit
NUMERIC_EXPECTS = (Expect.MONEY, Expect.RATE, Expect.COUNT, Expect.VALUE)


# "Xは何ですか" without a measure asks what X is, not for a figure
_WHAT_IS = re.compile(r"(?:は|って)(?:何|なに|なん)(?:ですか|でしょうか|か)?[?？]?\s*$")


def expect_of(question: str) -> Expect:
    for expect, pattern in _EXPECT:
        if pattern.search(question):
            if expect == Expect.VALUE and _WHAT_IS.search(question) and measure_of(question) is None:
                return Expect.DEFINITION
            return expect
    return Expect.PASSAGE


def value_pattern(expect: Expect) -> re.Pattern[str] | None:
    return {
        Expect.MONEY: MONEY,
        Expect.RATE: RATE,
        Expect.COUNT: COUNT,
        Expect.VALUE: VALUE,
        Expect.DIFFERENCE: VALUE,  # the two figures it is computed from
        Expect.DATE: DATE,
        Expect.PERIOD: DATE,
    }.get(expect)


# a year that names a law, not an event: 平成28年法律第103号
LAW_NUMBER = re.compile(r"\s*(?:法律|政令|省令|条例|規則|告示|通知|通達)?\s*第\s*[0-9]+\s*号|\s*(?:法律|政令|省令|条例|告示)")


# ---- words that say what kind of thing is asked, not what it is about -----------------------
GENERIC = frozenset(
    "目標 目標値 実績 実績値 予算 予算額 額 値 年度 年 度 月 日 何 なに いくら いくつ どう どの どれ どこ いつ 誰 "
    "事業 数 率 割合 件 件数 もの こと ため よう とき ところ 場合 方 際 等 など 的 "
    "教える 説明 説明する 述べる 示す 挙げる 記載 記述 具体 具体的 ください 下さい おる いる ある する なる れる られる できる "
    "ます です おり について 対する 関する 場合 どのよう どのような どういう 程度 くらい ぐらい 時期 "
    "target actual budget fy what how many much value result results which when where who why is are was were "
    "tell explain describe give list please the its their there "
    "令和 平成 昭和 元".split()
)
# a question about a total asks for the total, not for one of its lines
TOTAL = re.compile(r"(?i)総額|合計|総計|全体の予算|in total|\btotal\b")
TOTAL_LINE = re.compile(r"総額|合計|総計|計$")

# generic words that still tie a figure to its indicator weakly: never enough on their own
FACT_GENERIC = frozenset("予算 事業 費 経費 目標 実績 年度 県 数 率 割合 件 件数 値 額 総額".split())

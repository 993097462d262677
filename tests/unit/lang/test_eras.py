import pytest

from rag.lang.eras import (
    ERA_YEAR_ROW,
    bare_fiscal_year,
    era_fiscal_years,
    era_label,
    expand_years,
    is_year_header,
    western_to_era,
    year_of_cell,
    years_in,
)

YEARS = [
    ("令和4年度", [2022]),
    ("令和元年度", [2019]),
    ("平成30年度", [2018]),
    ("平成三十年度", [2018]),
    ("R4", [2022]),
    ("H30年度の実績", [2018]),
    ("2022(R4)年度 100%", [2022]),
    ("FY2022 target", [2022]),
    ("fy2021", [2021]),
    ("2022年度までに", [2022]),
    ("令和元年度 2年度 3年度", [2019, 2020, 2021]),  # bare years in a table header inherit the era
    ("(R2) 1000千円 → (R3)", [2020, 2021]),
    ("R4.3.31見込み", [2022]),
    ("18,765 件 (30年度)", [2018]),  # a bare year too far into 令和 is 平成
    ("令和3年6月23日", [2021]),
    ("20.0%", []),
    ("1800件", []),
    ("RPA", []),
    ("", []),
    ("計画期間は2021年度から25年度までの5年間とする。", [2021, 2025]),  # a bare year shortening the Western one before it
    ("2022年度と23年度の目標", [2022, 2023]),
    ("平成31年3月に策定した計画を、2年度に改定した。", [2019, 2020]),  # back before 平成31 in 平成: 令和
    ("官民データ活用推進基本法(平成28年法律第103号)に基づき、3年度から5年度まで", [2016, 2021, 2023]),
    ("平成30年度の数値は25年度と比べ", [2018, 2013]),  # too high for 令和 yet: it looks back
    ("令和元年度\t2年度\t3年度\n申請件数\t18,765 件 (30年度)", [2019, 2020, 2021, 2018]),
    ("令和3(2021)年度内に約800手続をオンライン化", [2021]),  # the Western year in brackets between era and 年
    ("令和3（2021）年度", [2021]),  # a passage's original text: full-width brackets
    ("令和６（２０２４）年５月に改定", [2024]),
    ("令和３年度予算 ９５，０２７千円", [2021]),  # full-width digits, as PDFs often have them
    ("２０２２年度までに１００％", [2022]),
    ("'21年度の実績", [2021]),  # a Western year cut to two digits, not 平成21
    ("FY21 target", [2021]),
    ("FY2021 target", [2021]),
    ("KPI'21", []),  # an apostrophe inside a word is not a year
]


@pytest.mark.parametrize(("text", "expected"), YEARS)
def test_years_in(text, expected):
    assert years_in(text) == expected


ERAS = [(2022, ("令和", 4)), (2019, ("令和", 1)), (2018, ("平成", 30)), (1989, ("平成", 1))]


@pytest.mark.parametrize(("year", "expected"), ERAS)
def test_western_to_era(year, expected):
    assert western_to_era(year) == expected


def test_era_label_uses_gannen():
    assert era_label(2019) == "令和元年度"
    assert era_label(2022) == "令和4年度"


EXPANSIONS = [
    ("2022年度の目標", ["令和4年度", "R4"]),
    ("令和4年度の目標", ["2022年度"]),
    ("R4 target", ["2022年度", "令和4年度"]),
]


@pytest.mark.parametrize(("text", "must_contain"), EXPANSIONS)
def test_expand_years_adds_other_forms(text, must_contain):
    out = expand_years(text)
    assert out.startswith(text)
    for form in must_contain:
        assert form in out


CELLS = [
    (("令和4年度", "令和"), (2022, "令和")),
    (("4年度", "平成"), (1992, "平成")),  # a bare cell keeps the era of the cells before it
    (("R4年度", "平成"), (2022, "令和")),
    (("H30年", "令和"), (2018, "平成")),
    (("H30", "令和"), None),  # a bare letter year is a header word, not a cell
    (("令和4年度 100%", "令和"), None),  # a cell that holds more than a year is not a year cell
    (("100", "令和"), None),
    (("30年度", None), (2018, "平成")),  # no era before it: a bare year far into 令和 is 平成
    (("30年度", "令和"), (2018, "平成")),  # 令和 has not reached 30: it looks back
    (("3年度", None), (2021, "令和")),
]


@pytest.mark.parametrize(("cell", "expected"), CELLS)
def test_year_of_cell(cell, expected):
    assert year_of_cell(*cell) == expected


HEADERS = [
    ("令和3年度 令和4年度", True),
    ("2021年度 2022年度", True),
    ("R3 R4 R5", True),
    ("令和4年度までに100%とする", False),
    ("年度ごとの目標", False),
    ("本県では、令和4年度(2022年度)の実績を踏まえ、電子決裁システムを活用した", False),  # a sentence
    ("区分\t令和3年度、令和4年度", True),  # cells apart by tabs
]


@pytest.mark.parametrize(("line", "expected"), HEADERS)
def test_is_year_header(line, expected):
    assert is_year_header(line) is expected


def test_a_year_row_reads_its_bare_years_in_the_era_given():
    assert ERA_YEAR_ROW.search("令和元年度 2年度 3年度") is None  # a row of years names each era
    assert era_fiscal_years("令和元年度 令和2年度 3年度") == [2019, 2020, 2021]
    assert era_fiscal_years("3年度", era="平成") == [1991]
    assert era_fiscal_years("28年度 29年度 30年度") == [2016, 2017, 2018]
    assert era_fiscal_years("平成30年度 元年度 2年度") == [2018, 2019, 2020]


@pytest.mark.parametrize(("n", "year"), [(30, 2018), (21, 2009), (4, 2022), (20, 2038)])
def test_a_bare_year_far_into_reiwa_is_heisei(n, year):
    assert bare_fiscal_year(n) == year

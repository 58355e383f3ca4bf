"""Table-driven tests for the Chinese date extractor (intents.dates) and its numeral parser."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest

from intents.date_finding import Context
from intents.date_patterns import normalize
from intents.date_resolvers import TIERS
from intents.date_tense import tense_of
from intents.dates import DateFinding, detect_tense, extract_date, find_date
from intents.numerals import parse_digit_string, parse_number

TODAY = date(2026, 11, 26)  # a Thursday; February 2026 has 28 days
D = date


def case(
    text: str,
    value: date | None,
    *,
    precision: str = "day",
    tense: str | None = None,
    error: str | None = None,
    alts: tuple[date, ...] = (),
    inferred: bool | None = None,
    matched: str | None = None,
    today: date = TODAY,
    end: date | None = None,
    assumed: bool = False,
) -> Any:
    """One row: the expected finding for `text` on `today` (tense/inferred/matched only when given)."""
    expected = {
        "value": value,
        "precision": precision,
        "tense": tense,
        "error": error,
        "alts": alts,
        "inferred": inferred,
        "matched": matched,
        "end": end,
        "assumed": assumed,
    }
    return pytest.param(text, today, expected, id=f"{today.isoformat()} {text}")


CASES = [
    # --- full dates -------------------------------------------------------------------------------
    case("2026年3月5日", D(2026, 3, 5), tense="unknown", inferred=False, matched="2026年3月5日"),
    case("2026-03-05", D(2026, 3, 5)),
    case("2026/3/5", D(2026, 3, 5)),
    case("2026.3.5", D(2026, 3, 5)),
    case("26年3月5日", D(2026, 3, 5)),
    case("二〇二六年三月五日", D(2026, 3, 5)),
    case("二零二七年一月一日", D(2027, 1, 1)),
    case("2026年3月5号", D(2026, 3, 5)),
    case("2026年3月5號", D(2026, 3, 5)),
    case("兩個月前過期了", D(2026, 9, 21), tense="past", end=D(2026, 10, 1)),
    case("2026年03月05日", D(2026, 3, 5)),
    case("２０２６年３月５日", D(2026, 3, 5), matched="2026年3月5日"),
    case("2026 年 3 月 5 日", D(2026, 3, 5)),
    case("2026年3月5", D(2026, 3, 5)),
    case("2026年的3月5号", D(2026, 3, 5)),
    case("有效期至2027年1月1日", D(2027, 1, 1), tense="maybe_future"),
    case("2028年2月29日", D(2028, 2, 29)),
    # --- month and day, year inferred -------------------------------------------------------------
    case("3月5号", D(2027, 3, 5), tense="unknown", alts=(D(2026, 3, 5), D(2027, 3, 5)), inferred=True),
    case("三月五日", D(2027, 3, 5), alts=(D(2026, 3, 5), D(2027, 3, 5))),
    case("十月一号", D(2026, 10, 1), alts=(D(2026, 10, 1), D(2027, 10, 1)), assumed=True),
    case("12/1", D(2026, 12, 1), alts=(D(2025, 12, 1), D(2026, 12, 1)), assumed=True),
    case("3/5", D(2027, 3, 5), alts=(D(2026, 3, 5), D(2027, 3, 5))),
    case("10.20号", D(2026, 10, 20), alts=(D(2026, 10, 20), D(2027, 10, 20)), assumed=True),
    case("不对，是10月10日", D(2026, 10, 10), tense="unknown", alts=(D(2026, 10, 10), D(2027, 10, 10)), assumed=True),
    case("十二月三十一日", D(2026, 12, 31), alts=(D(2025, 12, 31), D(2026, 12, 31)), assumed=True),
    case("2月29号", D(2028, 2, 29)),  # 2024-02-29 is more than 800 days back: not offered
    case("2月29号过期了", None, error="not_this_year", tense="past"),  # no 2月29日 in the last 800 days: ask
    case("11月26日", D(2026, 11, 26), alts=(D(2026, 11, 26), D(2027, 11, 26)), inferred=True, assumed=True),
    case("3月5到期", D(2027, 3, 5), alts=(D(2026, 3, 5), D(2027, 3, 5)), tense="maybe_future", inferred=True),
    case("10月31日过期的", D(2026, 10, 31), tense="past"),
    case("我在上海，居住证10月20号过期了", D(2026, 10, 20), tense="past", matched="10月20号"),
    case(
        "12月1号已经过期了",
        D(2025, 12, 1),
        alts=(D(2025, 12, 1), D(2026, 12, 1)),
        assumed=True,
        tense="past",
        inferred=True,
    ),
    case(
        "有效期到12月31日", D(2026, 12, 31), alts=(D(2025, 12, 31), D(2026, 12, 31)), assumed=True, tense="maybe_future"
    ),
    case("快过期了，3月5号", D(2027, 3, 5), tense="future"),
    case("10月20号就过期了", D(2026, 10, 20), tense="unknown", alts=(D(2026, 10, 20), D(2027, 10, 20)), assumed=True),
    case("3月5日到4月1日", D(2027, 3, 5), alts=(D(2026, 3, 5), D(2027, 3, 5))),
    # a vague day keeps the month: month precision
    case("三月一二号", D(2027, 3, 1), precision="month", alts=(D(2026, 3, 1), D(2027, 3, 1)), end=D(2027, 3, 31)),
    case("上个月20几号过期的", D(2026, 10, 21), tense="past", matched="上个月20几号", end=D(2026, 10, 29)),
    case(
        "我在12月之前能办好吗",
        D(2026, 12, 1),
        precision="month",
        alts=(D(2025, 12, 1), D(2026, 12, 1)),
        end=D(2026, 12, 31),
        assumed=True,
    ),
    # --- day of month only ------------------------------------------------------------------------
    case("15号", D(2026, 11, 15), tense="unknown", alts=(D(2026, 11, 15), D(2026, 12, 15)), inferred=True),
    case("30号", D(2026, 11, 30), alts=(D(2026, 10, 30), D(2026, 11, 30))),
    case("31号", D(2026, 10, 31), alts=(D(2026, 10, 31), D(2026, 12, 31))),
    case("15号过期了", D(2026, 11, 15), tense="past"),
    case("28号到期", D(2026, 11, 28), alts=(D(2026, 10, 28), D(2026, 11, 28)), tense="maybe_future"),
    case("5号前要去办", D(2026, 12, 5), alts=(D(2026, 11, 5), D(2026, 12, 5))),
    case("二十一号", D(2026, 11, 21), alts=(D(2026, 11, 21), D(2026, 12, 21))),
    case("廿五号", D(2026, 11, 25), alts=(D(2026, 11, 25), D(2026, 12, 25))),
    case("26号", D(2026, 11, 26), inferred=True),
    case("这个月15号", D(2026, 11, 15), inferred=False),
    case("本月底", D(2026, 11, 21), end=D(2026, 11, 30)),
    case("月底", D(2026, 11, 21), end=D(2026, 11, 30)),
    case("月初", D(2026, 11, 1), end=D(2026, 11, 10)),
    case("宽限期到月底", D(2026, 11, 21), end=D(2026, 11, 30), tense="maybe_future"),
    # --- relative days and offsets ----------------------------------------------------------------
    case("今天", D(2026, 11, 26), tense="unknown"),
    case("今天到期", D(2026, 11, 26), tense="maybe_future"),
    case("昨天", D(2026, 11, 25), tense="past"),
    case("前天", D(2026, 11, 24), tense="past"),
    case("大前天", D(2026, 11, 23), tense="past"),
    case("明天", D(2026, 11, 27), tense="future"),
    case("后天", D(2026, 11, 28), tense="future"),
    case("大后天", D(2026, 11, 29)),
    case("三天前", D(2026, 11, 23), tense="past"),
    case("3天后", D(2026, 11, 29), tense="future"),
    case("两周前", D(2026, 11, 12)),
    case("1周后", D(2026, 12, 3)),
    case("十天之后", D(2026, 12, 6), tense="future"),
    case("两个星期以前", D(2026, 11, 12), tense="past"),
    case("半个月前", D(2026, 11, 11)),
    case("两个月前", D(2026, 9, 21), tense="past", end=D(2026, 10, 1)),
    case("3个月后", D(2027, 2, 21), tense="future", end=D(2027, 3, 3)),
    case("半年前", D(2026, 5, 11), end=D(2026, 6, 10)),
    case("一年前", D(2025, 11, 11), end=D(2025, 12, 11)),
    case("还有3天", D(2026, 11, 29), tense="future"),
    case("还有一周", D(2026, 12, 3), tense="future"),
    case("还有半个月", D(2026, 12, 11), tense="future"),
    case("还剩10天", D(2026, 12, 6), tense="future"),
    case("还有两个月就到期了", D(2027, 1, 21), tense="future", end=D(2027, 1, 31)),
    case("签注还有3天就过期了", D(2026, 11, 29), tense="future"),
    case("过期3天了", D(2026, 11, 23), tense="past"),
    case("已经过期三天", D(2026, 11, 23), tense="past", matched="过期三天"),
    case("过期两个月了", D(2026, 9, 21), tense="past", end=D(2026, 10, 1)),
    case("逾期5天", D(2026, 11, 21), tense="past"),
    # --- weekdays (weeks start on Monday; this Monday is 2026-11-23) -----------------------------
    case("上周五", D(2026, 11, 20), tense="past"),
    case("这周三", D(2026, 11, 25)),
    case("下周一", D(2026, 11, 30), tense="future"),
    case("上个星期天", D(2026, 11, 22)),
    case("下礼拜二", D(2026, 12, 1)),
    case("本周日", D(2026, 11, 29)),
    case("下下周一", D(2026, 12, 7)),
    case("签注下周三过期", D(2026, 12, 2)),
    case("周三到期", D(2026, 12, 2), tense="maybe_future"),
    case("礼拜天过期了", D(2026, 11, 22), tense="past"),
    case("马上周一就到期", D(2026, 11, 30), tense="future"),
    # --- relative months ---------------------------------------------------------------------------
    case("上个月15号", D(2026, 10, 15)),
    case("下个月10号", D(2026, 12, 10)),
    case("上上个月3号", D(2026, 9, 3)),
    case("下个月15号到期", D(2026, 12, 15), tense="future"),
    case("下个月的15号", D(2026, 12, 15)),
    case("上个月31号", D(2026, 10, 31)),
    case("上个月底", D(2026, 10, 21), end=D(2026, 10, 31)),
    case("上月底", D(2026, 10, 21), end=D(2026, 10, 31)),
    case("上个月初", D(2026, 10, 1), end=D(2026, 10, 10)),
    case("下个月底", D(2026, 12, 21), end=D(2026, 12, 31)),
    case("我的签注上个月底就过期了", D(2026, 10, 21), end=D(2026, 10, 31), tense="past", matched="上个月底"),
    case("马上月底就到期了", D(2026, 11, 21), end=D(2026, 11, 30), tense="future"),
    case("上个月", D(2026, 10, 1), precision="month", end=D(2026, 10, 31)),
    case("下个月就到期了", D(2026, 12, 1), precision="month", tense="future", end=D(2026, 12, 31)),
    # --- years and months --------------------------------------------------------------------------
    case("去年12月", D(2025, 12, 1), precision="month", inferred=False, end=D(2025, 12, 31)),
    case("明年1月", D(2027, 1, 1), precision="month", tense="future", end=D(2027, 1, 31)),
    case("今年3月", D(2026, 3, 1), precision="month", end=D(2026, 3, 31)),
    case(
        "12月",
        D(2026, 12, 1),
        precision="month",
        alts=(D(2025, 12, 1), D(2026, 12, 1)),
        inferred=True,
        end=D(2026, 12, 31),
        assumed=True,
    ),
    case("5月", D(2027, 5, 1), precision="month", alts=(D(2026, 5, 1), D(2027, 5, 1)), end=D(2027, 5, 31)),
    case("11月", D(2026, 11, 1), precision="month", inferred=True, end=D(2026, 11, 30)),
    case(
        "3月份到期",
        D(2027, 3, 1),
        precision="month",
        alts=(D(2026, 3, 1), D(2027, 3, 1)),
        tense="maybe_future",
        end=D(2027, 3, 31),
    ),
    case("10月过期了", D(2026, 10, 1), precision="month", tense="past", end=D(2026, 10, 31)),
    case("二零二六年十月", D(2026, 10, 1), precision="month", end=D(2026, 10, 31)),
    case("2025年12月", D(2025, 12, 1), precision="month", end=D(2025, 12, 31)),
    case("明年1月5号", D(2027, 1, 5)),
    case("去年12月20号", D(2025, 12, 20)),
    case("居住证明年3月5号到期", D(2027, 3, 5), tense="future", inferred=False),
    case("12月底", D(2026, 12, 21), end=D(2026, 12, 31), alts=(D(2025, 12, 21), D(2026, 12, 21)), assumed=True),
    case("2月底过期了", D(2026, 2, 21), end=D(2026, 2, 28), tense="past"),
    case("明年2月底", D(2027, 2, 21), end=D(2027, 2, 28)),
    case("年底到期", D(2026, 12, 1), end=D(2026, 12, 31), tense="maybe_future"),
    case("明年年底", D(2027, 12, 1), end=D(2027, 12, 31)),
    case("去年底", D(2025, 12, 1), end=D(2025, 12, 31)),
    case("2025年底", D(2025, 12, 1), end=D(2025, 12, 31)),
    case("今年初", D(2026, 1, 1), end=D(2026, 1, 31)),
    # --- holidays (next occurrence unless the tense is past) --------------------------------------
    case("元旦", D(2027, 1, 1), alts=(D(2026, 1, 1), D(2027, 1, 1)), inferred=True, assumed=True),
    case("五一前要办", D(2027, 4, 16), end=D(2027, 4, 30), alts=(D(2026, 4, 16), D(2027, 4, 16)), matched="五一前"),
    case("国庆节后过期了", D(2026, 10, 2), end=D(2026, 10, 16), tense="past"),
    case("春节前", D(2027, 1, 22), end=D(2027, 2, 5), alts=(D(2026, 2, 2), D(2027, 1, 22)), assumed=True),
    case("明年春节", D(2027, 2, 6), inferred=False),
    case("去年国庆", D(2025, 10, 1)),
    case(
        "我的元旦前要办",
        D(2026, 12, 17),
        end=D(2026, 12, 31),
        alts=(D(2025, 12, 17), D(2026, 12, 17)),
        matched="元旦前",
        assumed=True,
    ),
    # --- several mentions: most specific, then valid, then first ----------------------------------
    case("1999年3月1日办的，2026年3月5日到期", D(2026, 3, 5)),
    case("今天15号了，签注还有3天到期", D(2026, 11, 29)),
    case("我昨天发现居住证上个月15号过期了", D(2026, 10, 15), tense="past"),
    case("去年12月就过期了，我昨天才发现", D(2025, 12, 1), precision="month", end=D(2025, 12, 31)),
    case("2月30日，不对，3月1日", D(2027, 3, 1), alts=(D(2026, 3, 1), D(2027, 3, 1))),
    case("居住证2025年办的，下个月到期", D(2026, 12, 1), precision="month", end=D(2026, 12, 31)),
    # --- invalid and out of range -------------------------------------------------------------------
    case("2月30日", None, error="invalid_date", matched="2月30日"),
    case("2026年2月29日", None, error="invalid_date", matched="2026年2月29日"),
    case("4月31日", None, error="invalid_date"),
    case("13月", None, precision="month", error="invalid_date", matched="13月"),
    case("13月1日", None, error="invalid_date"),
    case("2026-13-01", None, error="invalid_date"),
    case("这个月31号", None, error="invalid_date"),
    case("今天我发现2026年2月29日到期", None, error="invalid_date"),
    case("1899年3月1日", None, error="out_of_range", matched="1899年3月1日"),
    case("1899年", None, error="out_of_range"),
    case("2035年3月1日", None, error="out_of_range"),
    case("99年3月5日", None, error="out_of_range"),
    case("100年前", None, error="out_of_range"),
    case("2025年", None, error="too_vague", matched="2025年"),
    case("居住证2025年办的", None, error="too_vague"),
    # --- not dates -----------------------------------------------------------------------------------
    *(
        case(text, None)
        for text in (
            "",
            "12345",
            "请拨打12345热线",
            "60天宽限期",
            "宽限期30天",
            "15日内",
            "15个工作日",
            "居住证",
            "13812345678",
            "电话021-62345678",
            "第十条",
            "6个月",
            "一网通办",
            "五一广场",
            "地铁2号线",
            "长宁路15号",
            "七宝镇5号",
            "第3号窗口",
            "住了10年",
            "三日内",
            "一日游",
            "周一至周五可以办理",
            "每周三",
            "周三",
            "一周三次",
            "签注过期60天内可以补办吗",
            "到期3天后还能办吗",
            "45/60",
            "3/5-3/10",
            "版本2.3.5",
            "192.168.1.1",
            "20260305",
        )
    ),
    # --- vague and compound durations: ranges (issue: 一年半 must not become one year) ----------------
    case("过期一个多月了", D(2026, 9, 26), tense="past", end=D(2026, 10, 26)),
    case("一个多月前过期的", D(2026, 9, 26), end=D(2026, 10, 26)),
    case("还有一个多月到期", D(2026, 12, 26), end=D(2027, 1, 26)),
    case("两年多没签了", D(2023, 11, 26), end=D(2024, 11, 26)),
    case("超了四十来天", D(2026, 10, 9), end=D(2026, 10, 21), tense="past"),
    case("我在深圳，过期一年半了", D(2025, 4, 20), end=D(2025, 7, 2), tense="past"),
    case("一年零三个月前过期的", D(2025, 8, 11), end=D(2025, 9, 11)),
    case("三个半月前", D(2026, 8, 8), end=D(2026, 8, 14)),
    case("签注断了大半年了", D(2025, 12, 26), end=D(2026, 4, 26)),
    case("过期半年多了", D(2025, 11, 26), tense="past", end=D(2026, 5, 26)),
    case("十几天前过期的", D(2026, 11, 7), end=D(2026, 11, 15)),
    case("过期二十多天了", D(2026, 10, 28), end=D(2026, 11, 5), tense="past"),
    case("快两年了", D(2024, 11, 27), end=D(2025, 1, 26)),
    case("过期一年多了", D(2024, 11, 26), tense="past", end=D(2025, 11, 26)),
    case("三个多月前", D(2026, 7, 26), end=D(2026, 8, 26)),
    case("几天前", D(2026, 11, 17), end=D(2026, 11, 24)),
    case("前几天过期的", D(2026, 11, 17), end=D(2026, 11, 24), tense="past"),
    case("一个多月", None, error="no_direction"),
    # --- weeks and month parts -----------------------------------------------------------------------
    case("上周过期的", D(2026, 11, 16), end=D(2026, 11, 22), tense="past"),
    case("上周末到期了", D(2026, 11, 21), end=D(2026, 11, 22), tense="past"),
    case("下个星期到期", D(2026, 11, 30), end=D(2026, 12, 6), tense="future"),
    case("5月份过期了", D(2026, 5, 1), precision="month", end=D(2026, 5, 31), tense="past"),
    case("这个月到期", D(2026, 11, 1), precision="month", end=D(2026, 11, 30)),
    case("去年年底", D(2025, 12, 1), end=D(2025, 12, 31)),
    case("月中", D(2026, 11, 11), end=D(2026, 11, 20)),
    case("10月下旬", D(2026, 10, 21), end=D(2026, 10, 31), alts=(D(2026, 10, 21), D(2027, 10, 21)), assumed=True),
    # --- festivals, lunar ones computed for the right year --------------------------------------------
    case("除夕那天过期的", D(2026, 2, 16), tense="past"),
    case("今年中秋", D(2026, 9, 25)),
    case("去年春节", D(2025, 1, 29)),
    case("国庆期间", D(2026, 10, 1), end=D(2026, 10, 7), alts=(D(2026, 10, 1), D(2027, 10, 1)), assumed=True),
    case("中秋后", D(2026, 9, 26), end=D(2026, 10, 10), alts=(D(2026, 9, 26), D(2027, 9, 16)), assumed=True),
    case("年前到期", D(2027, 1, 22), end=D(2027, 2, 5), alts=(D(2026, 2, 2), D(2027, 1, 22)), assumed=True),
    case("清明", D(2027, 4, 5), alts=(D(2026, 4, 5), D(2027, 4, 5))),
    case("端午节过期了", D(2026, 6, 19), tense="past"),
    case("明年元宵", D(2027, 2, 20)),
    # --- recency decides the tense of a date without a year -----------------------------------------
    case("签注11月20日到期，现在怎么办", D(2026, 11, 20), alts=(D(2026, 11, 20), D(2027, 11, 20)), assumed=True),
    case("有效期到11月20日", D(2026, 11, 20), alts=(D(2026, 11, 20), D(2027, 11, 20)), assumed=True),
    case("12月5号到期", D(2026, 12, 5), alts=(D(2025, 12, 5), D(2026, 12, 5)), assumed=True),
    case("8月20号到期，忘了签", D(2026, 8, 20), tense="past"),
    case("签注11月20号就过了", D(2026, 11, 20), alts=(D(2026, 11, 20), D(2027, 11, 20)), assumed=True),
    case("11月20号过的期", D(2026, 11, 20), tense="past"),
    case("my permit expired on 11月20日", D(2026, 11, 20), tense="past"),
    case("12月28号到期", D(2026, 12, 28), alts=(D(2026, 12, 28), D(2027, 12, 28)), assumed=True, today=D(2027, 1, 2)),
    # --- year boundaries ---------------------------------------------------------------------------
    case(
        "12月31日到期",
        D(2026, 12, 31),
        tense="maybe_future",
        alts=(D(2026, 12, 31), D(2027, 12, 31)),
        inferred=True,
        assumed=True,
        today=D(2026, 12, 31),
    ),
    case("1月1日", D(2027, 1, 1), alts=(D(2026, 1, 1), D(2027, 1, 1)), today=D(2026, 12, 31), assumed=True),
    case("1号", D(2027, 1, 1), alts=(D(2026, 12, 1), D(2027, 1, 1)), today=D(2026, 12, 31)),
    case("明天", D(2027, 1, 1), today=D(2026, 12, 31)),
    case("下个月15号", D(2027, 1, 15), today=D(2026, 12, 31)),
    case("下周一", D(2027, 1, 4), today=D(2026, 12, 31)),
    case("还有3天", D(2027, 1, 3), today=D(2026, 12, 31)),
    case("明年1月", D(2027, 1, 1), precision="month", today=D(2026, 12, 31), end=D(2027, 1, 31)),
    case(
        "1月1日过期了",
        D(2027, 1, 1),
        tense="past",
        alts=(D(2026, 1, 1), D(2027, 1, 1)),
        assumed=True,
        today=D(2027, 1, 1),
    ),
    case("12月31日过期了", D(2026, 12, 31), tense="past", today=D(2027, 1, 1)),
    case("昨天", D(2026, 12, 31), today=D(2027, 1, 1)),
    case("上个月底", D(2026, 12, 21), end=D(2026, 12, 31), today=D(2027, 1, 1)),
    case("去年12月", D(2026, 12, 1), precision="month", today=D(2027, 1, 1), end=D(2026, 12, 31)),
    case(
        "12月",
        D(2026, 12, 1),
        precision="month",
        alts=(D(2026, 12, 1), D(2027, 12, 1)),
        today=D(2027, 1, 1),
        end=D(2026, 12, 31),
        assumed=True,
    ),
    case("上个月15号", D(2026, 12, 15), today=D(2027, 1, 10)),
    case("上上个月3号", D(2026, 11, 3), today=D(2027, 1, 10)),
    case("15号", D(2027, 1, 15), alts=(D(2026, 12, 15), D(2027, 1, 15)), today=D(2027, 1, 10)),
    # --- leap years ----------------------------------------------------------------------------------
    case("2月29日", D(2028, 2, 29), today=D(2028, 2, 15)),
    case("2月29日过期了", None, error="not_this_year", tense="past", today=D(2028, 2, 15)),
    case("月底", D(2028, 2, 21), end=D(2028, 2, 29), today=D(2028, 2, 15)),
    case("29号", D(2028, 2, 29), alts=(D(2028, 1, 29), D(2028, 2, 29)), today=D(2028, 2, 15)),
    case("2029年2月29日", None, error="invalid_date", today=D(2028, 2, 15)),
    case("一个月后", D(2028, 2, 24), end=D(2028, 3, 5), today=D(2028, 1, 31)),
    case("下个月底", D(2028, 2, 21), end=D(2028, 2, 29), today=D(2028, 1, 31)),
    case("一个月前", D(2028, 2, 24), end=D(2028, 3, 5), today=D(2028, 3, 31)),
    case("2月29日", D(2028, 2, 29), today=D(2029, 3, 1)),
]


@pytest.mark.parametrize(("text", "today", "expected"), CASES)
def test_extract_date(text: str, today: date, expected: dict[str, Any]) -> None:
    finding = extract_date(text, today)
    if expected["value"] is None and expected["error"] is None:
        assert finding is None
        return
    assert finding is not None
    assert (finding.value, finding.precision, finding.error) == (
        expected["value"],
        expected["precision"],
        expected["error"],
    )
    assert finding.alternatives == expected["alts"]
    assert (finding.end, finding.assumed) == (expected["end"], expected["assumed"])
    for field, key in (("tense", "tense"), ("year_inferred", "inferred"), ("matched", "matched")):
        if expected[key] is not None:
            assert getattr(finding, field) == expected[key]
    assert finding.tense == detect_tense(text)


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 100


TENSES = {
    "past": [
        "过期了",
        "已过期",
        "已经过期",
        "过期的签注怎么办",
        "过期3天",
        "过期两个月了",
        "到期了",
        "已到期",
        "已经到期",
        "失效了",
        "已经超过60天",
        "过了有效期",
        "已经过了",
        "逾期",
        "三天前",
        "两个月之前",
        "早就过期了",
        "过期好久了",
        "到期了吗",
        "昨天",
        "上个月15号",
        "去年12月",
    ],
    "future": [
        "快到期了",
        "快过期了",
        "要到期了",
        "马上就要过期了",
        "即将到期",
        "还有3天",
        "还有几天就过期了",
        "还有3天就到期了",
        "马上",
        "下个月",
        "3天后",
        "一个月以后",
        "明年",
        "还没过期",
        "明天就过期了",
        "快到期了吗",
        "会不会过期",
    ],
    "maybe_future": ["到期", "什么时候到期", "有效期到", "有效期至2027年", "截止日期", "需要到期前办理"],
    "unknown": [
        "",
        "你好",
        "签注过期怎么办",
        "10月20号就过期了",
        "不能超过60天",
        "我问过了",
        "过期了，还有30天宽限期",  # contradicting strong cues
        "上个月去过，下个月再去",  # contradicting weak cues
    ],
}


@pytest.mark.parametrize(
    ("text", "tense"), [(text, tense) for tense, texts in TENSES.items() for text in texts], ids=str
)
def test_detect_tense(text: str, tense: str) -> None:
    assert detect_tense(text) == tense


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("15", 15),
        ("〇", 0),
        ("零", 0),
        ("五", 5),
        ("两", 2),
        ("十", 10),
        ("十五", 15),
        ("二十", 20),
        ("二十一", 21),
        ("廿", 20),
        ("廿一", 21),
        ("三十一", 31),
        ("一百", 100),
        ("两百", 200),
        ("一百零五", 105),
        ("一百一十", 110),
        ("一百一", 110),
        ("", None),
        ("十十", None),
        ("零五", None),
        ("百", None),
        ("一二", None),
        ("1五", None),
        ("²", None),
    ],
)
def test_parse_number(text: str, value: int | None) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("二〇二六", 2026), ("二零二六", 2026), ("二六", 26), ("", None), ("两〇", None), ("十", None)],
)
def test_parse_digit_string(text: str, value: int | None) -> None:
    assert parse_digit_string(text) == value


def _check_invariants(text: str, finding: DateFinding | None) -> None:
    if finding is None:
        return
    assert (finding.value is None) == (finding.error is not None)
    assert finding.matched in normalize(text)
    if finding.alternatives:
        assert finding.year_inferred
        assert finding.assumed or finding.tense not in ("past", "future")
        assert finding.value in finding.alternatives
    if finding.end is not None:
        assert finding.value is not None
        assert finding.value < finding.end


_FUZZ_ALPHABET = (
    "0123456789年月日号天周星期礼拜前后以之上下个这本当今明去昨大还有剩过期到了快要已逾超半十廿两"
    "一二三四五六七八九〇百份底末初元旦国庆劳动节春的/.-: 内第路线"
)


def _fuzz_texts() -> list[str]:
    rng = random.Random(20261126)
    texts = ["🙂" * 10_000, "1号" * 5_000, "年" * 10_000, "\ufdfa" * 2_000, "\ud800\udfff", "\x00\n\t"]
    for _ in range(400):
        length = rng.randint(0, 40)
        texts.append("".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(length)))
        texts.append("".join(rng.choice(_FUZZ_ALPHABET) for _ in range(length)))
    texts.append("".join(chr(rng.randint(0x20, 0x2FFFF)) for _ in range(10_000)))
    return texts


@pytest.mark.parametrize("today", [TODAY, D(2028, 2, 29), date.min, date.max])
def test_never_raises(today: date) -> None:
    for text in _fuzz_texts():
        finding = find_date(text, today)  # the unguarded path: a bug must fail here, not be logged
        _check_invariants(text, finding)
        assert extract_date(text, today) == finding
        detect_tense(text)


def test_rule_anchors_cover_every_match() -> None:
    """A rule only runs when its anchor characters occur, so every match that resolves must contain them."""
    rng = random.Random(7)
    texts = [param.values[0] for param in CASES]
    texts += ["".join(rng.choice(_FUZZ_ALPHABET) for _ in range(rng.randint(1, 30))) for _ in range(3000)]
    for rules in TIERS:
        for rule in rules:
            for text in texts:
                normalized = normalize(text)
                for match in rule.pattern.finditer(normalized):
                    if rule.resolve(match, Context(TODAY, tense_of(normalized))) is None:
                        continue  # a match the resolver turns down (3天 for the vague amounts) costs nothing
                    assert not rule.anchor.isdisjoint(match[0]), (rule.pattern.pattern, match[0])
                    assert not rule.also or not rule.also.isdisjoint(match[0]), (
                        rule.pattern.pattern,
                        match[0],
                    )


def test_extreme_today_values_never_raise() -> None:
    texts = [param.values[0] for param in CASES]
    for today in (date.min, date.max, D(9999, 12, 1), D(1, 1, 31)):
        for text in texts:
            _check_invariants(text, find_date(text, today))

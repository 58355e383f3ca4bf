"""Years, months and days as the date patterns write them: 2026, 二〇二六, 26, 去年; 十五, but never 两."""

from __future__ import annotations

import re
from datetime import date

from intents import date_patterns as p
from intents.numerals import parse_digit_string, parse_number


def year_of(match: re.Match[str], today: date) -> int | None:
    groups = match.groupdict()
    if groups.get("ry"):
        return today.year + p.REL_YEAR[groups["ry"]]
    text = groups.get("y")
    if text is None:
        return None
    year = int(text) if text.isascii() else parse_digit_string(text)
    return None if year is None else year + 2000 if len(text) == 2 else year


def month_day_number(text: str) -> int | None:
    """A month or day numeral; 两 is a count (两月 = two months), never a month or a day."""
    return None if "两" in text else parse_number(text)

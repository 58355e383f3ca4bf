"""Chinese and Arabic numerals to int: 十五, 二十一, 廿一, 两百, 一百零五, 二〇二六 (digit by digit)."""

from __future__ import annotations

import re

DIGITS: dict[str, int] = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}

# [百-part] [零 | tens-part] [unit]; every part is optional, so the empty match is rejected below.
_POSITIONAL = re.compile(
    r"(?:(?P<hundreds>[一二两三四五六七八九])百)?"
    r"(?:(?P<zero>零)|(?P<tens>[一二两三四五六七八九])?(?P<ten>十)|(?P<twenty>廿))?"
    r"(?P<unit>[一二三四五六七八九])?"
)


def parse_number(text: str) -> int | None:
    """Arabic digits, one Chinese digit, or a positional numeral (十, 十五, 廿一, 一百零五); else None."""
    if not text:
        return None
    if text.isascii():
        return int(text) if text.isdigit() else None
    if len(text) == 1 and text in DIGITS:
        return DIGITS[text]
    match = _POSITIONAL.fullmatch(text)
    if match is None or not match.group(0):
        return None
    hundreds, zero, tens, ten, twenty, unit = match.group("hundreds", "zero", "tens", "ten", "twenty", "unit")
    if zero and not (hundreds and unit):
        return None  # 零 only fills an empty tens place: 一百零五
    value = DIGITS[hundreds] * 100 if hundreds else 0
    if ten:
        value += (DIGITS[tens] if tens else 1) * 10
    elif twenty:
        value += 20
    elif hundreds and unit and not zero:
        return value + DIGITS[unit] * 10  # colloquial 一百一 = 110, 两百五 = 250
    return value + (DIGITS[unit] if unit else 0)


def parse_digit_string(text: str) -> int | None:
    """Digit-by-digit numerals such as years: 二〇二六 -> 2026, 二六 -> 26; else None."""
    if not text or any(char not in DIGITS or char == "两" for char in text):
        return None
    return int("".join(str(DIGITS[char]) for char in text))

"""Masks what could identify someone in a question that is kept for the content editors."""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_CHARS = 80
DIGITS = "0"  # every run of digits becomes one 0: 0月0号, 0 (a phone number), 0年
PLACE = "[地名]"
_DIGITS = re.compile(r"\d+")
# Three Chinese numerals or more in a row (二〇二五, 一三八一二三四五六七八, 三十一号) are a number too; one or
# two (一下, 三天, 十一) are ordinary words and stay.
_HAN_NUMBER = re.compile(r"[〇零一二三四五六七八九十百千万两]{3,}")


def mask(text: str, places: Iterable[str] = ()) -> str:
    """`text` (already normalised) with each of `places` (spans found in it) and every number masked, cut to
    MAX_CHARS. Person names are not found: nothing cheap finds them in free Chinese text."""
    for place in places:
        if place:
            text = text.replace(place, PLACE)
    text = _HAN_NUMBER.sub(DIGITS, _DIGITS.sub(DIGITS, text))
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"

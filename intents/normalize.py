"""Text normalisation: full-width to half-width, Traditional to Simplified, tidy whitespace."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

MAX_CHARS = 500
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _traditional() -> frozenset[str]:
    """Characters that t2s changes on their own: a message without any of them needs no conversion."""
    han = "".join(chr(code) for code in range(0x3400, 0xA000))
    return frozenset(a for a, b in zip(han, _t2s().convert(han), strict=False) if a != b)


def normalize(text: str, limit: int = MAX_CHARS) -> str:
    """NFKC (full-width digits and letters become ASCII), Simplified Chinese, lower case, single spaces.

    Only the first `limit` characters are kept: nobody describes a 签注 in more than that.
    """
    text = unicodedata.normalize("NFKC", text[: limit * 2])
    text = _SPACES.sub(" ", text).strip()[:limit]
    if not _traditional().isdisjoint(text):
        text = _t2s().convert(text)
    return text.lower()


def is_meaningful(text: str) -> bool:
    """True when the text holds a letter, digit or Han character (not only emoji or punctuation)."""
    return any(ch.isalnum() for ch in text)

"""Numbered choices: a reply of just a number picks from the last choices shown, kept in the store."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from bot.store.base import Store

KeyOf = Callable[[str], str]  # openid -> the user's pseudonymous conversation key


class Choices:
    """Remembers each user's last choices beside the session, so any process can read the number back."""

    def __init__(self, store: Store, key_of: KeyOf) -> None:
        self._store = store
        self._key_of = key_of

    def _key(self, openid: str) -> str:
        return self._key_of(openid) + ":choices"

    async def shown(self, openid: str) -> tuple[str, ...]:
        document = await self._store.load(self._key(openid))
        return () if document is None else _parse(document)

    async def remember(self, openid: str, before: tuple[str, ...], now: tuple[str, ...]) -> None:
        """Writes only when the choices changed: most turns show none and had none. No choices are saved as an
        empty list (one statement) rather than deleted, and expire with the session."""
        if now != before:
            await self._store.save(self._key(openid), json.dumps(list(now), ensure_ascii=False))


@lru_cache(maxsize=1024)  # the same few documents ("[]", a handful of city lists) come back all the time
def _parse(document: str) -> tuple[str, ...]:
    try:
        loaded = json.loads(document)
    except ValueError:
        return ()
    return tuple(str(item) for item in loaded) if isinstance(loaded, list) else ()


def pick(text: str, choices: tuple[str, ...]) -> str:
    """The choice a bare number (half- or full-width) names; any other text unchanged."""
    number = unicodedata.normalize("NFKC", text).strip()
    # A short number only: int() refuses more than 4,300 digits, and a choice list is never that long.
    if number.isascii() and number.isdigit() and len(number) <= 3 and 1 <= int(number) <= len(choices):
        return choices[int(number) - 1]
    return text

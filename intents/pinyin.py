"""Homophones: the keywords a message spells with the wrong characters (居住正, 签著, 去那里办).

Each keyword of two or more Han characters is indexed by the usual toneless pinyin of its characters
(ju zhu zheng); a window of the message that reads the same and keeps at least one of the keyword's characters
finds it (a typo from a pinyin keyboard changes a character, rarely all of them). Only the matcher's fallback
uses this, so messages whose words are spelled right pay nothing. Deterministic: one reading per character.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "pinyin.txt"  # see scripts/gen_pinyin.py
MAX_WINDOW = 4
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


@lru_cache(maxsize=1)
def readings() -> Mapping[str, str]:
    """Character -> its usual toneless reading."""
    table: dict[str, str] = {}
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        syllable, chars = line.split(" ", 1)
        table.update(dict.fromkeys(chars.strip(), syllable))
    return table


def _no_word(_text: str) -> bool:
    return False


class Homophones:
    """Finds keywords spelled with other characters that sound the same."""

    def __init__(self, terms: Mapping[str, str]) -> None:
        """`terms` maps every surface (a keyword or a synonym variant) to its canonical keyword. Keywords of two
        characters or more are indexed, variants only from three characters: a variant is already a loose form,
        and two-character homophones of loose forms match too much (去哪 is no typo of 去拿)."""
        table = readings()
        self._keys: dict[str, list[tuple[str, str]]] = {}  # reading -> (surface, canonical)
        for surface, canonical in sorted(terms.items()):
            shortest = 2 if surface == canonical else 3
            key = _key(surface, table) if len(surface) >= shortest and _HAN_RUN.fullmatch(surface) else None
            if key is not None:
                self._keys.setdefault(key, []).append((surface, canonical))

    def find(self, text: str, known: Iterable[str] = (), is_word: Callable[[str], bool] = _no_word) -> set[str]:
        """Canonical keywords that some window of `text` sounds like, other than those in `known`; a window that
        `is_word` says is a real word (去哪 is not a typo of 去拿) is skipped."""
        table = readings()
        found: set[str] = set()
        for run in _HAN_RUN.findall(text):
            for size in range(2, min(MAX_WINDOW, len(run)) + 1):
                for start in range(len(run) - size + 1):
                    window = run[start : start + size]
                    key = _key(window, table)
                    if key is None or key not in self._keys or is_word(window):
                        continue
                    for surface, canonical in self._keys[key]:
                        if any(a == b for a, b in zip(window, surface, strict=True)):
                            found.add(canonical)
        return found - set(known)


def _key(word: str, table: Mapping[str, str]) -> str | None:
    syllables = [table.get(char) for char in word]
    return None if None in syllables else " ".join(s for s in syllables if s)

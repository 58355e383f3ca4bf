"""The jieba tokenizer, with the domain vocabulary added once at start-up."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import jieba

jieba.setLogLevel(logging.WARNING)


DICTIONARY = Path(__file__).parent / "data" / "jieba_dict.txt"  # see scripts/gen_jieba_dict.py


class Tokenizer:
    """A private jieba instance on a trimmed dictionary; the process-wide default one is left alone."""

    def __init__(self, vocabulary: Iterable[str] = (), dictionary: Path = DICTIONARY) -> None:
        self._jieba = jieba.Tokenizer(str(dictionary))
        self._jieba.initialize()
        for word in sorted(set(vocabulary)):
            if word.strip():
                self._jieba.add_word(word, freq=None)
                self._jieba.suggest_freq(word, tune=True)

    def is_word(self, text: str) -> bool:
        """True when `text` is a word of the dictionary (a real word is no typo)."""
        return bool(self._jieba.FREQ.get(text))

    def tokens(self, text: str) -> list[str]:
        # HMM discovers unknown words; every word the matcher looks for is in the dictionary, so it is off.
        return [t for t in self._jieba.lcut(text, HMM=False) if t.strip()]

"""The jieba tokenizer, with the domain vocabulary added once at start-up."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
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
        tokens = [t for t in self._jieba.lcut(text, HMM=False) if t.strip()]
        return _split_time_words(tokens, self.is_word) if _TIME_HEADS.intersection(text) else tokens


# 居住证明年 is 居住证 + 明年, not 居住证明 + 年: a word that ends with the first character of a time word
# (明年, 明天, 今天, 去年, 后天) that the next token completes gives that character back.
_TIME_WORDS = {"明": "年天日早晚", "今": "年天日早晚", "去": "年", "后": "天年", "前": "天年", "昨": "天日晚"}
_TIME_HEADS = frozenset(_TIME_WORDS)


def _split_time_words(tokens: list[str], is_word: Callable[[str], bool]) -> list[str]:
    out: list[str] = []
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        head, stem = token[-1:], token[:-1]
        if len(token) >= 3 and following[:1] in _TIME_WORDS.get(head, "") and following and is_word(stem):
            out += [stem, head]
        else:
            out.append(token)
    return out

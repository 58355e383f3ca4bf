"""Generate intents/data/pinyin.txt: the usual toneless reading of each common Han character, one syllable a line.

The matcher uses it to match typos and homophones of its keywords (居住正 for 居住证, 签著 for 签注). The data
comes from pypinyin's single-character dictionary (a dev dependency; the bot itself reads only this file).

Run: .venv/bin/python scripts/gen_pinyin.py > intents/data/pinyin.txt
"""

from __future__ import annotations

import sys
import unicodedata
from collections import defaultdict

from pypinyin import __version__
from pypinyin.pinyin_dict import pinyin_dict

FIRST, LAST = 0x4E00, 0x9FFF  # the CJK Unified Ideographs block: every character a chat message is likely to hold


def toneless(reading: str) -> str:
    """zhèng -> zheng, lǜ -> lv."""
    plain = unicodedata.normalize("NFKD", reading.replace("ü", "v"))
    return "".join(ch for ch in plain if ch.isascii()).lower()


def main() -> None:
    by_syllable: dict[str, list[str]] = defaultdict(list)
    for code in range(FIRST, LAST + 1):
        readings = pinyin_dict.get(code)
        if not readings:
            continue
        syllable = toneless(readings.split(",")[0])  # pypinyin lists the most common reading first
        if syllable:
            by_syllable[syllable].append(chr(code))
    sys.stdout.write(
        f"# pypinyin {__version__}: a toneless syllable, then the characters (U+4E00-U+9FFF) usually read so\n"
    )
    for syllable in sorted(by_syllable):
        sys.stdout.write(f"{syllable} {''.join(by_syllable[syllable])}\n")


if __name__ == "__main__":
    main()

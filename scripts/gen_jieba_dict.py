"""Writes intents/data/jieba_dict.txt: jieba 0.42.1's main dictionary without its rarest words.

jieba loads its 349,046-word dictionary in about a second and keeps ~60 MB of it in memory. A chat bot
about 居住证签注 needs the common words only (every domain term is added to the tokenizer separately), so
this keeps the 105,157 words whose corpus frequency is at least MIN_FREQ: start-up falls to about a quarter
and memory to about half. jieba is MIT-licensed; the kept lines are copied unchanged.

Run from the repository root: python scripts/gen_jieba_dict.py
"""

from __future__ import annotations

from pathlib import Path

import jieba

MIN_FREQ = 10
TARGET = Path(__file__).resolve().parent.parent / "intents" / "data" / "jieba_dict.txt"


def main() -> None:
    source = Path(jieba.__file__).parent / "dict.txt"
    lines = source.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if int(line.split()[1]) >= MIN_FREQ]
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text("\n".join(kept) + "\n", encoding="utf-8")
    print(f"kept {len(kept)} of {len(lines)} words in {TARGET}")


if __name__ == "__main__":
    main()

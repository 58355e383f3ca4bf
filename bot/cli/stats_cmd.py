"""`qianzhu stats`: the most frequent unanswered questions, the FAQ hits and the share of fallbacks."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from bot.core.clock import Clock
from bot.core.errors import StoreError
from bot.runtime import EXIT_STORE
from bot.settings import Settings
from bot.stats.render import markdown, terminal
from bot.stats.summary import summarise
from bot.store.factory import MEMORY_URL, open_store
from bot.store.traffic import RETENTION_DAYS

_DAYS = re.compile(r"([1-9][0-9]{0,3})d")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")  # memory:, redis://...: the factory decides


def since_days(text: str) -> int:
    """`--since 7d`: a number of days, today included."""
    found = _DAYS.fullmatch(text.strip().lower())
    if found is None:
        raise argparse.ArgumentTypeError(f"expected a number of days such as 7d or 30d, got {text!r}")
    return int(found.group(1))


def _missing(target: str) -> bool:
    """A file path that does not exist: reading statistics must not create an empty store."""
    return target not in (MEMORY_URL, ":memory:") and not _URL.match(target) and not Path(target).exists()


async def stats(settings: Settings, db: str, clock: Clock, days: int, as_markdown: bool, out: TextIO) -> int:
    target = db.strip()
    if _missing(target):
        print(f"没有这个数据库 / no such store: {target}", file=sys.stderr)
        return EXIT_STORE
    last = clock.today()
    first = last - timedelta(days=days - 1)
    try:
        store = await open_store(target, clock)
        try:
            traffic = await store.traffic(first)
        finally:
            await store.close()
    except StoreError as exc:
        print(f"无法打开数据库 / store error: {exc}", file=sys.stderr)
        return EXIT_STORE
    summary = summarise(traffic, first, last)
    out.write(markdown(summary) if as_markdown else terminal(summary))
    if days > RETENTION_DAYS:
        print(f"note: records are kept {RETENTION_DAYS} days; older days are empty", file=sys.stderr)
    if not settings.record_unmatched:
        print("note: QIANZHU_RECORD_UNMATCHED is off: this bot records nothing new", file=sys.stderr)
    return 0

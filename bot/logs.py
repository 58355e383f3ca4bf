"""Logging for every command: text or JSON lines, a request id per HTTP request, repeated warnings counted.

An operator keeps these logs, so they must stay small under attack and hold nothing that identifies a user:
a flood of forged requests gives a few lines and a count instead of one line each (`RateLimit`), and the
libraries that log Bot API parameters (chat ids, reply texts) at DEBUG are held at INFO (`LIBRARY_FLOOR`).
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import sys
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

REQUEST_ID: ContextVar[str | None] = ContextVar("qianzhu_request_id", default=None)
_PROCESS = secrets.token_hex(3)  # ids stay distinct across the processes that share one log
_COUNTER = itertools.count(1)

# python-telegram-bot logs every Bot API call with its parameters (chat ids, texts) at DEBUG, httpcore every
# step of every call; at INFO they log only what happens to the process.
LIBRARY_FLOOR = {"telegram": logging.INFO, "httpcore": logging.INFO, "hpack": logging.INFO}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def new_request_id() -> str:
    """Sets and returns a fresh id for the current request (its task's context)."""
    request_id = f"{_PROCESS}-{next(_COUNTER):x}"
    REQUEST_ID.set(request_id)
    return request_id


class TextFormatter(logging.Formatter):
    """The classic line, with the request id at the end when there is one."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = REQUEST_ID.get()
        return line if request_id is None else f"{line} [request {request_id}]"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and request_id and exception when present."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


@dataclass
class _Window:
    start: float
    passed: int = 0
    suppressed: int = 0


class RateLimit(logging.Filter):
    """Lets `burst` records per logger, level and message template through per `interval` seconds, and counts
    the rest. The count is reported as one record ("N similar messages suppressed") when the next record of that
    kind opens a new interval, or when `flush` finds the interval over (the server calls it every few seconds
    and every command once at exit). Records below WARNING pass: those are only on when asked for."""

    SUMMARY = "%d similar messages suppressed in the last %.0f s: %s"
    MAX_KINDS = 10_000  # message templates are few; this bounds the table if a caller formats its own strings

    def __init__(self, burst: int = 5, interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.burst, self.interval, self._clock = burst, interval, clock
        self._windows: dict[tuple[str, int, str], _Window] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or getattr(record, "qianzhu_summary", False):
            return True
        kind = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        with self._lock:
            window = self._windows.get(kind)
            if window is None or now - window.start >= self.interval:
                if len(self._windows) >= self.MAX_KINDS:
                    self._windows.clear()
                self._windows[kind] = _Window(now, passed=1)
                report = (kind, window.suppressed, now - window.start) if window and window.suppressed else None
                allow = True
            else:
                allow = window.passed < self.burst
                if allow:
                    window.passed += 1
                else:
                    window.suppressed += 1
                report = None
        if report is not None:
            self._report(*report)
        return allow

    def flush(self, everything: bool = False) -> None:
        """Reports the counts of intervals that are over (all of them with `everything`, at exit)."""
        now, due = self._clock(), []
        with self._lock:
            for kind, window in self._windows.items():
                if window.suppressed and (everything or now - window.start >= self.interval):
                    due.append((kind, window.suppressed, now - window.start))
                    window.suppressed = 0
        for report in due:
            self._report(*report)

    def _report(self, kind: tuple[str, int, str], count: int, seconds: float) -> None:
        name, level, template = kind
        logging.getLogger(name).log(level, self.SUMMARY, count, seconds, template, extra={"qianzhu_summary": True})


def configure(level: str, log_format: str, stream: TextIO | None = None, limit: RateLimit | None = None) -> None:
    """Replaces the root logger's handlers with one that writes `log_format` ("text" or "json") to `stream`
    (stderr), rate-limited; holds the libraries in LIBRARY_FLOOR at INFO or above."""
    root = logging.getLogger()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    limit = limit or RateLimit()
    handler.addFilter(limit)
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    numeric = root.getEffectiveLevel()
    for name, floor in LIBRARY_FLOOR.items():
        logging.getLogger(name).setLevel(max(numeric, floor))


def flush(everything: bool = False) -> None:
    """Reports what the root handlers' rate limits held back (see `RateLimit.flush`)."""
    for handler in logging.getLogger().handlers:
        for limit in handler.filters:
            if isinstance(limit, RateLimit):
                limit.flush(everything)

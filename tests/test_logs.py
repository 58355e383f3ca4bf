"""Logs an operator can keep: repeated warnings counted instead of written, JSON lines, request ids."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot import logs
from bot.logs import REQUEST_ID, JsonFormatter, RateLimit, TextFormatter, new_request_id


class Ticks:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def limited() -> Iterator[tuple[logging.Logger, io.StringIO, Ticks, RateLimit]]:
    """A logger of its own writing through a rate-limited handler into a buffer."""
    out, ticks = io.StringIO(), Ticks()
    limit = RateLimit(burst=3, interval=60, clock=ticks)
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(limit)
    logger = logging.getLogger("qianzhu.test.limited")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, out, ticks, limit
    logger.removeHandler(handler)


def test_a_flood_of_one_warning_leaves_a_few_lines_and_a_count(
    limited: tuple[logging.Logger, io.StringIO, Ticks, RateLimit],
) -> None:
    logger, out, ticks, limit = limited
    for n in range(10_000):
        logger.warning("rejected a /wechat request with %d: %s", 403, f"bad signature {n}")
    logger.warning("another kind of warning")
    logger.info("info lines are never held back %d", 1)
    lines = out.getvalue().splitlines()
    assert len(lines) == 5
    assert lines[:3] == [
        f"WARNING qianzhu.test.limited: rejected a /wechat request with 403: bad signature {n}" for n in range(3)
    ]
    limit.flush()  # the interval is not over: nothing to report yet
    assert len(out.getvalue().splitlines()) == 5
    ticks.now += 61
    limit.flush()
    summary = out.getvalue().splitlines()[-1]
    assert summary == (
        "WARNING qianzhu.test.limited: 9997 similar messages suppressed in the last 61 s: "
        "rejected a /wechat request with %d: %s"
    )
    limit.flush(everything=True)  # reported once only
    assert out.getvalue().splitlines()[-1] == summary


def test_the_count_comes_before_the_first_line_of_the_next_interval(
    limited: tuple[logging.Logger, io.StringIO, Ticks, RateLimit],
) -> None:
    logger, out, ticks, _ = limited
    for _ in range(5):
        logger.error("the store failed: %s", "locked")
    ticks.now += 60
    logger.error("the store failed: %s", "locked")
    assert out.getvalue().splitlines()[-2:] == [
        "ERROR qianzhu.test.limited: 2 similar messages suppressed in the last 60 s: the store failed: %s",
        "ERROR qianzhu.test.limited: the store failed: locked",
    ]


def record(message: str, exc: BaseException | None = None) -> logging.LogRecord:
    info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("bot.test", logging.WARNING, __file__, 1, message, (), info)


def test_json_lines_carry_the_request_id_and_the_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError as exc:
        failed = record("a request failed", exc)
    token = REQUEST_ID.set(None)
    try:
        plain = json.loads(JsonFormatter().format(record("nothing to see")))
        request_id = new_request_id()
        inside = json.loads(JsonFormatter().format(failed))
    finally:
        REQUEST_ID.reset(token)
    assert set(plain) == {"time", "level", "logger", "message"}
    assert plain["level"] == "WARNING"
    assert plain["time"].endswith("+00:00")
    assert inside["request_id"] == request_id
    assert inside["message"] == "a request failed"
    assert inside["exception"].startswith("Traceback")
    assert "ValueError: boom" in inside["exception"]
    assert "\n" not in JsonFormatter().format(failed)


def test_request_ids_differ_and_text_lines_end_with_them() -> None:
    token = REQUEST_ID.set(None)
    try:
        assert not TextFormatter().format(record("no request")).endswith("]")
        first, second = new_request_id(), new_request_id()
        line = TextFormatter().format(record("in a request"))
    finally:
        REQUEST_ID.reset(token)
    assert first != second
    assert line.endswith(f"WARNING bot.test: in a request [request {second}]")


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    floors = {name: logging.getLogger(name).level for name in logs.LIBRARY_FLOOR}
    yield
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, floor in floors.items():
        logging.getLogger(name).setLevel(floor)


@pytest.mark.usefixtures("restored_logging")
def test_at_debug_the_bot_api_libraries_still_log_only_from_info() -> None:
    out = io.StringIO()
    logs.configure("DEBUG", "json", out)
    logging.getLogger("telegram.ext.ExtBot").debug("Calling Bot API endpoint `sendMessage` with {'chat_id': 918273645}")
    logging.getLogger("httpcore.http11").debug("send_request_body.started")
    logging.getLogger("telegram.ext.Application").info("Application started")
    logging.getLogger("bot.test").debug("our own debug line")
    messages = [json.loads(line)["message"] for line in out.getvalue().splitlines()]
    assert messages == ["Application started", "our own debug line"]


@pytest.mark.usefixtures("restored_logging")
def test_flush_at_exit_reports_what_the_configured_handler_held_back() -> None:
    out = io.StringIO()
    logs.configure("WARNING", "text", out, RateLimit(burst=2, interval=60, clock=Ticks()))
    for _ in range(50):
        logging.getLogger("bot.test").warning("a forged request")
    logs.flush(everything=True)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[-1].endswith("WARNING bot.test: 48 similar messages suppressed in the last 0 s: a forged request")

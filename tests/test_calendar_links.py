"""Calendar links: signed, expiring tokens (bot/calendar_links.py), their settings, and the route that serves the
file over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta

import httpx
import pytest
from icalendar import Calendar
from pydantic import SecretStr

from bot.calendar_links import LIFETIME, MAX_TOKEN_CHARS, CalendarLinks, Link
from bot.core.clock import Clock, FixedClock, TestClock
from bot.core.engine import Engine
from bot.core.verdicts import Verdict, decide
from bot.runtime import Runtime
from bot.server import build_app
from bot.settings import Settings
from bot.store.memory import MemoryStore
from tests.conftest import TODAY
from tests.servers import serving
from tests.wechat_kit import runtime, settings

SECRET = "calendar-link-secret-for-tests-0123456789"
BASE = "https://bot.example.com"
DEADLINE = date(2026, 12, 20)  # 上海, expiring on 2026-12-20, asked on TODAY (2026-11-26): not expired


def verdict(engine: Engine, expiry: date = DEADLINE, today: date = TODAY, city: str = "上海") -> Verdict:
    return decide(expiry, engine.catalog.rule_for(city), today, engine.dialog.processing)


def link(engine: Engine, clock: Clock, secret: str = SECRET, base: str = BASE) -> Link:
    made = CalendarLinks(secret, base, clock).link_for(verdict(engine), "上海", "上海")
    assert made is not None
    return made


def token_of(made: Link) -> str:
    return made.url.rsplit("/", 1)[1].removesuffix(".ics")


def test_a_token_reads_back_as_made(shared_engine_parts: Engine, clock: FixedClock) -> None:
    made = link(shared_engine_parts, clock)
    assert made.url.startswith(f"{BASE}/calendar/")
    assert made.url.endswith(".ics")
    assert made.until == TODAY + LIFETIME  # 7 days, earlier than the day after the deadline
    facts = CalendarLinks(SECRET, BASE, clock).read(token_of(made))
    assert facts is not None
    assert (facts.label, facts.rule_city, facts.expiry, facts.today, facts.deadline) == (
        "上海",
        "上海",
        DEADLINE,
        TODAY,
        DEADLINE,
    )


def test_a_near_deadline_ends_the_link_the_day_after(shared_engine_parts: Engine, clock: FixedClock) -> None:
    soon = verdict(shared_engine_parts, expiry=TODAY + timedelta(days=2))
    made = CalendarLinks(SECRET, BASE, clock).link_for(soon, "上海", "上海")
    assert made is not None
    assert made.until == TODAY + timedelta(days=3)


def test_tampered_foreign_malformed_and_oversized_tokens_are_refused(
    shared_engine_parts: Engine, clock: FixedClock
) -> None:
    links = CalendarLinks(SECRET, BASE, clock)
    token = token_of(link(shared_engine_parts, clock))
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[10] ^= 1  # one bit of the signed facts
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    foreign = token_of(link(shared_engine_parts, clock, secret="another-secret-of-enough-length"))
    for bad in (tampered, foreign, token[:-2], token + "A", "", "not a token", "+" + token[1:], "A" * 5):
        assert links.read(bad) is None, bad
    assert links.read("A" * (MAX_TOKEN_CHARS + 1)) is None
    assert links.read(token) is not None


def test_a_token_expires(shared_engine_parts: Engine, clock: FixedClock) -> None:
    token = token_of(link(shared_engine_parts, clock))
    last_evening = FixedClock.on(TODAY + LIFETIME, hour=23)
    assert CalendarLinks(SECRET, BASE, last_evening).read(token) is not None
    next_midnight = FixedClock.on(TODAY + LIFETIME + timedelta(days=1), hour=0)
    assert CalendarLinks(SECRET, BASE, next_midnight).read(token) is None


def test_no_link_without_a_deadline_or_for_an_overlong_label(shared_engine_parts: Engine, clock: FixedClock) -> None:
    links = CalendarLinks(SECRET, BASE, clock)
    lapsed = verdict(shared_engine_parts, expiry=date(2020, 1, 1))
    assert lapsed.deadline is None
    assert links.link_for(lapsed, "上海", "上海") is None
    assert links.link_for(verdict(shared_engine_parts), "上" * 400, "上海") is None


def test_a_short_secret_is_refused(clock: FixedClock) -> None:
    with pytest.raises(ValueError, match="at least"):
        CalendarLinks("short", BASE, clock)


def test_settings() -> None:
    on = Settings.from_env({"QIANZHU_PUBLIC_URL": "https://bot.example.com/", "QIANZHU_LINK_SECRET": SECRET})
    assert on.public_url == "https://bot.example.com"
    assert on.links_on
    assert SECRET not in repr(on)
    assert Settings.from_env({"QIANZHU_PUBLIC_URL": "http://127.0.0.1:8080"}).public_url == "http://127.0.0.1:8080"
    assert not Settings.from_env({"QIANZHU_PUBLIC_URL": "https://bot.example.com"}).links_on
    assert not Settings.from_env({}).links_on
    for bad in ("http://bot.example.com", "ftp://x", "https://", "https://bot.example.com/?a=1", "bot.example.com"):
        with pytest.raises(ValueError, match="QIANZHU_PUBLIC_URL"):
            Settings.from_env({"QIANZHU_PUBLIC_URL": bad})
    with pytest.raises(ValueError, match="QIANZHU_LINK_SECRET"):
        Settings.from_env({"QIANZHU_LINK_SECRET": "short"})


def with_links(shared: Engine, clock: Clock, **extra: object) -> Runtime:
    config = settings(public_url=BASE, link_secret=SecretStr(SECRET), **extra)
    return runtime(shared, MemoryStore(clock), clock, config)


@asynccontextmanager
async def served(run: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(build_app(run), access_log=False) as base, httpx.AsyncClient(base_url=base) as client:
        yield client


async def test_the_route_serves_the_file(shared_engine_parts: Engine, clock: FixedClock) -> None:
    token = token_of(link(shared_engine_parts, clock))
    async with served(with_links(shared_engine_parts, clock)) as client:
        response = await client.get(f"/calendar/{token}.ics")
        head = await client.head(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="qianzhu-2026-12-20.ics"'
    assert response.headers["cache-control"] == "private, no-store"
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert DEADLINE in [event.decoded("dtstart") for event in events]
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == "text/calendar; charset=utf-8"


async def test_bad_and_expired_links_are_not_found(shared_engine_parts: Engine, clock: FixedClock) -> None:
    token = token_of(link(shared_engine_parts, clock))
    run = with_links(shared_engine_parts, clock)
    async with served(run) as client:
        for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 2000, "..", "abc"):
            response = await client.get(f"/calendar/{bad}.ics")
            assert response.status_code == 404
            assert response.text == "not found\n"
        metrics = (await client.get("/metrics")).text
    assert 'qianzhu_channel_errors_total{channel="calendar",kind="not_found"} 4' in metrics
    # The test clock (QIANZHU_TODAY with QIANZHU_TESTING=1), eight days on: the link has expired.
    ahead = Settings.from_env({"QIANZHU_TESTING": "1", "QIANZHU_TODAY": (TODAY + timedelta(days=8)).isoformat()})
    assert ahead.today is not None
    async with served(with_links(shared_engine_parts, TestClock(ahead.today, clock))) as client:
        assert (await client.get(f"/calendar/{token}.ics")).status_code == 404


async def test_no_route_without_links(shared_engine_parts: Engine, clock: FixedClock) -> None:
    token = token_of(link(shared_engine_parts, clock))
    run = runtime(shared_engine_parts, MemoryStore(clock), clock, settings(public_url=BASE))  # no secret
    async with served(run) as client:
        assert (await client.get(f"/calendar/{token}.ics")).status_code == 404

"""WeChat's 加到日历: with calendar links configured, a verdict offers it by number and answers it with a link that
`qianzhu serve` turns into the .ics file; without them, it is never offered. Signed WeChat requests and the link's
GET go over real HTTP on 127.0.0.1."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import httpx
from icalendar import Calendar
from pydantic import SecretStr

from bot.catalog.catalog import Catalog
from bot.core.clock import Clock, FixedClock, TestClock
from bot.core.engine import Engine
from bot.runtime import Runtime
from bot.settings import Settings
from bot.store.memory import MemoryStore
from tests.conftest import TODAY
from tests.wechat_kit import WeChat, next_msg_id, runtime, settings, text_xml, wechat_server

SECRET = "calendar-link-secret-for-tests-0123456789"
BASE = "https://bot.example.com"
ASK = "我在上海，居住证12月20号到期"
DEADLINE = date(2026, 12, 20)
LINK = re.compile(r"https://bot\.example\.com/calendar/[A-Za-z0-9_-]+\.ics")


def with_links(shared: Engine, clock: Clock) -> Runtime:
    config = settings(public_url=BASE, link_secret=SecretStr(SECRET))
    return runtime(shared, MemoryStore(clock), clock, config)


async def say(wechat: WeChat, client: httpx.AsyncClient, openid: str, text: str) -> str:
    reply = await wechat.send(client, text_xml(openid, text, next_msg_id(), wechat.now()))
    return reply["Content"]


def number_of(label: str, content: str) -> str:
    """The number the reply gives a choice: 「还可以问我（回复编号即可）：1 材料｜…｜7 加到日历」."""
    found = re.search(rf"(\d+)\.? {label}", content)
    assert found is not None, content
    return found.group(1)


def deadlines(ics: bytes) -> list[date]:
    return [event.decoded("dtstart") for event in Calendar.from_ical(ics).walk("VEVENT")]


async def test_the_number_for_the_calendar_gives_a_link_to_the_file(
    shared_engine_parts: Engine, clock: FixedClock, catalog: Catalog
) -> None:
    label = catalog.prompts.details["calendar"][0]
    wechat = WeChat(clock)
    async with wechat_server(with_links(shared_engine_parts, clock)) as client:
        card = await say(wechat, client, "o-calendar-1", ASK)
        assert catalog.prompts.details["remind"][0] not in card  # WeChat cannot come back later with a reminder
        answer = await say(wechat, client, "o-calendar-1", number_of(label, card))
        found = LINK.search(answer)
        assert found is not None, answer
        response = await client.get(urlsplit(found.group()).path)
        typed = LINK.search(await say(wechat, client, "o-calendar-1", label))  # typed, not picked by number
        assert typed is not None
    assert "浏览器" in answer
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert DEADLINE in deadlines(response.content)


async def test_tampered_and_expired_links_are_not_found(
    shared_engine_parts: Engine, clock: FixedClock, catalog: Catalog
) -> None:
    label = catalog.prompts.details["calendar"][0]
    wechat = WeChat(clock)
    async with wechat_server(with_links(shared_engine_parts, clock)) as client:
        await say(wechat, client, "o-calendar-2", ASK)
        found = LINK.search(await say(wechat, client, "o-calendar-2", label))
        assert found is not None
        path = urlsplit(found.group()).path
        token = path.removeprefix("/calendar/").removesuffix(".ics")
        flipped = token[:20] + ("B" if token[20] == "A" else "A") + token[21:]
        assert (await client.get(f"/calendar/{flipped}.ics")).status_code == 404
        assert (await client.get(path)).status_code == 200
    # Another replica with the same secret, on the test clock (QIANZHU_TODAY with QIANZHU_TESTING=1) 8 days on.
    ahead = Settings.from_env({"QIANZHU_TESTING": "1", "QIANZHU_TODAY": (TODAY + timedelta(days=8)).isoformat()})
    assert ahead.today is not None
    async with wechat_server(with_links(shared_engine_parts, TestClock(ahead.today, clock))) as client:
        response = await client.get(path)
    assert response.status_code == 404
    assert response.text == "not found\n"


async def test_without_links_the_calendar_is_not_offered(
    client: httpx.AsyncClient, clock: FixedClock, catalog: Catalog
) -> None:
    label = catalog.prompts.details["calendar"][0]
    wechat = WeChat(clock)
    card = await say(wechat, client, "o-calendar-3", ASK)
    assert label not in card
    assert catalog.prompts.details["remind"][0] not in card
    answer = await say(wechat, client, "o-calendar-3", label)
    assert "/calendar/" not in answer
    assert catalog.prompts.prompts["action_calendar"].split("{")[0] in answer  # the engine's own answer
    assert (await client.get("/calendar/anything.ics")).status_code == 404

"""Every case of every rule, through the WeChat reply path over real HTTP: the verdict card fits one passive reply
(2048 bytes) with its countdown, deadline and caution line, and every detail asked for by number fits too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest

from bot.catalog.catalog import Catalog
from bot.channels.wechat.texts import load_texts
from bot.core.clock import FixedClock
from bot.core.engine import Engine
from bot.core.render import fmt_date
from bot.core.rules import CityRule
from bot.core.verdicts import Case, classify
from bot.store.memory import MemoryStore
from tests.wechat_kit import WeChat, next_msg_id, runtime, text_xml, wechat_server

TODAY = date(2026, 12, 1)
LIMIT = 2048
CAUTION = "办理前请向当地派出所或社区服务中心确认"
TRUNCATED = load_texts().truncated
NATIONAL = "乌鲁木齐"  # no rule of its own nor of its province: the national fallback


def numbered(reply: str, catalog: Catalog) -> dict[str, int]:
    """{label: number} from the reply's last line, 「还可以问我（…）：1 材料｜2 去哪办｜…」."""
    last = reply.splitlines()[-1]
    heading = catalog.prompt("more_heading")
    if not last.startswith(heading):
        return {}
    return {item.split(" ", 1)[1]: int(item.split(" ", 1)[0]) for item in last[len(heading) :].split("｜")}


def places(catalog: Catalog) -> list[str]:
    """Each city with a rule, a city of each province with a rule (and none of its own), and the fallback."""
    cities = list(catalog.rules.cities)
    for province in catalog.rules.provinces:
        members = [c for c in catalog.places.provinces().get(province, []) if c not in catalog.rules.cities]
        cities += members[:1]
    assert catalog.rule_for(NATIONAL).level == "national"
    return [*cities, NATIONAL]


def expiries(rule: CityRule) -> dict[Case, list[date]]:
    """Expiry days that reach each case this rule has, with the edges (the deadline today, the day after)."""
    found: dict[Case, list[date]] = {}
    for back in (-300, -20, 0, 1, 2, 10, 30, 31, 59, 60, 61, 100, 182, 183, 200, 366, 400, 800, 1100):
        expiry = TODAY - timedelta(days=back)
        case, _, _ = classify(expiry, rule, TODAY)
        found.setdefault(case, []).append(expiry)
    return found


@pytest.fixture
async def client(shared_engine_parts: Engine) -> AsyncIterator[httpx.AsyncClient]:
    clock = FixedClock.on(TODAY)
    async with wechat_server(runtime(shared_engine_parts, MemoryStore(clock), clock)) as client:
        yield client


async def test_every_case_in_every_city_fits_with_its_countdown_deadline_and_caution(
    client: httpx.AsyncClient, shared_engine_parts: Engine
) -> None:
    catalog = shared_engine_parts.catalog
    wechat = WeChat(FixedClock.on(TODAY))
    checked: dict[Case, int] = {}
    for n, city in enumerate(places(catalog)):
        rule = catalog.rule_for(city)
        for case, days in expiries(rule).items():
            for expiry in days:
                user = f"o-card-{n}-{expiry:%Y%m%d}"
                text = f"我在{city}，居住证签注{expiry.year}年{expiry.month}月{expiry.day}日到期"
                reply = await wechat.send(client, text_xml(user, text, next_msg_id(), wechat.now()))
                card = reply["Content"]
                where = f"{city} {expiry} ({case})"
                assert len(card.encode()) <= LIMIT, where
                assert TRUNCATED not in card, where  # nothing was cut
                assert CAUTION in card, where
                _, deadline, _ = classify(expiry, rule, TODAY)
                head = card.splitlines()[0]
                if deadline is not None:
                    left = (deadline - TODAY).days
                    assert fmt_date(deadline) in head, where
                    assert str(left) in head or "今天" in head, where
                if rule.level == "national" and city not in catalog.rules.cities:
                    assert "国家" in card, where  # says that the national rule was used
                # Every detail, picked by the number the last reply gave it, fits one reply too.
                seen: set[str] = set()
                offered = numbered(card, catalog)
                assert offered, where
                while unseen := [label for label in offered if label not in seen]:
                    seen.add(unseen[0])
                    number = offered[unseen[0]]
                    reply = await wechat.send(client, text_xml(user, str(number), next_msg_id(), wechat.now()))
                    detail = reply["Content"]
                    assert len(detail.encode()) <= LIMIT, f"{where} {unseen[0]}"
                    assert TRUNCATED not in detail, f"{where} {unseen[0]}"
                    offered = numbered(detail, catalog)
                checked[case] = checked.get(case, 0) + 1
    assert set(checked) == {"not_expired", "within_grace", "late_endorse", "reapply"}

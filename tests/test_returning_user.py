"""Returning users: a verdict from the date and city kept from an earlier conversation says what it is based on
and offers to change them; `qianzhu chat` says it resumes a stored conversation, and `--new` starts afresh."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import SHANGHAI, FixedClock
from bot.core.engine import Engine
from bot.core.messages import Message, Reply
from bot.core.session import returning
from bot.store.sqlite import SqliteStore

BASED = "按您之前说的："
CHANGE = "改日期或城市"
DAY_ONE = date(2026, 10, 1)


@pytest.fixture
def day_clock() -> FixedClock:
    return FixedClock.on(DAY_ONE, hour=10)


@pytest.fixture
async def kept(shared_engine_parts: Engine, day_clock: FixedClock, tmp_path: Path) -> AsyncIterator[Engine]:
    store = await SqliteStore.open(str(tmp_path / "kept.db"), day_clock)
    yield shared_engine_parts.with_store(store, day_clock)
    await store.close()


async def say(engine: Engine, text: str) -> list[Reply]:
    return await engine.handle(Message("wechat", "back-again", text))


def joined(replies: list[Reply]) -> str:
    return "\n".join(reply.text for reply in replies)


async def test_a_user_back_on_a_later_day_hears_what_the_verdict_is_based_on(
    kept: Engine, day_clock: FixedClock
) -> None:
    first = await say(kept, "我在上海，签注10月20号到期")
    assert "还剩 19 天" in joined(first)
    assert BASED not in joined(first)
    day_clock.current += timedelta(days=4)
    again = await say(kept, "还有几天")
    text = joined(again)
    assert text.startswith(f"{BASED}上海，签注10月20日到期。"), text
    assert "还剩 15 天" in text  # computed from the new day
    assert CHANGE in again[-1].choices
    # Said once per return: the next question in the same conversation gets the plain answer.
    assert BASED not in joined(await say(kept, "还有几天"))


async def test_the_change_choice_starts_afresh_and_asks_for_the_date(kept: Engine, day_clock: FixedClock) -> None:
    await say(kept, "我在上海，签注10月20号到期")
    day_clock.current += timedelta(days=2)
    assert CHANGE in (await say(kept, "还有几天"))[-1].choices
    fresh = joined(await say(kept, CHANGE))
    assert "从头开始" in fresh
    assert "哪天到期" in fresh
    answer = joined(await say(kept, "11月5号到期，在杭州"))
    assert "杭州｜" in answer
    assert BASED not in answer


async def test_only_the_kept_value_is_named_when_the_user_gives_the_other(kept: Engine, day_clock: FixedClock) -> None:
    await say(kept, "我在上海，签注10月20号到期")
    day_clock.current += timedelta(days=1)
    text = joined(await say(kept, "签注10月25号到期"))
    assert f"{BASED}上海。" in text, text
    assert "10月20日" not in text.split("\n")[0]


async def test_no_basis_line_when_the_user_restates_both_values(kept: Engine, day_clock: FixedClock) -> None:
    await say(kept, "我在上海，签注10月20号到期")
    day_clock.current += timedelta(days=3)
    text = joined(await say(kept, "我在上海，签注10月20号到期，还有几天"))
    assert BASED not in text
    assert "还剩 16 天" in text


async def test_a_conversation_on_the_same_day_is_not_a_return(kept: Engine, day_clock: FixedClock) -> None:
    await say(kept, "我在上海，签注10月20号到期")
    day_clock.current += timedelta(minutes=40)
    assert BASED not in joined(await say(kept, "还有几天"))


async def test_the_kept_values_are_named_at_the_first_verdict_after_other_questions(
    kept: Engine, day_clock: FixedClock
) -> None:
    await say(kept, "我在上海，签注10月20号到期")
    day_clock.current += timedelta(days=5)
    await say(kept, "办签注收费吗")  # no verdict: nothing to name yet
    assert joined(await say(kept, "还有几天")).startswith(BASED)


def test_returning_means_hours_away_or_a_new_day_after_a_pause() -> None:
    evening = datetime(2026, 10, 1, 23, 50, tzinfo=SHANGHAI)
    saved = int(evening.timestamp())
    assert not returning(0, evening)
    assert not returning(saved, evening + timedelta(minutes=20))  # past midnight, still talking
    assert returning(saved, evening + timedelta(minutes=40))  # the next day, after a pause
    morning = datetime(2026, 10, 2, 8, tzinfo=SHANGHAI)
    assert not returning(int(morning.timestamp()), morning + timedelta(hours=2))
    assert returning(int(morning.timestamp()), morning + timedelta(hours=3))


ROOT = Path(__file__).resolve().parent.parent


def chat(db: Path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QIANZHU_")}
    command = [sys.executable, "-m", "bot", "chat", "--db", str(db), *args]
    return subprocess.run(
        command, cwd=ROOT, input=stdin, env=env, capture_output=True, text=True, timeout=120, check=True
    )


def test_chat_says_it_resumes_a_stored_conversation_and_new_starts_afresh(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    first = chat(db, "我在上海，签注10月20号到期\n", "--today", "2026-10-01")
    assert "接着上次" not in first.stdout
    resumed = chat(db, "还有几天\n", "--today", "2026-10-05")
    assert resumed.stdout.startswith("（接着上次保存的对话：上海，签注10月20日到期。"), resumed.stdout
    assert "还剩 15 天" in resumed.stdout
    fresh = chat(db, "", "--today", "2026-10-05", "--new")
    assert "接着上次" not in fresh.stdout
    after = chat(db, "还有几天\n", "--today", "2026-10-05")  # --new forgot it: nothing to resume, nothing kept
    assert "接着上次" not in after.stdout
    assert "还剩" not in after.stdout

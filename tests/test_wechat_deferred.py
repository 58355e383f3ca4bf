"""Answers kept for the next message: how they share one 2,048-byte reply with the new answer, and that a store
failing for a while delays them without losing them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.channels.wechat.deferred import Composed, Deferred, combine, without_choices
from bot.channels.wechat.delivery import LateDelivery
from bot.channels.wechat.texts import MAX_TEXT_BYTES, load_texts
from bot.core.clock import FixedClock
from bot.metrics import Metrics
from bot.store.memory import MemoryStore
from tests.sqlite_kit import opened, raw

TEXTS = load_texts()
GAP = "\n\n"
USER = "key-of-a-user"
QUICK = (0.0, 0.05, 0.05, 0.1, 0.2, 0.4)  # the pauses between tries, shortened for tests


def size(text: str) -> int:
    return len(text.encode())


def test_kept_answers_lead_the_reply_when_everything_fits() -> None:
    text, carried, fits = combine(["答复一", "答复二"], "新的答复", TEXTS)
    assert text == GAP.join([TEXTS.earlier, "答复一", "答复二", TEXTS.now, "新的答复"])
    assert (carried, fits) == (2, True)


def test_nothing_kept_is_the_answer_alone() -> None:
    assert combine([], "新的答复", TEXTS) == ("新的答复", 0, True)


def test_when_not_everything_fits_the_oldest_go_first_and_the_new_answer_waits() -> None:
    old, older = "旧" * 300, "更旧" * 150  # 900 bytes each
    text, carried, fits = combine([older, old, "第三条" * 30], "新" * 300, TEXTS)
    assert text == GAP.join([TEXTS.earlier, older, old, TEXTS.held])
    assert (carried, fits) == (2, False)
    assert size(text) <= MAX_TEXT_BYTES


def test_an_answer_near_the_limit_goes_out_whole() -> None:
    """Answers are up to 2,048 bytes themselves: one that leaves no room for the lines around it goes out alone
    (or with just the `earlier` line), never shortened."""
    near = "这是一句话。" * 113  # 2,034 bytes
    assert size(near) <= MAX_TEXT_BYTES
    assert combine([near, "二"], "新", TEXTS) == (near, 1, False)
    shorter = "这是一句话。" * 105  # room for the `earlier` line, not for `held` too
    assert combine([shorter], "新" * 100, TEXTS) == (TEXTS.earlier + GAP + shorter, 1, False)


def test_an_old_answer_offers_no_choices() -> None:
    """A number picks from the newest turn's choices, so an answer shown again must not number its own."""
    answer = "您在哪个城市？" + GAP + TEXTS.choices_heading + "\n1. 上海\n2. 北京"
    assert without_choices(answer, TEXTS) == "您在哪个城市？"
    assert without_choices("没有选项的答复", TEXTS) == "没有选项的答复"


async def test_kept_answers_leave_the_store_once_shown(clock: FixedClock) -> None:
    store, metrics = MemoryStore(clock), Metrics()
    deferred = Deferred(store, TEXTS, metrics)
    assert await deferred.keep(USER, ["答复一"])
    assert await deferred.keep(USER, ["答复二"], earlier=["答复零"])  # put back in front: it never went out
    first = await deferred.attach(USER, "新的答复")
    second = await deferred.attach(USER, "又一个答复")
    assert first == Composed(
        GAP.join([TEXTS.earlier, "答复零", "答复一", "答复二", TEXTS.now, "新的答复"]),
        "新的答复",
        ("答复零", "答复一", "答复二"),
    )
    assert second == Composed("又一个答复", "又一个答复")
    assert metrics.late.value("wechat", "delivered") == 3


async def test_keeping_waits_out_a_locked_store(clock: FixedClock, tmp_path: Path) -> None:
    metrics = Metrics()
    async with opened(tmp_path / "q.db", clock, busy_timeout=0.05) as store:
        deferred = Deferred(store, TEXTS, metrics, pauses=QUICK)
        with raw(tmp_path / "q.db") as other:
            other.execute("BEGIN IMMEDIATE")
            keeping = asyncio.create_task(deferred.keep(USER, ["晚到的答复"]))
            await asyncio.sleep(0.3)
            assert not keeping.done()
            other.execute("ROLLBACK")
        assert await keeping
        reply = await deferred.attach(USER, "新的答复")
    assert reply.earlier == ("晚到的答复",)
    assert metrics.store_errors.value("wechat_later_keep") >= 1


async def test_a_reply_while_the_store_is_locked_leaves_the_kept_answers_for_later(
    clock: FixedClock, tmp_path: Path
) -> None:
    metrics = Metrics()
    async with opened(tmp_path / "q.db", clock, busy_timeout=0.05) as store:
        deferred = Deferred(store, TEXTS, metrics, pauses=QUICK)
        assert await deferred.keep(USER, ["晚到的答复"])
        with raw(tmp_path / "q.db") as other:
            other.execute("BEGIN IMMEDIATE")
            during = await deferred.attach(USER, "新的答复")
            other.execute("ROLLBACK")
        after = await deferred.attach(USER, "又一个答复")
    assert during == Composed("新的答复", "新的答复")  # shown later rather than lost
    assert after.earlier == ("晚到的答复",)
    assert metrics.store_errors.value("wechat_later_take") == 1


@pytest.mark.parametrize("failing", [False, True])
async def test_a_late_answer_that_cannot_be_kept_is_counted_as_failed(
    clock: FixedClock, tmp_path: Path, failing: bool
) -> None:
    metrics = Metrics()
    async with opened(tmp_path / "q.db", clock, busy_timeout=0.05) as store:
        late = LateDelivery(None, Deferred(store, TEXTS, metrics, pauses=QUICK[:2]), metrics)
        with raw(tmp_path / "q.db") as other:
            if failing:
                other.execute("BEGIN IMMEDIATE")
            await late.send("o-openid", USER, Composed("答复", "答复"))
            if failing:
                other.execute("ROLLBACK")
    assert metrics.late.value("wechat", "failed") == (1 if failing else 0)
    assert metrics.late.value("wechat", "deferred") == (0 if failing else 1)


def test_the_lines_leave_room_for_answers() -> None:
    for line in (TEXTS.earlier, TEXTS.now, TEXTS.held):
        assert size(line) <= 400

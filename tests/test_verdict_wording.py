"""The wording rules of the content audit (issue 9), through the real engine, on the whole verdict (`qianzhu ask
--full`, where every part of it is in one text); the card's own rules are in tests/test_verdict_card.py."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.clock import FixedClock
from bot.core.engine import Engine
from bot.core.messages import Message
from bot.store.memory import MemoryStore


@pytest.fixture
def engine(full_engine_parts: Engine) -> Engine:
    return full_engine_parts


async def ask(engine: Engine, text: str, today: date = date(2026, 11, 26)) -> str:
    clock = FixedClock.on(today)
    fresh = engine.with_store(MemoryStore(clock), clock)
    replies = await fresh.handle(Message("test", "wording", text))
    return "\n".join(reply.text for reply in replies)


async def test_a_medium_low_grace_period_is_never_a_bare_fact(engine: Engine) -> None:
    reply = await ask(engine, "我在上海，签注10月20日过期了")
    assert reply.startswith("【上海｜已过期，可能还在宽限期内】")
    assert "可信度：中低" in reply.split("\n")[1]  # the source and its confidence beside the figure
    assert "如果宽限期确是60天，还剩 23 天" in reply
    assert "当地规定过期后有60天宽限期" not in reply


async def test_a_low_confidence_cancellation_is_said_conditionally(engine: Engine) -> None:
    reply = await ask(engine, "我在北京，签注2026年3月1日到期，已经过期了")
    assert reply.startswith("【北京｜可能已超过补办期限：请先向派出所确认】")
    assert "可信度：低" in reply
    assert "可能要重新申领" in reply
    assert "已被注销" not in reply
    assert "不要先当作已经注销" in reply
    assert "派出所问清楚" in reply


async def test_a_deadline_on_a_day_off_names_the_last_working_day(engine: Engine) -> None:
    reply = await ask(engine, "我在上海，签注2026年8月3日到期，已经过期了", today=date(2026, 9, 20))
    assert "2026年10月2日（周五）是休息日" in reply  # 国庆
    assert "最好在2026年9月30日（周三）" in reply
    assert "递交申请的日期" in reply


async def test_a_weekend_deadline_in_a_year_without_the_official_calendar(engine: Engine) -> None:
    reply = await ask(engine, "我在上海，签注2027年2月4日到期", today=date(2027, 1, 20))
    assert "2027年2月4日（周四）" in reply
    reply = await ask(engine, "我在南京，签注2027年1月2日到期", today=date(2026, 12, 28))
    assert "2027年1月2日（周六）是周末" in reply
    assert "最好在2026年12月31日（周四）前去" in reply  # 元旦 (2027-01-01) is a statutory holiday


async def test_the_last_day_reads_as_today_not_zero_days_left(engine: Engine) -> None:
    reply = await ask(engine, "我在广州，签注今天到期")
    assert "今天（2026年11月26日（周四））是签注有效的最后一天" in reply
    assert "还剩 0 天" not in reply


async def test_no_local_rule_means_the_national_rule_said_honestly(engine: Engine) -> None:
    reply = await ask(engine, "我在石家庄，签注2026年9月1日到期，已经过期了")
    assert "国家条例没有宽限期（本地规定未核实）" in reply
    assert "当地规定过期后没有宽限期" not in reply
    assert "【石家庄｜已过期：还能补办签注，但居住年限要重新算】" in reply


async def test_a_city_without_grace_gets_the_plain_title(engine: Engine) -> None:
    reply = await ask(engine, "我在广州，签注昨天到期了")
    assert "已过宽限期" not in reply
    assert reply.startswith("【广州｜已过期：")


async def test_the_caution_comes_before_the_details(engine: Engine) -> None:
    reply = await ask(engine, "我在上海，签注10月20日过期了")
    assert reply.index("ℹ️ 依据") < reply.index("📄 要带的材料") < reply.index("📱 线上渠道")


async def test_processing_says_most_endorsements_are_done_on_the_spot(engine: Engine) -> None:
    reply = await ask(engine, "我在杭州，签注12月20号到期，还没过期")
    assert "签注多数当场办结" in reply
    assert "15日是发新证的时限" in reply


async def test_materials_need_one_kind_of_proof(engine: Engine) -> None:
    reply = await ask(engine, "我在杭州，签注2026年9月1日到期，已经过期了")
    assert "有一类即可" in reply


def test_the_day_before_reminder_counts_the_deadline_day() -> None:
    from pathlib import Path

    import yaml

    texts = yaml.safe_load((Path(__file__).parent.parent / "content" / "telegram.yaml").read_text(encoding="utf-8"))
    day_before = texts["reminders"]["day_before"]
    assert "明天之前" not in day_before
    assert "最晚明天" in day_before


async def test_city_answers_and_plans_hedge_too(engine: Engine) -> None:
    cancel = await ask(engine, "北京过期多久会注销")
    assert "可能会被注销" in cancel
    assert "可信度：低" in cancel.split("\n")[0]
    grace = await ask(engine, "上海过期以后多少天内补签不算断")
    assert "可能有60天宽限期" in grace
    clock = FixedClock.on(date(2026, 11, 26))
    conversation = engine.with_store(MemoryStore(clock), clock)
    await conversation.handle(Message("test", "plan", "我在上海，签注10月20日过期了"))
    plan = await conversation.handle(Message("test", "plan", "我明天去来得及吗"))
    assert "可能还在宽限期内" in plan[0].text


async def test_henan_re_registers_and_endorses_the_original_card(engine: Engine) -> None:
    reply = await ask(engine, "我在郑州，签注2026年3月1日到期，已经过期了")
    assert reply.startswith("【郑州｜已超过补办期限：要先重新登记】")
    assert "不用换新证" in reply
    assert "已被注销" not in reply
    assert "重新申领一张" not in reply


async def test_shenzhen_reapplication_needs_registration_and_social_insurance(engine: Engine) -> None:
    reply = await ask(engine, "我在深圳，签注2024年10月1日到期，已经过期了")
    assert "12个月" in reply
    assert "18个月" in reply
    assert "社保" in reply
    assert "再等满半年" not in reply


async def test_proxies_are_not_only_for_minors_and_the_elderly(engine: Engine) -> None:
    reply = await ask(engine, "签注能让别人代办吗")
    assert "代办" in reply
    assert "只有未成年人" not in reply
    assert "其他人一般要本人办" not in reply


async def test_shanghai_auto_endorsement_does_not_say_wait_for_the_expiry(engine: Engine) -> None:
    reply = await ask(engine, "我在上海，签注12月20号到期，还没过期")
    assert "到期仍未收到短信" not in reply
    assert "30天" in reply or "30日" in reply


async def test_passports_are_not_affected_and_fees_are_local(engine: Engine) -> None:
    passport = await ask(engine, "签注过期了影响办护照吗")
    assert "全国通办" in passport or "不受" in passport or "不影响" in passport
    fee = await ask(engine, "居住证丢了补办要钱吗")
    assert "当地" in fee or "各地" in fee
    hangzhou = await ask(engine, "我在杭州，签注2026年9月1日到期，已经过期了")
    assert "按时签注一般免费" not in hangzhou


async def test_wechat_never_cuts_the_caution(engine: Engine) -> None:
    """Content audit A.20: the confirm-locally line comes before the details, so the 2048-byte cut spares it."""
    from bot.channels.wechat.replies import render
    from bot.channels.wechat.texts import MAX_TEXT_BYTES, load_texts

    texts = load_texts()
    clock = FixedClock.on(date(2026, 11, 26))
    for city in engine.catalog.rules.cities:
        for expiry in ("2026年12月20日到期", "2026年11月20日到期，已经过期了", "2025年1月1日到期，已经过期了"):
            fresh = engine.with_store(MemoryStore(clock), clock)
            replies = await fresh.handle(Message("wechat", "fit", f"我在{city}，签注{expiry}"))
            passive = render(replies, texts)
            assert len(passive.encode()) <= MAX_TEXT_BYTES
            assert "办理前请向当地派出所或社区服务中心确认" in passive, (city, expiry)

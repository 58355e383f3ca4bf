"""The short verdict card and its details on demand, through the real dialog, for every rule and case."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.catalog.catalog import CONFIDENCE_LABELS, Catalog
from bot.core.dialog import Dialog, Turn
from bot.core.render import deciding_figure, fmt_date, is_hedged
from bot.core.session import Session

TODAY = date(2026, 12, 1)
CARD_MAX = 250  # characters: about a third of a phone screen
CAUTION = "办理前请向当地派出所或社区服务中心确认"
OFFSETS = (-300, -20, 0, 1, 10, 31, 61, 100, 183, 200, 400, 800, 1100)  # days since the expiry


def cities(catalog: Catalog) -> list[str]:
    province_cities = [
        next(c for c in catalog.places.provinces()[p] if c not in catalog.rules.cities) for p in catalog.rules.provinces
    ]
    return [*catalog.rules.cities, *province_cities, "乌鲁木齐"]


def ask(dialog: Dialog, text: str, session: Session | None = None) -> Turn:
    return dialog.respond(session if session is not None else Session(), text, TODAY)


def said(expiry: date, city: str) -> str:
    return f"我在{city}，居住证签注{expiry.year}年{expiry.month}月{expiry.day}日到期"


def test_every_card_is_short_and_leads_with_the_countdown(dialog: Dialog, catalog: Catalog) -> None:
    seen = set()
    for city in cities(catalog):
        rule = catalog.rule_for(city)
        for back in OFFSETS:
            turn = ask(dialog, said(TODAY - timedelta(days=back), city))
            verdict, [reply] = turn.verdict, turn.replies
            assert verdict is not None
            where = f"{city} {back} {verdict.case}"
            seen.add(verdict.case)
            assert len(reply.text) <= CARD_MAX, where
            head = reply.text.splitlines()[0]
            assert city in head, where
            if verdict.deadline is not None:
                assert fmt_date(verdict.deadline) in head, where  # with its weekday
                assert f"{verdict.days_left} 天" in head or "今天" in head, where
            assert reply.text.splitlines()[-1].startswith("ℹ️"), where
            assert CAUTION in reply.text, where
            figure = deciding_figure(verdict, rule)
            if figure is not None:  # the confidence of the figure that decides the case is on the caution line
                assert f"可信度：{CONFIDENCE_LABELS[figure.confidence]}" in reply.text, where
            if is_hedged(verdict, rule):  # a figure we are unsure of is never a bare fact
                assert "可能" in head or "有说法" in head, where
            assert reply.more, where
            assert reply.choices, where
            assert "提醒我" not in reply.choices
            assert "加到日历" not in reply.choices
    assert seen == {"not_expired", "within_grace", "late_endorse", "reapply"}


def test_the_national_fallback_says_so_on_the_card(dialog: Dialog) -> None:
    turn = ask(dialog, said(date(2026, 11, 1), "乌鲁木齐"))
    assert "国家《居住证暂行条例》" in turn.replies[0].text


def test_details_come_on_demand_for_the_verdict_given(dialog: Dialog, catalog: Catalog) -> None:
    session = Session()
    card = ask(dialog, said(date(2026, 10, 20), "上海"), session)
    rule = catalog.rule_for("上海")
    assert card.replies[0].choices == ("材料", "去哪办", "办理时间", "当地提示", "依据")  # 上海 names no online channel
    expected = {
        "材料": ["身份证", "已过期的居住证"],
        "去哪办": [rule.office],
        "办理时间": ["签注多数当场办结"],
        "当地提示": [rule.notes[0]],
        "依据": ["如果宽限期确是60天", "可信度：中低", CAUTION],
    }
    for label, parts in expected.items():
        turn = ask(dialog, label, session)
        assert turn.intent.startswith("detail."), label
        assert turn.verdict == card.verdict
        text = turn.replies[0].text
        assert all(part in text for part in parts), (label, text)
        assert label not in turn.replies[0].choices
        assert turn.replies[0].more
    assert session.city == "上海"
    assert session.expiry == date(2026, 10, 20)


def test_online_channels_are_offered_only_where_the_rule_names_some(dialog: Dialog, catalog: Catalog) -> None:
    session = Session()
    card = ask(dialog, said(date(2027, 1, 20), "深圳"), session)
    assert catalog.rule_for("深圳").channels
    assert "网上办" in card.replies[0].choices
    answer = ask(dialog, "网上办", session).replies[0].text
    assert catalog.rule_for("深圳").channels[0].name in answer


def test_a_detail_word_before_any_verdict_is_an_ordinary_question(dialog: Dialog) -> None:
    turn = ask(dialog, "材料")
    assert not turn.intent.startswith("detail.")
    assert "身份证" in turn.replies[0].text


@pytest.mark.parametrize("word", ["加到日历", "提醒我"])
def test_an_action_before_a_verdict_asks_for_what_is_missing(dialog: Dialog, word: str) -> None:
    session = Session()
    ask(dialog, "我在上海", session)
    turn = ask(dialog, word, session)
    assert turn.intent.startswith("action.")
    assert turn.verdict is None
    assert "哪天到期" in turn.replies[-1].text  # and the question it was waiting on comes back


def test_an_action_after_a_verdict_names_the_deadline(dialog: Dialog) -> None:
    session = Session()
    ask(dialog, said(date(2026, 10, 20), "上海"), session)
    turn = ask(dialog, "加到日历", session)
    assert turn.intent == "action.calendar"
    assert turn.verdict is not None
    assert turn.verdict.deadline == date(2026, 12, 19)
    assert fmt_date(date(2026, 12, 19)) in turn.replies[0].text


def test_the_full_text_keeps_every_part(catalog: Catalog, dialog: Dialog) -> None:
    full = Dialog(catalog, dialog.understanding, full=True)
    text = full.respond(Session(), said(date(2026, 10, 20), "上海"), TODAY).replies[0].text
    assert text.startswith("【上海｜已过期，可能还在宽限期内】")
    for part in ("📄 要带的材料", "📍 去哪里办", "🕐 办理时间", "💡 当地提示", "ℹ️ 依据"):
        assert part in text

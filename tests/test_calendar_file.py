"""The calendar file (.ics): built from real verdicts, parsed back with icalendar, its dates and alarms checked."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar, Event

from bot.calendar_file import ALARM_DAYS_BEFORE, PRODID, Basis, basis_of, calendar_file, uid
from bot.calendar_texts import CalendarTexts, load_texts
from bot.cli.ics_cmd import write_ics
from bot.core.clock import FixedClock
from bot.core.dialog import Dialog, Turn
from bot.core.engine import Engine
from bot.core.messages import Message
from bot.core.session import Session
from bot.core.verdicts import Verdict, decide
from bot.store.memory import MemoryStore

TODAY = date(2026, 12, 2)
NOW = FixedClock.on(TODAY, hour=12).now()  # 04:00 UTC


@pytest.fixture(scope="module")
def texts() -> CalendarTexts:
    return load_texts()


def verdict(dialog: Dialog, city: str | None, expiry: date, today: date = TODAY) -> Verdict:
    return decide(expiry, dialog.catalog.rule_for(city), today, dialog.processing)


def build(dialog: Dialog, texts: CalendarTexts, city: str, expiry: date, now: datetime = NOW) -> bytes | None:
    found = verdict(dialog, city, expiry)
    return calendar_file(found, city, texts, now, basis_of(dialog.catalog, found, dialog.catalog.rule_for(city)))


def events(content: bytes) -> list[Event]:
    calendar = Calendar.from_ical(content)
    assert calendar["PRODID"] == PRODID
    assert calendar["VERSION"] == "2.0"
    return list(calendar.walk("VEVENT"))  # type: ignore[arg-type]


def trigger(event: Event) -> timedelta:
    (alarm,) = event.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY"
    assert str(alarm["DESCRIPTION"]).startswith(str(event["SUMMARY"]))
    value = alarm.decoded("TRIGGER")
    assert isinstance(value, timedelta)
    return value


def is_all_day_on(event: Event, day: date) -> bool:
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    return type(start) is date and start == day and end == day + timedelta(days=1)


@pytest.mark.parametrize(
    ("city", "expiry", "case", "summary"),
    [
        ("上海", date(2026, 12, 19), "not_expired", "居住证签注截止（上海）"),
        ("南京", date(2026, 11, 20), "within_grace", "居住证签注宽限期最后一天（南京）"),  # 30 days, medium
        ("上海", date(2026, 11, 1), "within_grace", "居住证签注宽限期可能的最后一天（上海）"),  # medium-low: hedged
        ("郑州", date(2026, 10, 19), "late_endorse", "居住证补办签注最后一天（郑州）"),  # 6 months, then none
        ("北京", date(2026, 10, 19), "late_endorse", "居住证补办签注可能的最后一天（北京）"),  # low: hedged
    ],
)
def test_the_deadline_is_an_all_day_event_with_an_alarm_three_days_before_at_nine(
    dialog: Dialog, texts: CalendarTexts, city: str, expiry: date, case: str, summary: str
) -> None:
    found = verdict(dialog, city, expiry)
    assert found.case == case
    assert found.deadline is not None
    content = build(dialog, texts, city, expiry)
    assert content is not None
    deadline, *others = events(content)
    assert others == []  # the window of 上海 12-19 opened on 11-19: no event for it
    assert is_all_day_on(deadline, found.deadline)
    assert deadline["SUMMARY"] == summary
    assert deadline.decoded("DTSTAMP") == NOW.astimezone(UTC)
    assert trigger(deadline) == timedelta(days=-ALARM_DAYS_BEFORE, hours=9) == -timedelta(days=2, hours=15)
    description = str(deadline["DESCRIPTION"])
    assert "向当地派出所或社区服务中心确认" in description
    assert f"{found.deadline.year}年{found.deadline.month}月{found.deadline.day}日" in description
    assert ("可信度" in description) == (case != "not_expired")  # the deciding figure's source, when there is one


def test_the_file_is_rfc_5545_text_with_crlf_lines_and_a_date_valued_start(
    dialog: Dialog, texts: CalendarTexts
) -> None:
    content = build(dialog, texts, "上海", date(2026, 12, 19))
    assert content is not None
    text = content.decode("utf-8")
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "DTSTART;VALUE=DATE:20261219\r\n" in text
    assert "TRIGGER:-P2DT15H\r\n" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))  # folded (RFC 5545, 3.1)


def test_a_window_still_ahead_gets_its_own_event_with_an_alarm_on_the_morning_it_opens(
    dialog: Dialog, texts: CalendarTexts
) -> None:
    found = verdict(dialog, "上海", date(2027, 3, 10))
    assert found.window_start == date(2027, 2, 8)  # 30 days before (上海's rule)
    content = build(dialog, texts, "上海", date(2027, 3, 10))
    assert content is not None
    deadline, window = events(content)
    assert is_all_day_on(deadline, date(2027, 3, 10))
    assert is_all_day_on(window, date(2027, 2, 8))
    assert window["SUMMARY"] == "居住证可以办签注了（上海）"
    assert trigger(window) == timedelta(hours=9)
    assert "2027年3月10日" in str(window["DESCRIPTION"])
    assert deadline["UID"] != window["UID"]


def test_the_national_rule_window_is_a_month_before(dialog: Dialog, texts: CalendarTexts) -> None:
    content = build(dialog, texts, "某县", date(2027, 3, 31))  # not in the list: national rule, 1 month
    assert content is not None
    _deadline, window = events(content)
    assert is_all_day_on(window, date(2027, 2, 28))


@pytest.mark.parametrize(
    ("expiry", "alarm"),
    [
        (TODAY + timedelta(days=2), timedelta(days=-2, hours=9)),  # fewer days left than the lead: as many as left
        (TODAY + timedelta(days=1), timedelta(days=-1, hours=9)),
        (TODAY, timedelta(hours=9)),  # the deadline is today: that morning
    ],
)
def test_the_alarm_never_asks_for_more_days_than_are_left(
    dialog: Dialog, texts: CalendarTexts, expiry: date, alarm: timedelta
) -> None:
    content = build(dialog, texts, "杭州", expiry)
    assert content is not None
    (deadline,) = events(content)
    assert is_all_day_on(deadline, expiry)
    assert trigger(deadline) == alarm
    if expiry == TODAY:
        (alarm_component,) = deadline.walk("VALARM")
        assert "就是今天" in str(alarm_component["DESCRIPTION"])


@pytest.mark.parametrize(
    ("city", "expiry"),
    [
        ("郑州", date(2025, 1, 1)),  # past the cancellation point: reregister
        ("北京", date(2025, 1, 1)),  # past the cancellation point: reapply
        ("广州", date(2026, 10, 1)),  # late, and the rule names no cancellation point
    ],
)
def test_no_file_without_a_deadline(dialog: Dialog, texts: CalendarTexts, city: str, expiry: date) -> None:
    found = verdict(dialog, city, expiry)
    assert found.deadline is None
    assert calendar_file(found, city, texts, NOW, Basis()) is None


def test_uids_are_stable_and_tell_cities_and_dates_apart(dialog: Dialog, texts: CalendarTexts) -> None:
    first = build(dialog, texts, "上海", date(2027, 3, 10))
    later = build(dialog, texts, "上海", date(2027, 3, 10), now=NOW + timedelta(days=5, hours=3))
    assert first is not None
    assert later is not None
    assert first != later
    assert [e["UID"] for e in events(first)] == [e["UID"] for e in events(later)]
    other_city = build(dialog, texts, "北京", date(2027, 3, 10))
    other_day = build(dialog, texts, "上海", date(2027, 3, 11))
    assert other_city is not None
    assert other_day is not None
    assert events(other_city)[0]["UID"] != events(first)[0]["UID"] != events(other_day)[0]["UID"]
    assert events(first)[0]["UID"] == uid("上海", "deadline", date(2027, 3, 10))


def test_someone_elses_permit_is_labelled_and_kept_apart(dialog: Dialog, texts: CalendarTexts, tmp_path: Path) -> None:
    session = Session(expiry=date(2026, 12, 19), city="上海", person="老婆")
    turn = Turn([], "slot", session, verdict(dialog, "上海", date(2026, 12, 19)))
    own = build(dialog, texts, "上海", date(2026, 12, 19))
    assert own is not None
    path = tmp_path / "wife.ics"
    assert write_ics(path, turn, dialog, texts, NOW).written
    (event,) = events(path.read_bytes())
    assert event["SUMMARY"] == "居住证签注截止（老婆｜上海）"
    assert event["UID"] != events(own)[0]["UID"]


async def test_ask_writes_the_file_and_says_so_without_the_user_id(
    shared_engine_parts: Engine, texts: CalendarTexts, tmp_path: Path
) -> None:
    clock = FixedClock.on(TODAY)
    store = MemoryStore(clock)
    engine = shared_engine_parts.with_store(store, clock)
    user = "tg-user-48151623"
    try:
        turn = await engine.handle_turn(Message("terminal", user, "上海，签注12月19号到期"))
    finally:
        await store.close()
    assert turn.verdict is not None
    path = tmp_path / "签注.ics"
    result = write_ics(path, turn, engine.dialog, texts, clock.now())
    assert result.written
    assert result.line == f"已写入日历文件：{path}（截止日 2026年12月19日）"
    content = path.read_bytes()
    (event,) = events(content)
    assert is_all_day_on(event, date(2026, 12, 19))
    for secret in (user, "48151623", engine.key("terminal", user)):
        assert secret.encode() not in content


def test_write_ics_mentions_the_opening_of_the_window(dialog: Dialog, texts: CalendarTexts, tmp_path: Path) -> None:
    turn = Turn([], "slot", Session(expiry=date(2027, 3, 10), city="上海"), verdict(dialog, "上海", date(2027, 3, 10)))
    result = write_ics(tmp_path / "a.ics", turn, dialog, texts, NOW)
    assert result.line == f"已写入日历文件：{tmp_path / 'a.ics'}（2027年2月8日起可以办理，截止日 2027年3月10日）"


def test_write_ics_writes_nothing_without_a_deadline_or_a_verdict(
    dialog: Dialog, texts: CalendarTexts, tmp_path: Path
) -> None:
    path = tmp_path / "none.ics"
    past = Turn([], "slot", Session(expiry=date(2025, 1, 1), city="北京"), verdict(dialog, "北京", date(2025, 1, 1)))
    result = write_ics(path, past, dialog, texts, NOW)
    assert not result.written
    assert result.line == texts.cli.no_deadline
    question = Turn([], "faq.materials", Session())
    result = write_ics(path, question, dialog, texts, NOW)
    assert not result.written
    assert result.line == texts.cli.no_verdict
    assert not path.exists()


def test_write_ics_reports_a_file_it_cannot_write(dialog: Dialog, texts: CalendarTexts, tmp_path: Path) -> None:
    turn = Turn(
        [], "slot", Session(expiry=date(2026, 12, 19), city="上海"), verdict(dialog, "上海", date(2026, 12, 19))
    )
    result = write_ics(tmp_path / "missing" / "a.ics", turn, dialog, texts, NOW)
    assert not result.written
    assert result.line.startswith("日历文件没能写入：")


def test_calendar_texts_refuse_unknown_placeholders(texts: CalendarTexts) -> None:
    data = texts.model_dump()
    data["deadline"]["not_expired"]["summary"] = "截止（{user}）"
    with pytest.raises(ValueError, match="unknown placeholder"):
        CalendarTexts.model_validate(data)
    data = texts.model_dump()
    data["cli"]["written"] = "已写入\n{path}"
    with pytest.raises(ValueError, match="one line"):
        CalendarTexts.model_validate(data)

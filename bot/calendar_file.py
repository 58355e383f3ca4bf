"""The deadline, and the opening of the endorsement window, as an RFC 5545 calendar file (.ics).

The file holds one all-day event on the deadline and, while the window has not opened yet, a second all-day
event on its first day. Each event has a DISPLAY alarm:

- the deadline's rings at 09:00, ALARM_DAYS_BEFORE (3) days before the deadline, or fewer when fewer are left
  (on the day itself, at 09:00, when the deadline is today);
- the window's rings at 09:00 on the day it opens.

All-day events are floating dates (RFC 5545, 3.3.4), so calendar apps show them on the same date in any time
zone, and the alarm triggers are durations relative to the event's start (-P2DT15H: 3 days before, at 09:00),
which every common calendar app honours; on a phone set to China time that is 09:00 Beijing time, the hour of
the bot's own reminders. Absolute (UTC) triggers were not used: several apps ignore them.

The UID is derived from the label (the city, or 「老婆｜上海」) and the date, never from who asked: importing the file
again after a second question about the same deadline updates the event instead of adding a copy, and the file
says nothing about the user beyond what they typed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import Alarm, Calendar, Event

from bot import __version__
from bot.calendar_texts import CalendarTexts, EventTexts
from bot.catalog.catalog import Catalog
from bot.core.render import HEDGED, basis_text, deciding_figure, fmt_date
from bot.core.rules import CityRule
from bot.core.verdicts import Verdict

PRODID = f"-//qianzhu//qianzhu {__version__}//ZH-CN"
ALARM_DAYS_BEFORE = 3
ALARM_HOUR = 9  # local time on the device: an all-day event has no time zone
UID_DOMAIN = "qianzhu"
MEDIA_TYPE = "text/calendar"


@dataclass(frozen=True, slots=True)
class Basis:
    """The source of the figure that decides the deadline (grace period, cancellation point), if any."""

    text: str | None = None  # 据《…》（可信度：中低）
    hedged: bool = False  # the source is unsure: the hedged wording is used


def basis_of(catalog: Catalog, verdict: Verdict, rule: CityRule) -> Basis:
    """The deciding figure's source, as the verdict reply words it."""
    figure = deciding_figure(verdict, rule)
    if figure is None:
        return Basis()
    return Basis(basis_text(catalog, figure), figure.confidence in HEDGED)


def calendar_file(
    verdict: Verdict, label: str, texts: CalendarTexts, now: datetime, basis: Basis | None = None
) -> bytes | None:
    """The .ics file for a verdict, or None when the case has no deadline (past the cancellation point, or a
    late endorsement where the rule names none). `label` is the city (or 「老婆｜上海」) as the reply names it;
    `now` (aware) is the file's DTSTAMP."""
    if verdict.deadline is None or not has_calendar(verdict):
        return None
    basis = basis or Basis()
    events: EventTexts = getattr(texts.deadline, verdict.case)
    fields = {
        "city": label,
        "expiry": fmt_date(verdict.expiry),
        "deadline": fmt_date(verdict.deadline),
        "window_start": fmt_date(verdict.window_start),
    }
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", texts.calendar_name)

    summary, description = _wording(events, basis.hedged, fields)
    lead = min(ALARM_DAYS_BEFORE, max(0, (verdict.deadline - verdict.today).days))
    alarm_text = (
        texts.alarm.before.format(summary=summary, days=lead) if lead else texts.alarm.today.format(summary=summary)
    )
    notes = [description, *([texts.basis.format(basis=basis.text)] if basis.text else []), texts.caution]
    calendar.add_component(
        _event(label, "deadline", verdict.deadline, summary, "\n".join(notes), now, alarm_text, lead)
    )

    if window_ahead(verdict):
        summary, description = _wording(texts.window, False, fields)
        alarm_text = texts.alarm.window.format(summary=summary, deadline=fields["deadline"])
        notes = [description, texts.caution]
        calendar.add_component(
            _event(label, "window", verdict.window_start, summary, "\n".join(notes), now, alarm_text, 0)
        )
    content: bytes = calendar.to_ical()
    return content


def has_calendar(verdict: Verdict) -> bool:
    """Whether the verdict has a date to put in a calendar: a deadline that can still be met (past the
    cancellation point there is none)."""
    return verdict.deadline is not None and verdict.case in ("not_expired", "within_grace", "late_endorse")


def verdict_calendar(
    catalog: Catalog, texts: CalendarTexts, verdict: Verdict, city: str | None, label: str, now: datetime
) -> bytes | None:
    """The file for a verdict given for `city` (None: the national rule) under `label`; None without a deadline."""
    rule = catalog.rule_for(city)
    return calendar_file(verdict, label, texts, now, basis_of(catalog, verdict, rule))


def file_name(verdict: Verdict) -> str:
    """qianzhu-20261219.ics: ASCII, so every client keeps it as it is."""
    day = verdict.deadline or verdict.expiry
    return f"qianzhu-{day:%Y%m%d}.ics"


def window_ahead(verdict: Verdict) -> bool:
    """The endorsement window has not opened yet: the file gets an event for its first day."""
    return verdict.case == "not_expired" and verdict.window_start > verdict.today


def uid(label: str, kind: str, day: date) -> str:
    """Stable for the same label, kind of event and date; nothing about the user goes into it."""
    digest = hashlib.sha256(f"{label}\n{kind}\n{day.isoformat()}".encode()).hexdigest()[:32]
    return f"{digest}@{UID_DOMAIN}"


def _wording(events: EventTexts, hedged: bool, fields: dict[str, str]) -> tuple[str, str]:
    summary, description = events.wording(hedged)
    return summary.format(city=fields["city"]).strip(), description.format(**fields).strip()


def _event(
    label: str, kind: str, day: date, summary: str, description: str, now: datetime, alarm_text: str, lead: int
) -> Event:
    event = Event()
    event.add("uid", uid(label, kind, day))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", day)  # a DATE: an all-day event
    event.add("dtend", day + timedelta(days=1))  # exclusive (RFC 5545, 3.6.1)
    event.add("summary", summary)
    event.add("description", description)
    event.add("transp", "TRANSPARENT")  # a reminder, not a busy day
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", alarm_text)
    alarm.add("trigger", timedelta(days=-lead, hours=ALARM_HOUR))  # relative to the start: 00:00 that day
    event.add_component(alarm)
    return event

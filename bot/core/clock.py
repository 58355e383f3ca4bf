"""Clocks: today's date in Asia/Shanghai, injectable for tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime."""
        ...

    def today(self) -> date:
        """Today's date in Asia/Shanghai."""
        ...


def calendar_now(clock: Clock) -> datetime:
    """The moment on the calendar the bot computes with: `clock.now()` moved to `clock.today()` (the same time of
    day). The real moment for every clock but the test clock, whose days run ahead or behind: what is scheduled
    by the calendar (Telegram reminders) falls due by it, so a rehearsal does not wait for the real day."""
    now = clock.now()
    return now + (clock.today() - now.astimezone(SHANGHAI).date())


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return datetime.now(SHANGHAI).date()


@dataclass
class FixedClock:
    """A clock that stands still until a test moves it."""

    current: datetime

    @classmethod
    def on(cls, day: date, hour: int = 12) -> FixedClock:
        return cls(datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI))

    def now(self) -> datetime:
        return self.current

    def today(self) -> date:
        return self.current.astimezone(SHANGHAI).date()


class TestClock:
    """The test clock (QIANZHU_TODAY, with QIANZHU_TESTING=1): dates are computed as if today were `start`, and
    move on by one day at each real midnight in Asia/Shanghai. The time itself stays real, so signatures'
    timestamps, rate limits and the store's expiry behave as in production."""

    __test__ = False  # not a pytest test class

    def __init__(self, start: date, real: Clock | None = None) -> None:
        self._real = real or SystemClock()
        self.start = start
        self._offset = start - self._real.today()

    def now(self) -> datetime:
        return self._real.now()

    def today(self) -> date:
        return self._real.today() + self._offset

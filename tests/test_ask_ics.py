"""`qianzhu ask --ics FILE`: the answer, then the deadline as a calendar file (or a clear no, exit 1)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from icalendar import Calendar

from tests.test_cli import qianzhu


def test_ask_writes_the_deadline_as_a_calendar_file(tmp_path: Path) -> None:
    target = tmp_path / "签注.ics"
    done = qianzhu("ask", "上海，居住证10月20号过期了", "--today", "2026-12-01", "--ics", str(target))
    assert done.returncode == 0, done.stderr
    assert "上海｜" in done.stdout
    assert f"已写入日历文件：{target}" in done.stdout
    [event] = Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    assert event.decoded("DTSTART") == date(2026, 12, 19)
    assert event.walk("VALARM")


def test_ask_without_a_deadline_writes_nothing_and_exits_1(tmp_path: Path) -> None:
    target = tmp_path / "none.ics"
    done = qianzhu("ask", "办签注收费吗", "--ics", str(target))
    assert done.returncode == 1
    assert not target.exists()
    assert "没有写日历文件" in done.stderr

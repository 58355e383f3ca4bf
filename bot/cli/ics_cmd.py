"""`qianzhu ask --ics FILE`: the answer's deadline written as a calendar file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from bot.calendar_file import verdict_calendar, window_ahead
from bot.calendar_texts import CalendarTexts
from bot.core.dialog import Dialog, Turn


@dataclass(frozen=True, slots=True)
class IcsResult:
    written: bool  # False: nothing was written (no deadline, or the file could not be written)
    line: str  # one Chinese line for the terminal: stdout when written, else stderr


def write_ics(path: Path, turn: Turn, dialog: Dialog, texts: CalendarTexts, now: datetime) -> IcsResult:
    """Writes the deadline of the turn's verdict to `path` (replacing the file). Nothing is written when the
    turn has no single verdict (a question, a vague date) or the verdict has no deadline."""
    verdict, session = turn.verdict, turn.session
    if verdict is None or session.city is None:
        return IcsResult(False, texts.cli.no_verdict)
    verdicts = dialog.verdicts
    content = verdict_calendar(
        dialog.catalog, texts, verdict, verdicts.rule_city(session), verdicts.label(session), now
    )
    if content is None or verdict.deadline is None:
        return IcsResult(False, texts.cli.no_deadline)
    try:
        path.write_bytes(content)
    except OSError as exc:
        return IcsResult(False, texts.cli.write_failed.format(path=path, error=exc.strerror or exc))
    deadline = _day(verdict.deadline)
    if window_ahead(verdict):
        line = texts.cli.written_window.format(path=path, deadline=deadline, window_start=_day(verdict.window_start))
    else:
        line = texts.cli.written.format(path=path, deadline=deadline)
    return IcsResult(True, line)


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"

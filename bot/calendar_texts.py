"""The wording of the calendar file, content/calendar.yaml, validated once when it is read."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.catalog.loader import default_content_dir, read_model
from bot.catalog.text_fields import check_placeholders, text_fields

FILE = "calendar.yaml"

SUMMARY_FIELDS = frozenset({"city"})
DESCRIPTION_FIELDS = frozenset({"city", "expiry", "deadline", "window_start"})
# Each text may use exactly these placeholders (dotted paths into the file); event texts are matched by their
# last part (summary, description...), and texts not listed take none.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "basis": frozenset({"basis"}),
    "alarm.before": frozenset({"summary", "days"}),
    "alarm.today": frozenset({"summary"}),
    "alarm.window": frozenset({"summary", "deadline"}),
    "cli.written": frozenset({"path", "deadline"}),
    "cli.written_window": frozenset({"path", "deadline", "window_start"}),
    "cli.write_failed": frozenset({"path", "error"}),
    "document.caption": frozenset({"deadline"}),
}
EVENT_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "summary": SUMMARY_FIELDS,
    "summary_hedged": SUMMARY_FIELDS,
    "description": DESCRIPTION_FIELDS,
    "description_hedged": DESCRIPTION_FIELDS,
}
# One-line texts (besides every cli.* line): summaries show in a calendar's day view and in its alarms.
ONE_LINE = frozenset({"summary", "summary_hedged", "calendar_name"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventTexts(_Strict):
    """One event's summary and description; the hedged pair replaces them when the deciding source is unsure."""

    summary: str = Field(min_length=1)
    description: str = Field(min_length=1)
    summary_hedged: str | None = Field(default=None, min_length=1)
    description_hedged: str | None = Field(default=None, min_length=1)

    def wording(self, hedged: bool) -> tuple[str, str]:
        """(summary, description) templates."""
        if hedged:
            return self.summary_hedged or self.summary, self.description_hedged or self.description
        return self.summary, self.description


class DeadlineEvents(_Strict):
    """The deadline event of each case that has a deadline (past the cancellation point there is none)."""

    not_expired: EventTexts
    within_grace: EventTexts
    late_endorse: EventTexts


class AlarmTexts(_Strict):
    before: str = Field(min_length=1)
    today: str = Field(min_length=1)
    window: str = Field(min_length=1)


class CliTexts(_Strict):
    written: str = Field(min_length=1)
    written_window: str = Field(min_length=1)
    no_deadline: str = Field(min_length=1)
    no_verdict: str = Field(min_length=1)
    write_failed: str = Field(min_length=1)


class DocumentTexts(_Strict):
    """The file sent on a channel that can carry one (Telegram): its caption (at most 1024 characters there)."""

    caption: str = Field(min_length=1, max_length=1024)


class CalendarTexts(_Strict):
    calendar_name: str = Field(min_length=1)
    deadline: DeadlineEvents
    window: EventTexts
    basis: str = Field(min_length=1)
    caution: str = Field(min_length=1)
    alarm: AlarmTexts
    cli: CliTexts
    document: DocumentTexts

    @model_validator(mode="after")
    def _placeholders_are_known(self) -> CalendarTexts:
        for path, text in text_fields(self.model_dump()):
            leaf = path.rsplit(".", 1)[-1]
            in_event = path.startswith(("deadline.", "window."))
            allowed = EVENT_PLACEHOLDERS.get(leaf, frozenset()) if in_event else PLACEHOLDERS.get(path, frozenset())
            check_placeholders(path, text, allowed)
            if (leaf in ONE_LINE or path.startswith("cli.")) and "\n" in text.strip():
                raise ValueError(f"{path}: must be one line")
        return self


def load_texts(directory: Path | None = None) -> CalendarTexts:
    """Reads content/calendar.yaml; a ContentError names the file and the field."""
    return read_model(directory or default_content_dir(), FILE, CalendarTexts)

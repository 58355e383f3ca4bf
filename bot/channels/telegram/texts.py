"""The Telegram-only wording, content/telegram.yaml, validated once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.catalog.loader import default_content_dir, read_model
from bot.catalog.text_fields import check_placeholders, text_fields

FILE = "telegram.yaml"

# Each text may use exactly these placeholders (dotted paths into the file); texts not listed take none.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "help.page": frozenset({"page", "pages"}),
    "chosen": frozenset({"choice"}),
    "reminders.scheduled": frozenset({"dates", "label", "deadline"}),
    "reminders.window_open": frozenset({"deadline", "case", "label"}),
    "reminders.week_before": frozenset({"deadline", "case", "label"}),
    "reminders.day_before": frozenset({"deadline", "case", "label"}),
    "reminders.listing": frozenset({"items"}),
    "reminders.item": frozenset({"label", "deadline", "case", "next"}),
    "reminders.item_earlier": frozenset({"next"}),
    "reminders.cancel_one_button": frozenset({"label", "deadline"}),
    "reminders.cancelled_one": frozenset({"label", "deadline"}),
    "reminders.done": frozenset({"label", "deadline"}),
    "cli.bad_token": frozenset({"error"}),
    "cli.unreachable": frozenset({"error"}),
    "cli.refused": frozenset({"error"}),
    "cli.webhook_set": frozenset({"url"}),
    "cli.webhook_failed": frozenset({"error"}),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Description = Annotated[str, Field(min_length=1, max_length=256)]  # Telegram's limits for a command description


class Commands(_Strict):
    start: Description
    help: Description
    reset: Description
    forget: Description
    remind: Description


class HelpTexts(_Strict):
    page: str
    previous: str
    next: str


class ReminderTexts(_Strict):
    offer: str
    offer_private: str  # in a group: a link that opens a private chat with the bot to set the reminders there
    group_only_private: str  # /remind or a 🔔 press in a group
    scheduled: str
    too_late: str
    default_label: str  # whose deadline, when the conversation no longer says (a link from a group)
    window_open: str  # the day the endorsement window opens (a deadline not yet expired)
    week_before: str
    day_before: str
    done_button: str = Field(min_length=1)  # under every reminder: stops that deadline's reminders
    done: str
    listing: str
    item: str  # one deadline in /remind
    item_earlier: str  # reminders set before deadlines were kept with them
    none: str
    cancel_one_button: str = Field(min_length=1)
    cancel_earlier_button: str = Field(min_length=1)
    cancel_button: str
    cancelled_one: str
    cancelled_earlier: str
    cancelled: str
    nothing_to_cancel: str
    already_stopped: str = Field(max_length=200)  # answerCallbackQuery: that deadline has no reminders left
    cancel_words: list[str] = Field(min_length=1)  # `/remind 取消` cancels; compared in lower case


class CliTexts(_Strict):
    missing_token: str
    missing_secret: str
    bad_token: str
    unreachable: str
    refused: str
    webhook_set: str
    webhook_failed: str


class TelegramTexts(_Strict):
    commands: Commands
    help: HelpTexts
    forget_done: str
    unsupported: str
    button_expired: str = Field(max_length=200)  # shown by answerCallbackQuery, which allows 200 characters
    button_not_yours: str = Field(max_length=200)  # a group member pressed buttons shown to someone else
    chosen: str = Field(min_length=1)  # added under a message whose button was pressed: {choice} is its label
    reminders: ReminderTexts
    cli: CliTexts

    @model_validator(mode="after")
    def _placeholders_are_known(self) -> TelegramTexts:
        for path, text in text_fields(self.model_dump()):
            allowed = PLACEHOLDERS.get(path, frozenset())
            check_placeholders(path, text, allowed)
        return self


def load_texts(directory: Path | None = None) -> TelegramTexts:
    """Reads content/telegram.yaml; a ContentError names the file and the field."""
    return read_model(directory or default_content_dir(), FILE, TelegramTexts)

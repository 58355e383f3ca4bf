"""Inline keyboards and their callback data, which Telegram limits to 64 bytes and which must survive restarts.

Every button carries all it needs, so nothing about it is kept in memory:
    c:<text>           a quick reply, fed to the engine like typed text (when it fits in 64 bytes)
    h:<hash>           a longer quick reply, looked up among the catalog's questions, choices and places
    f:<faq id>         a FAQ question from /help
    p:<page>           a page of /help
    r:<YYYYMMDD>:<case> turn on the reminders for this deadline
    x                  cancel every reminder
    xd:<deadline id>   cancel the reminders for one deadline (/remind lists them; bot.store.extras.Deadline.id)
    d:<deadline id>    我办好了 under a reminder: stop that deadline's reminders
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from telegram import InlineKeyboardButton

from bot.catalog.catalog import Catalog
from bot.core.verdicts import Case

MAX_DATA = 64
SHORT_LABEL = 6  # choices this short (cities, 已过期) go three to a row; longer ones get a row each
CANCEL_REMINDERS = "x"


@dataclass(frozen=True, slots=True)
class Choice:
    text: str


@dataclass(frozen=True, slots=True)
class Faq:
    faq_id: str


@dataclass(frozen=True, slots=True)
class HelpPage:
    page: int


@dataclass(frozen=True, slots=True)
class RemindOn:
    deadline: date
    case: Case


@dataclass(frozen=True, slots=True)
class RemindOff:
    pass


@dataclass(frozen=True, slots=True)
class RemindStop:
    """Stop one deadline's reminders: cancelled from /remind, or `done` (我办好了) under a reminder."""

    deadline_id: str
    done: bool


Action = Choice | Faq | HelpPage | RemindOn | RemindOff | RemindStop


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class ButtonCodec:
    """Builds buttons and reads back what a pressed one means; None for data it does not know."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        known: list[str] = [entry.question for entry in catalog.faq]
        known += [choice for choices in catalog.prompts.choices.values() for choice in choices]
        known += [place.name for place in catalog.places.to_places()]
        self._long = {_digest(text): text for text in known if len(f"c:{text}".encode()) > MAX_DATA}

    def choice_data(self, text: str) -> str:
        data = f"c:{text}"
        return data if len(data.encode()) <= MAX_DATA else f"h:{_digest(text)}"

    def choice_rows(self, choices: Iterable[str]) -> list[list[InlineKeyboardButton]]:
        buttons = [InlineKeyboardButton(text, callback_data=self.choice_data(text)) for text in choices]
        if all(len(button.text) <= SHORT_LABEL for button in buttons):
            return [buttons[n : n + 3] for n in range(0, len(buttons), 3)]
        return [[button] for button in buttons]

    def faq_button(self, faq_id: str, label: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=f"f:{faq_id}")

    @staticmethod
    def page_button(label: str, page: int) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=f"p:{page}")

    @staticmethod
    def remind_button(label: str, deadline: date, case: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=f"r:{deadline:%Y%m%d}:{case}")

    @staticmethod
    def private_remind_button(label: str, bot_username: str, deadline: date, case: str) -> InlineKeyboardButton:
        """A link that opens a private chat with the bot and starts it with this deadline: /start r<day>_<case>
        (Telegram allows A-Z, a-z, 0-9, _ and - in the parameter, at most 64 characters)."""
        return InlineKeyboardButton(label, url=f"https://t.me/{bot_username}?start=r{deadline:%Y%m%d}_{case}")

    def read_start(self, parameter: str) -> RemindOn | None:
        """The deadline a private-chat link carries (see private_remind_button); None for anything else."""
        if not parameter.startswith("r") or "_" not in parameter:
            return None
        day, _, case = parameter[1:].partition("_")
        return self._remind(f"{day}:{case}")

    @staticmethod
    def cancel_button(label: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=CANCEL_REMINDERS)

    @staticmethod
    def stop_data(deadline_id: str, done: bool) -> str:
        return f"{'d' if done else 'xd'}:{deadline_id}"

    def read(self, data: str | None) -> Action | None:
        kind, _, value = (data or "").partition(":")
        if kind == "c" and value:
            return Choice(value)
        if kind == "h":
            text = self._long.get(value)
            return Choice(text) if text is not None else None
        if kind == "f":
            return Faq(value) if self.catalog.faq_entry(value) is not None else None
        if kind == "p" and value.isascii() and value.isdigit() and len(value) <= 3:  # p:² is a digit to isdigit()
            return HelpPage(int(value))
        if kind == "r":
            return self._remind(value)
        if data == CANCEL_REMINDERS:
            return RemindOff()
        if kind in ("d", "xd") and value.isascii() and len(value) <= MAX_DATA - 3:
            return RemindStop(value, done=kind == "d")
        return None

    def _remind(self, value: str) -> RemindOn | None:
        day, _, case = value.partition(":")
        if case not in self.catalog.cases or len(day) != 8 or not (day.isascii() and day.isdigit()):
            return None
        try:
            return RemindOn(date(int(day[:4]), int(day[4:6]), int(day[6:])), case)
        except ValueError:
            return None


def pages(items: Sequence[InlineKeyboardButton], size: int) -> list[list[InlineKeyboardButton]]:
    """Splits buttons into pages of `size`."""
    return [list(items[n : n + size]) for n in range(0, len(items), size)] or [[]]

"""A returning user's kept slots, named before the first verdict that uses them (「按您之前说的：上海，签注10月20日
到期。」) with a choice to change them, and the terminal's notice that it goes on with a stored conversation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bot.catalog.catalog import Catalog
from bot.core.session import Session


class Recall:
    def __init__(self, catalog: Catalog, label: Callable[[Session], str]) -> None:
        self.catalog = catalog
        self._label = label  # 「上海」 or 「老婆｜上海」, as the verdict names whose permit it is

    def basis(self, s: Session, today: date) -> tuple[list[str], tuple[str, ...]]:
        """For a verdict that uses slots kept from an earlier conversation: the line that names them and the
        choice to change them. Said once per return: the slots stop counting as recalled."""
        kept = self.kept(s, today)
        s.recalled = []
        if not kept:
            return [], ()
        return [self.catalog.prompt("recalled", kept=kept)], (self.catalog.prompt("recalled_change"),)

    def kept(self, s: Session, today: date, names: tuple[str, ...] | None = None) -> str:
        """「上海，签注10月20日到期」: the recalled slots (or `names`), as the user would say them; "" for none."""
        names = tuple(s.recalled) if names is None else names
        parts = []
        if "city" in names and s.city:
            parts.append(self._label(s))
        elif s.person and "date" in names:
            parts.append(s.person)
        if "date" in names and s.expiry is not None:
            parts.append(self.catalog.prompt("recalled_date", date=expiry_label(s.expiry, s.expiry_end, today)))
        return "，".join(parts)

    def resumed(self, s: Session, today: date) -> str:
        """The notice of a terminal chat that goes on with a stored conversation."""
        kept = self.kept(s, today, ("city", "date"))
        return (
            self.catalog.prompt("chat_resumed", kept=kept) if kept else self.catalog.prompt("chat_resumed_unfinished")
        )


def expiry_label(first: date, last: date | None, today: date) -> str:
    """10月20日 (this year), 2025年10月20日 (another), or a range 10月21日到10月31日."""

    def day(d: date) -> str:
        return f"{d.month}月{d.day}日" if d.year == today.year else f"{d.year}年{d.month}月{d.day}日"

    return day(first) if last is None else f"{day(first)}到{day(last)}"

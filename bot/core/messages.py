"""The channel-neutral pair that enters and leaves the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Message:
    """One incoming text message, whatever the channel."""

    channel: str
    user_id: str
    text: str
    received_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """One outgoing text, with optional quick-reply choices shown as buttons or numbers. `more` is set (to the
    heading a channel that lists choices in text puts over them, 「还可以问我：」) when the choices are what the
    user can ask next (the details after a verdict card), not the answers to a question."""

    text: str
    choices: tuple[str, ...] = field(default_factory=tuple)
    more: str = ""

    def more_line(self, heading: str | None = None) -> str:
        """The choices on one line under their heading, for channels that list them in text:
        「还可以问我（回复编号即可）：1 材料｜2 去哪办｜…」; with another `heading`, without the numbers (a
        one-shot command, where no number can follow). Empty unless `more` is set."""
        if not self.more or not self.choices:
            return ""
        if heading is not None:
            return heading + "｜".join(self.choices)
        return self.more + "｜".join(f"{n} {choice}" for n, choice in enumerate(self.choices, 1))

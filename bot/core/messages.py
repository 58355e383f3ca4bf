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
    """One outgoing text, with optional quick-reply choices shown as buttons or numbers."""

    text: str
    choices: tuple[str, ...] = field(default_factory=tuple)

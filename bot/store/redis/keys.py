"""Redis key names. Every key about one conversation carries the conversation key as its hash tag, so a Redis
Cluster keeps a user's session, its side documents, their version counter and their once-only records on one
slot, and a Lua script may touch them together. Reminders and traffic records are global (one tag each)."""

from __future__ import annotations

import re
from datetime import date

ROOT = "qz"
# A conversation key (bot.core.keys): "<channel>:<32 hex digits>"; documents beside the session add ":<what>".
_CONVERSATION = re.compile(r"([^:{}]+:[0-9a-f]{32})(:.*)?", re.DOTALL)
_GLOB = re.compile(r"([*?\[\]\\])")


def split(key: str) -> tuple[str, str]:
    """(tag, rest): a conversation key and what follows it ("" for the session itself, ":choices" beside it);
    any other key is a tag of its own."""
    found = _CONVERSATION.fullmatch(key)
    if found is None:
        return key, ""
    return found.group(1), found.group(2) or ""


def scattered(key: str) -> bool:
    """True when the documents saved under `key + ":..."` do not share `key`'s tag: `key` is no conversation key
    (nor one beside it), so each of them is a tag of its own."""
    return split(key + ":x")[0] != split(key)[0]


def glob_escape(text: str) -> str:
    return _GLOB.sub(r"\\\1", text)


class Keys:
    """The names under one root ("qz" in production; tests take a root of their own)."""

    def __init__(self, root: str = ROOT) -> None:
        self.root = root
        self.reminders_due = f"{root}:{{reminders}}:due"  # sorted set: pending reminder ids by due time
        self.reminders_data = f"{root}:{{reminders}}:data"  # hash: id -> the reminder as JSON
        self.reminders_seq = f"{root}:{{reminders}}:seq"  # the last reminder id given
        self.reminders_by = f"{root}:{{reminders}}:by:"  # + conversation key: set of that key's reminder ids
        self.traffic_days = f"{root}:{{traffic}}:days"  # sorted set: ISO days with records, by ordinal

    def document(self, key: str) -> str:
        tag, rest = split(key)
        return f"{self.root}:{{{tag}}}:d{rest}"

    def versions(self, key: str) -> str:
        """The counter that gives every document under the key's tag its versions; it outlives deletes."""
        return f"{self.root}:{{{split(key)[0]}}}:seq"

    def index(self, key: str) -> str:
        """The set of the tag's document names, for erase."""
        return f"{self.root}:{{{split(key)[0]}}}:docs"

    def once(self, key: str) -> str:
        tag, rest = split(key)
        return f"{self.root}:{{{tag}}}:o{rest}"

    def strays(self, key: str) -> str:
        """A SCAN pattern for the documents of keys `key + ":..."` whose tag is not `key`'s (only when `key` is
        not a conversation key: a test's "k" and its "k:choices")."""
        return f"{self.root}:{{{glob_escape(key)}:*}}:d"

    def reminders_of(self, key: str) -> str:
        return self.reminders_by + key

    def turns(self, day: date) -> str:
        return f"{self.root}:{{traffic}}:turns:{day.isoformat()}"

    def asked(self, day: date) -> str:
        return f"{self.root}:{{traffic}}:asked:{day.isoformat()}"

    def matches(self, day: date) -> str:
        return f"{self.root}:{{traffic}}:match:{day.isoformat()}"

    def everything(self) -> str:
        """A SCAN pattern for every key under the root (tests clean up with it)."""
        return f"{glob_escape(self.root)}:*"

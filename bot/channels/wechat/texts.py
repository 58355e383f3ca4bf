"""The WeChat-only wording from content/wechat.yaml, validated once at start-up."""

from __future__ import annotations

import string
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.catalog.loader import default_content_dir, read_model

FILE = "wechat.yaml"
KINDS = ("image", "voice", "video", "shortvideo", "location", "link", "file", "other")
MAX_TEXT_BYTES = 2048  # WeChat's limit for one passive text reply
MAX_TRUNCATED_BYTES = 400  # the pointer, and the lines around kept answers, must leave room for the answers
CALENDAR_FIELDS = frozenset({"url", "deadline", "until"})  # {url} is required
MAX_CALENDAR_BYTES = 1024  # the link itself takes up to ~700 bytes more


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


class WechatTexts(BaseModel):
    """Everything the WeChat channel says itself; answers come from the engine."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subscribe: str = Field(min_length=1)
    unsupported: str = Field(min_length=1)
    kinds: dict[str, str]
    voice_unrecognised: str = Field(min_length=1)
    choices_heading: str = Field(min_length=1)
    truncated: str = Field(min_length=1)
    clicks: dict[str, str] = Field(min_length=1)
    unknown_click: str = Field(min_length=1)
    earlier: str = Field(min_length=1)  # leads answers kept from messages that got none in time
    now: str = Field(min_length=1)  # then leads this message's own answer
    held: str = Field(min_length=1)  # ends a reply whose own answer did not fit beside the kept ones
    calendar_link: str = Field(min_length=1)  # the answer to 加到日历 when calendar links are configured

    @field_validator(
        "subscribe", "voice_unrecognised", "unknown_click", "choices_heading", "truncated", "earlier", "now", "held"
    )
    @classmethod
    def _plain(cls, text: str) -> str:
        if _placeholders(text):
            raise ValueError("takes no {placeholders}")
        if len(text.encode()) > MAX_TEXT_BYTES:
            raise ValueError(f"is longer than WeChat's {MAX_TEXT_BYTES}-byte limit")
        return text

    @field_validator("unsupported")
    @classmethod
    def _kind_only(cls, text: str) -> str:
        if _placeholders(text) != {"kind"}:
            raise ValueError("must use exactly the placeholder {kind}")
        return text

    @field_validator("truncated", "earlier", "now", "held")
    @classmethod
    def _short(cls, text: str) -> str:
        if len(text.encode()) > MAX_TRUNCATED_BYTES:
            raise ValueError(f"must stay under {MAX_TRUNCATED_BYTES} bytes")
        return text

    @field_validator("calendar_link")
    @classmethod
    def _calendar_fields(cls, text: str) -> str:
        names = _placeholders(text)
        if "url" not in names or not names <= CALENDAR_FIELDS:
            raise ValueError(f"must use {{url}} and may use only {sorted(CALENDAR_FIELDS)}")
        if len(text.encode()) > MAX_CALENDAR_BYTES:
            raise ValueError(f"must stay under {MAX_CALENDAR_BYTES} bytes")
        return text

    @field_validator("kinds")
    @classmethod
    def _all_kinds(cls, kinds: dict[str, str]) -> dict[str, str]:
        missing = sorted(set(KINDS) - set(kinds))
        unknown = sorted(set(kinds) - set(KINDS))
        if missing or unknown:
            raise ValueError(f"needs exactly the kinds {list(KINDS)} (missing {missing}, unknown {unknown})")
        return kinds

    @field_validator("clicks")
    @classmethod
    def _clicks(cls, clicks: dict[str, str]) -> dict[str, str]:
        for key, text in clicks.items():
            if not key or len(key.encode()) > 128:
                raise ValueError(f"key {key!r} must be 1 to 128 bytes (WeChat's limit for a menu key)")
            if not text.strip():
                raise ValueError(f"key {key!r} has no text")
        return clicks

    @model_validator(mode="after")
    def _unsupported_fits(self) -> WechatTexts:
        longest = max(self.kinds.values(), key=lambda k: len(k.encode()))
        if len(self.unsupported.format(kind=longest).encode()) > MAX_TEXT_BYTES:
            raise ValueError(f"unsupported: is longer than WeChat's {MAX_TEXT_BYTES}-byte limit")
        return self

    def unsupported_reply(self, kind: str) -> str:
        return self.unsupported.format(kind=self.kinds.get(kind, self.kinds["other"]))


def load_texts(directory: Path | None = None) -> WechatTexts:
    """Reads content/wechat.yaml; a ContentError names the file and the field."""
    return read_model(directory or default_content_dir(), FILE, WechatTexts)

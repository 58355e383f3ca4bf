"""Unguessable, expiring links to a verdict's calendar file, for channels that cannot send a file (WeChat).

A link carries its own facts, signed, so any replica with the same secret serves it and nothing is stored:
the token is URL-safe base64 of a small JSON object (the label, the city whose rule applies, the expiry date,
the verdict's day, its deadline and the link's expiry time) followed by an HMAC-SHA256 of that object. The
file is rebuilt on request from the same inputs the verdict came from (`decide`), and refused if the deadline
it gives is no longer the one the link was made for (the rules changed meanwhile).

A link works until the end of the day LIFETIME after it was made, or of the day after the deadline, whichever
is earlier (Asia/Shanghai), on the calendar the bot computes with (`calendar_now`: the test clock moves it).
Nothing here logs a token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.calendar_file import verdict_calendar
from bot.calendar_texts import CalendarTexts
from bot.catalog.catalog import Catalog
from bot.core.clock import SHANGHAI, Clock, calendar_now
from bot.core.verdicts import Case, Processing, Verdict, decide

LIFETIME = timedelta(days=7)  # to the end of that day
MAX_TOKEN_CHARS = 600  # a longer token is refused before it is decoded; a link that would be longer is not made
MAC_BYTES = hashlib.sha256().digest_size
MIN_SECRET_BYTES = 16
PATH_PREFIX = "/calendar/"
SUFFIX = ".ics"
_KEY_CONTEXT = b"qianzhu calendar link v1"  # the secret is used through a key derived for this purpose only
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_FIELDS = frozenset({"l", "c", "e", "t", "d", "x"})


@dataclass(frozen=True, slots=True)
class LinkFacts:
    """What a link was made for: enough to rebuild the verdict, and the deadline it gave."""

    label: str  # the city, or 「老婆｜上海」, as the reply named it
    rule_city: str | None  # the city whose rule applies; None: the national rule
    expiry: date
    today: date  # the verdict's day
    deadline: date
    expires: int  # unix seconds, on the calendar clock


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    until: date  # the last day (Asia/Shanghai) on which the link works


class CalendarLinks:
    """Makes and reads link tokens with one secret, and builds the URL under the public base URL."""

    def __init__(self, secret: str, base_url: str, clock: Clock) -> None:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"the link secret must be at least {MIN_SECRET_BYTES} bytes")
        self._key = hmac.new(secret.encode(), _KEY_CONTEXT, hashlib.sha256).digest()
        self.base_url = base_url.rstrip("/")
        self._clock = clock

    def link_for(self, verdict: Verdict, label: str, rule_city: str | None) -> Link | None:
        """The link to the verdict's calendar file; None when the verdict has no deadline or the link would be
        too long (a very long label)."""
        if verdict.deadline is None:
            return None
        until = min(self._clock.today() + LIFETIME, verdict.deadline + timedelta(days=1))
        token = self.token_for(verdict, label, rule_city, _midnight_after(until))
        return None if token is None else Link(f"{self.base_url}{PATH_PREFIX}{token}{SUFFIX}", until)

    def token_for(self, verdict: Verdict, label: str, rule_city: str | None, expires: datetime) -> str | None:
        """The signed token; `expires` is aware, on the calendar clock."""
        if verdict.deadline is None:
            return None
        facts = {
            "l": label,
            "c": rule_city or "",
            "e": verdict.expiry.isoformat(),
            "t": verdict.today.isoformat(),
            "d": verdict.deadline.isoformat(),
            "x": int(expires.timestamp()),
        }
        payload = json.dumps(facts, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        token = base64.urlsafe_b64encode(payload + self._mac(payload)).decode().rstrip("=")
        return token if len(token) <= MAX_TOKEN_CHARS else None

    def read(self, token: str) -> LinkFacts | None:
        """The facts of a genuine, unexpired token; None for anything else (tampered, expired, oversized,
        malformed), without saying which."""
        if len(token) > MAX_TOKEN_CHARS or not _TOKEN.fullmatch(token):
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            return None
        if base64.urlsafe_b64encode(raw).decode().rstrip("=") != token:
            return None  # unused low bits of the last character changed: one token only for each link
        payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if len(raw) <= MAC_BYTES or not hmac.compare_digest(mac, self._mac(payload)):
            return None
        facts = _facts(payload)
        if facts is None or facts.expires <= calendar_now(self._clock).timestamp():
            return None
        return facts

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()


def _midnight_after(day: date) -> datetime:
    """The end of `day` in Asia/Shanghai."""
    following = day + timedelta(days=1)
    return datetime(following.year, following.month, following.day, tzinfo=SHANGHAI)


def _facts(payload: bytes) -> LinkFacts | None:
    """The signed object read back; a signed token is ours, so this only guards against an older format."""
    try:
        data = json.loads(payload)
        if not isinstance(data, dict) or set(data) != _FIELDS:
            return None
        label, city, expires = data["l"], data["c"], data["x"]
        if not isinstance(label, str) or not isinstance(city, str) or type(expires) is not int:
            return None
        days = [date.fromisoformat(data[name]) for name in ("e", "t", "d")]
    except (ValueError, TypeError):
        return None
    return LinkFacts(label, city or None, days[0], days[1], days[2], expires)


def file_for(
    facts: LinkFacts, catalog: Catalog, processing: dict[Case, Processing], texts: CalendarTexts, now: datetime
) -> bytes | None:
    """The calendar file a link stands for, rebuilt with today's content; None when that content no longer
    gives the deadline the link was made for, or no deadline at all."""
    rule = catalog.rule_for(facts.rule_city)
    verdict = decide(facts.expiry, rule, facts.today, processing)
    if verdict.deadline != facts.deadline:
        return None
    return verdict_calendar(catalog, texts, verdict, facts.rule_city, facts.label, now)


def filename(facts: LinkFacts) -> str:
    """An ASCII file name for Content-Disposition."""
    return f"qianzhu-{facts.deadline.isoformat()}{SUFFIX}"

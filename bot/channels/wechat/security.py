"""Request authentication: WeChat's SHA1 signatures, compared in constant time, and a timestamp window."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from bot.core.clock import Clock

MAX_TIMESTAMP_DIGITS = 12


class Forbidden(Exception):
    """The request is not from WeChat, or is too old: answered with 403. The reason is for logs only."""


def sign(*parts: str) -> str:
    """WeChat's signature: SHA1 over the sorted parts, joined without separators."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def same(expected: str, given: str | None) -> bool:
    """Constant-time comparison that also accepts missing or non-ASCII input."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


@dataclass(frozen=True)
class Guard:
    """Checks `signature` (token, timestamp, nonce) and that the timestamp is within `window` seconds of now.

    `plaintext` says whether a plaintext body is accepted at all: the URL signature does not cover the body, so
    with an EncodingAESKey configured only the ciphertext's msg_signature vouches for a message.
    """

    token: str
    window: float
    clock: Clock
    plaintext: bool = True

    def check(self, signature: str | None, timestamp: str | None, nonce: str | None) -> None:
        if not timestamp or nonce is None:
            raise Forbidden("missing timestamp or nonce")
        self.fresh(timestamp)
        if not same(sign(self.token, timestamp, nonce), signature):
            raise Forbidden("bad signature")

    def fresh(self, timestamp: str) -> None:
        # Seconds since 1970 have ten digits until the year 2286: anything longer (a 309-digit number would
        # overflow the float comparison) or not plain ASCII digits (int() also takes ٣ and ³) is refused.
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS):
            raise Forbidden("timestamp is not a plain number of seconds")
        if abs(self.clock.now().timestamp() - int(timestamp)) > self.window:
            raise Forbidden("timestamp outside the window")

    def check_plaintext(self) -> None:
        if not self.plaintext:
            raise Forbidden("plaintext, but an EncodingAESKey is set (WECHAT_ALLOW_PLAINTEXT is off)")

    def remaining(self, timestamp: str) -> float:
        """Seconds until a timestamp that passed `fresh` leaves the window: how long its nonce must be kept."""
        return max(int(timestamp) + self.window - self.clock.now().timestamp(), 0.0)

    def check_message(self, msg_signature: str | None, timestamp: str, nonce: str, encrypted: str) -> None:
        """Safe mode: `msg_signature` covers the ciphertext as well."""
        if not same(sign(self.token, timestamp, nonce, encrypted), msg_signature):
            raise Forbidden("bad msg_signature")

"""Pseudonymous conversation keys, so that stores and logs never hold raw user ids."""

from __future__ import annotations

import hashlib
from functools import lru_cache


@lru_cache(maxsize=65_536)  # hashing is cheap, but every message needs it
def conversation_key(channel: str, user_id: str, salt: str = "") -> str:
    """A stable key for one user on one channel; the raw id cannot be read back from it."""
    digest = hashlib.blake2b(f"{channel}\x00{user_id}".encode(), key=salt.encode()[:64], digest_size=16)
    return f"{channel}:{digest.hexdigest()}"

"""redis-py's errors as the project's store errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis import exceptions as redis_errors

from bot.core.errors import StoreError, StoreUnavailable

# The server is away, starting, failing over, or a cluster is re-sharding: try again later.
_UNAVAILABLE = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
    redis_errors.ReadOnlyError,
    redis_errors.ClusterDownError,
    redis_errors.TryAgainError,
    redis_errors.MasterDownError,
    OSError,
)


@contextmanager
def translated(where: str) -> Iterator[None]:
    """Turns a redis-py error raised inside into StoreUnavailable (unreachable) or StoreError (anything else).
    `where` is the URL without its password."""
    try:
        yield
    except _UNAVAILABLE as exc:
        raise StoreUnavailable(f"Redis at {where} is unavailable ({type(exc).__name__}: {exc})") from exc
    except redis_errors.RedisError as exc:
        raise StoreError(f"Redis at {where} failed ({type(exc).__name__}: {exc})") from exc

"""Every HTTP connection under limits: deadlines for sending a request, a capped head, and room kept free.

uvicorn's httptools protocol closes an idle keep-alive connection after `timeout_keep_alive`, but waits without
end for a connection that never sends a whole request: 1,100 of them used up a 1,024-descriptor limit so that
every real request failed, and one half-sent request kept SIGTERM from finishing. Here the head and the body
each get a deadline (a sweep every second closes what missed one), a head over `max_head` bytes gets 431, and
once `connections` are open the oldest one that is not running a request is closed to make room, so a real
request always finds a descriptor. Requests beyond `in_flight` at once get uvicorn's 503, decided per request,
so idle connections never count against it.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from dataclasses import dataclass
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from bot.metrics import Metrics

log = logging.getLogger(__name__)
FD_RESERVE = 128  # descriptors kept for the store, the log, outgoing API calls and bursts of accepts
MAX_CONNECTIONS = 2048
MAX_IN_FLIGHT = 512


@dataclass(frozen=True)
class Limits:
    head_timeout: float = 5.0  # seconds from connecting (or a keep-alive request's first byte) to its last header
    body_timeout: float = 10.0  # seconds from the last header to the end of the body
    keep_alive: int = 5  # seconds an idle keep-alive connection stays open (uvicorn's timeout_keep_alive)
    max_head: int = 16 * 1024  # bytes of request line and headers; WeChat's and Telegram's are under 2 KB
    connections: int = MAX_CONNECTIONS
    in_flight: int = MAX_IN_FLIGHT

    @classmethod
    def for_descriptors(cls, soft_limit: int) -> Limits:
        """Connections fit in the descriptor limit with FD_RESERVE to spare."""
        connections = max(16, min(MAX_CONNECTIONS, soft_limit - FD_RESERVE))
        return cls(connections=connections, in_flight=min(MAX_IN_FLIGHT, connections))


def raise_descriptor_limit() -> int:
    """Raises the soft RLIMIT_NOFILE to the hard limit (systemd's soft default is 1,024) and returns the soft
    limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:  # a sandbox may refuse; the limits below fit the old value
            log.info("could not raise the descriptor limit from %d to %d: %s", soft, hard, exc)
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Connections:
    """The open connections of one server, and those not running a request in the order they became so."""

    def __init__(self, limits: Limits, metrics: Metrics) -> None:
        self.limits, self._metrics = limits, metrics
        self.open: set[GuardedProtocol] = set()
        self._idle: dict[GuardedProtocol, None] = {}  # insertion order: the first is the oldest

    def admit(self, conn: GuardedProtocol) -> None:
        self.open.add(conn)
        self._idle[conn] = None
        if len(self.open) > self.limits.connections:
            oldest = next(iter(self._idle))
            # everything else is running a request: the newcomer goes, without a word, rather than a descriptor
            self.retire(oldest, "evicted" if oldest is not conn else "refused")

    def overloaded(self, in_flight: int) -> bool:
        """Whether a request with `in_flight` others running should get 503 (counted in the metrics if so)."""
        if in_flight < self.limits.in_flight:
            return False
        self._metrics.overloaded.inc()
        return True

    def busy(self, conn: GuardedProtocol) -> None:
        self._idle.pop(conn, None)

    def idle(self, conn: GuardedProtocol) -> None:
        if conn in self.open:
            self._idle.pop(conn, None)
            self._idle[conn] = None

    def lost(self, conn: GuardedProtocol) -> None:
        self.open.discard(conn)
        self._idle.pop(conn, None)

    def retire(self, conn: GuardedProtocol, reason: str) -> None:
        self.lost(conn)
        self._metrics.connections_closed.inc(reason)
        conn.transport.close()

    def sweep(self, now: float) -> None:
        """Closes the connections whose request missed its deadline."""
        for conn in [c for c in self.open if c.deadline is not None and c.deadline <= now]:
            self.retire(conn, f"{conn.phase}_timeout")

    def close_unfinished(self) -> int:
        """At shutdown: closes the connections still sending a request (nothing of it was acknowledged)."""
        unfinished = [c for c in self.open if c.deadline is not None]
        for conn in unfinished:
            self.retire(conn, "shutdown")
        return len(unfinished)


class GuardedConfig(Config):
    """uvicorn's Config, carrying the Connections every GuardedProtocol of the server reports to."""

    def __init__(self, app: Any, connections: Connections, **kwargs: Any) -> None:
        limits = connections.limits
        super().__init__(app, http=GuardedProtocol, timeout_keep_alive=limits.keep_alive, **kwargs)
        self.connections = connections


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with deadlines, a head limit and a per-request concurrency check."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        if not isinstance(config, GuardedConfig):
            raise TypeError("GuardedProtocol needs a GuardedConfig")
        self._registry = config.connections
        self._limits = config.connections.limits
        self.deadline: float | None = None  # set while a request is being received
        self.phase = "head"
        self._head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._expect("head", self._limits.head_timeout)
        self._registry.admit(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._registry.lost(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():  # retired (evicted, late): what is still arriving is not read
            return
        if self.phase != "body":  # "idle": the first bytes of a keep-alive connection's next request
            self._head_bytes += len(data)
        super().data_received(data)
        # the head is still incomplete after this chunk (on_headers_complete resets the count otherwise)
        if self.phase == "head" and self._head_bytes > self._limits.max_head and not self.transport.is_closing():
            self._too_large()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.deadline is None:  # a keep-alive connection's next request; a new one's clock runs already
            self._expect("head", self._limits.head_timeout)

    def on_headers_complete(self) -> None:
        # uvicorn answers 503 when `limit_concurrency` is reached; deciding here counts requests, not connections
        self.limit_concurrency = 0 if self._registry.overloaded(len(self.tasks)) else None
        self._expect("body", self._limits.body_timeout)
        self._head_bytes = 0
        self._registry.busy(self)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.deadline, self.phase, self._head_bytes = None, "idle", 0

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.cycle is None or self.cycle.response_complete:  # not a pipelined request started just now
            self._registry.idle(self)

    def _expect(self, phase: str, seconds: float) -> None:
        self.phase, self.deadline = phase, self.loop.time() + seconds

    def _too_large(self) -> None:
        log.warning("a request head was over %d bytes; answered 431 and closed", self._limits.max_head)
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: 4\r\nconnection: close\r\n\r\n431\n"
        )
        self._registry.retire(self, "head_too_large")

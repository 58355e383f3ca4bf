"""The fast lane: the calls every message makes, pipelined over one connection, for a single Redis.

redis-py's asyncio client spends about 80 µs of CPU on every command (a pooled connection is checked out and
back, the command goes through retry and error handling layers); a message makes about seven of them. The lane
writes each command at once on one shared connection and matches replies to callers in order (Redis answers in
the order it was asked), parsing them with hiredis: about 7 µs per command. It carries only the hot commands
(HMGET, GET and the stores' Lua scripts); everything else, and Sentinel, Cluster and TLS, stays on redis-py.

Failures look like redis-py's, so the store's error translation applies unchanged: a lost or refused
connection fails every waiting call with ConnectionError (and the next call connects again), a reply that does
not come within COMMAND_TIMEOUT fails the calls with TimeoutError and drops the connection (its replies can no
longer be matched), and an error reply raises ResponseError. Commands asked in the same turn of the event loop
go out in one write (one system call for all of them).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import hiredis
from redis import exceptions as redis_errors
from redis.asyncio.connection import parse_url

Arg = str | bytes | int | float


def encode(args: Sequence[Arg]) -> bytes:
    """One command in RESP (*<n>, then $<len> <bytes> for each argument), packed by hiredis in C."""
    packed: bytes = hiredis.pack_command(tuple(args))  # type: ignore[arg-type]  # the stub wants a 1-tuple
    return packed


@dataclass(frozen=True, slots=True)
class Address:
    host: str | None
    port: int
    path: str | None  # a Unix socket
    db: int
    username: str | None
    password: str | None


def address_of(url: str) -> Address | None:
    """Where a redis:// or unix:// URL points; None for anything the lane does not serve (TLS, Sentinel,
    Cluster)."""
    scheme = url.split(":", 1)[0].lower()
    if scheme not in ("redis", "unix"):
        return None
    options = parse_url(url)
    return Address(
        host=options.get("host", "localhost") if scheme == "redis" else None,
        port=int(options.get("port", 6379)),
        path=options.get("path"),
        db=int(options.get("db", 0) or 0),
        username=options.get("username"),
        password=options.get("password"),
    )


class Lane:
    """One connection, opened on first use and again after a failure; callers share it."""

    def __init__(self, address: Address, connect_timeout: float, command_timeout: float) -> None:
        self._address = address
        self._connect_timeout = connect_timeout
        self._command_timeout = command_timeout
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._waiting: deque[tuple[asyncio.Future[Any], float]] = deque()  # (reply, when it was asked)
        self._outgoing: list[bytes] = []  # commands of this turn of the event loop, written together
        self._connecting = asyncio.Lock()
        self._closed = False

    async def call(self, *args: Arg) -> Any:
        """Sends one command and returns its reply (bulk strings decoded as UTF-8). Commands asked in the same
        turn of the event loop go out in one write; a reply later than the command timeout fails the calls."""
        if self._writer is None or self._writer.is_closing():
            await self._connect()
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Any] = loop.create_future()
        self._waiting.append((reply, loop.time()))
        if not self._outgoing:
            loop.call_soon(self._flush)
        self._outgoing.append(encode(args))
        return await reply

    def _flush(self) -> None:
        outgoing, self._outgoing = self._outgoing, []
        if outgoing and self._writer is not None:
            self._writer.write(b"".join(outgoing))

    async def _watch(self) -> None:
        """Fails the calls (and drops the connection, whose replies could no longer be matched) when the oldest
        one has waited longer than the command timeout: a stuck or unreachable Redis."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(0.25, self._command_timeout / 4))
            if self._waiting and loop.time() - self._waiting[0][1] > self._command_timeout:
                self._drop(redis_errors.TimeoutError("no reply from Redis in time"))

    async def close(self) -> None:
        self._closed = True
        self._drop(redis_errors.ConnectionError("the store is closed"))
        for task in (self._reader_task, self._watchdog):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._reader_task = self._watchdog = None

    async def _connect(self) -> asyncio.StreamWriter:
        async with self._connecting:
            if self._writer is not None and not self._writer.is_closing():
                return self._writer
            if self._closed:
                raise redis_errors.ConnectionError("the store is closed")
            a = self._address
            try:
                async with asyncio.timeout(self._connect_timeout):
                    if a.path is not None:
                        reader, writer = await asyncio.open_unix_connection(a.path)
                    else:
                        reader, writer = await asyncio.open_connection(a.host, a.port)
            except (OSError, TimeoutError) as exc:
                raise redis_errors.ConnectionError(f"cannot connect to Redis: {exc}") from exc
            parser = hiredis.Reader(encoding="utf-8", errors="replace", replyError=redis_errors.ResponseError)
            self._reader_task = asyncio.create_task(self._read(reader, parser, writer), name="qianzhu-redis-lane")
            # The session's settings are written first, before any caller can write on the new connection.
            setup: list[asyncio.Future[Any]] = []
            commands: list[tuple[Arg, ...]] = []
            if a.password is not None:
                commands.append(("AUTH", a.username, a.password) if a.username else ("AUTH", a.password))
            if a.db:
                commands.append(("SELECT", a.db))
            loop = asyncio.get_running_loop()
            for command in commands:
                setup.append(loop.create_future())
                self._waiting.append((setup[-1], loop.time()))
                writer.write(encode(command))
            self._writer = writer
            if self._watchdog is None or self._watchdog.done():
                self._watchdog = asyncio.create_task(self._watch(), name="qianzhu-redis-lane-watchdog")
            try:
                async with asyncio.timeout(self._command_timeout):
                    for step in setup:
                        await asyncio.shield(step)
            except TimeoutError:
                self._drop(redis_errors.TimeoutError("Redis did not answer the connection's set-up in time"))
                raise redis_errors.TimeoutError("Redis did not answer the connection's set-up in time") from None
            except redis_errors.ResponseError as exc:  # a wrong password or database: not worth retrying
                self._drop(redis_errors.ConnectionError(str(exc)))
                raise redis_errors.AuthenticationError(str(exc)) from exc
            return writer

    async def _read(self, reader: asyncio.StreamReader, parser: hiredis.Reader, writer: asyncio.StreamWriter) -> None:
        error: Exception = redis_errors.ConnectionError("Redis closed the connection")
        try:
            while data := await reader.read(65536):
                parser.feed(data)
                while (reply := parser.gets()) is not False:
                    waiting, _ = self._waiting.popleft()
                    if waiting.done():  # its caller timed out: the connection is being dropped anyway
                        continue
                    if isinstance(reply, redis_errors.ResponseError):
                        waiting.set_exception(reply)
                    else:
                        waiting.set_result(reply)
        except (OSError, hiredis.ProtocolError) as exc:
            error = redis_errors.ConnectionError(f"the connection to Redis failed: {exc}")
        finally:
            if self._writer is writer:
                self._drop(error)

    def _drop(self, error: Exception) -> None:
        """Closes the connection and fails every call still waiting for a reply on it."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        self._outgoing = []  # not written yet: their calls fail below with the others
        waiting, self._waiting = self._waiting, deque()
        for future, _ in waiting:
            if not future.done():
                future.set_exception(error)
                future.exception()  # retrieved: a caller that already gave up leaves no warning behind


class LaneScript:
    """A Lua script run by EVALSHA on the lane (EVAL once, when Redis does not have it yet)."""

    def __init__(self, lane: Lane, source: str) -> None:
        self._lane = lane
        self._source = source
        self._sha = hashlib.sha1(source.encode()).hexdigest()

    async def __call__(self, keys: Sequence[Arg] = (), args: Sequence[Arg] = ()) -> Any:
        try:
            return await self._lane.call("EVALSHA", self._sha, len(keys), *keys, *args)
        except redis_errors.ResponseError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            return await self._lane.call("EVAL", self._source, len(keys), *keys, *args)


class LaneClient:
    """redis-py's client with the hot commands on the lane; every other attribute is redis-py's."""

    def __init__(self, slow: Any, lane: Lane) -> None:
        self._slow = slow
        self._lane = lane

    def __getattr__(self, name: str) -> Any:
        return getattr(self._slow, name)

    async def hmget(self, name: str, keys: Sequence[str]) -> list[Any]:
        found: list[Any] = await self._lane.call("HMGET", name, *keys)
        return found

    async def get(self, name: str) -> Any:
        return await self._lane.call("GET", name)

    def register_script(self, source: str) -> LaneScript:
        return LaneScript(self._lane, source)

    async def aclose(self) -> None:
        try:
            await self._lane.close()
        finally:
            await self._slow.aclose()

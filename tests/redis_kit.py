"""A Redis for the tests: the one on 127.0.0.1:6379 when it answers, else a `redis-server` started on a free
port for the test session, else a skip that says why. Each store takes a root (key prefix) of its own and its
keys are deleted afterwards, so tests never see each other's keys nor leave any behind."""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.core.clock import Clock
from bot.store.memory import MemoryStore
from bot.store.redis import RedisStore
from bot.store.redis.keys import Keys
from bot.store.redis.urls import connect
from bot.store.sqlite import SqliteStore
from tests.servers import free_port

DEFAULT = ("127.0.0.1", 6379)
REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")


def answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when a Redis at host:port answers PING (without a password)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def wait_until_it_answers(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(500):
        if answers("127.0.0.1", port):
            return
        if process.poll() is not None:
            raise RuntimeError(f"redis-server on port {port} exited with {process.returncode}")
        time.sleep(0.01)
    raise RuntimeError(f"redis-server on port {port} did not answer")


def start_server(port: int, folder: Path | None = None, *options: str) -> subprocess.Popen[bytes]:
    """A redis-server on 127.0.0.1:`port` without persistence, answering once this returns."""
    assert REDIS_SERVER is not None
    command = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    if folder is not None:
        command += ["--dir", str(folder)]
    process = subprocess.Popen([*command, *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder)
    wait_until_it_answers(port, process)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@cache
def redis_url() -> str:
    """The URL of a Redis for this test session (see the module docstring); skips when there is none."""
    if answers(*DEFAULT):
        return f"redis://{DEFAULT[0]}:{DEFAULT[1]}/0"
    if REDIS_SERVER is None:
        pytest.skip("no Redis answers on 127.0.0.1:6379, and redis-server is not installed (apt-get install redis)")
    port = free_port()
    process = start_server(port)
    atexit.register(stop, process)
    return f"redis://127.0.0.1:{port}/0"


def fresh_root() -> str:
    return f"qztest-{uuid.uuid4().hex[:12]}"


async def delete_root(url: str, root: str) -> None:
    """Deletes every key under `root` (on every node of a cluster)."""
    client = connect(url)
    try:
        async for name in client.scan_iter(match=Keys(root).everything(), count=1000):
            await client.delete(name)
    finally:
        await client.aclose()


@asynccontextmanager
async def redis_store(clock: Clock, url: str | None = None, root: str | None = None) -> AsyncIterator[RedisStore]:
    """A RedisStore under a root of its own (or `root`, to open a second "process" on the same keys), closed
    when the block ends; the first one opened on a root deletes its keys afterwards."""
    target = url or redis_url()
    mine = root is None
    chosen = fresh_root() if root is None else root
    store = await RedisStore.open(target, clock, root=chosen)
    try:
        yield store
    finally:
        await store.close()
        if mine:
            await delete_root(target, chosen)


async def keys_under(url: str, root: str) -> list[str]:
    """Every key under `root` (a standalone Redis)."""
    client = Redis.from_url(url, decode_responses=True)
    try:
        return sorted([str(name) async for name in client.scan_iter(match=Keys(root).everything(), count=1000)])
    finally:
        await client.aclose()


STORE_KINDS = ("memory", "sqlite", "redis")
AnyStore = MemoryStore | SqliteStore | RedisStore


@asynccontextmanager
async def any_store(kind: str, clock: Clock, folder: Path, name: str = "x.db") -> AsyncIterator[AnyStore]:
    """A fresh store of each kind in STORE_KINDS (SQLite in `folder` / `name`, Redis under a key root of its
    own), closed when the block ends: the fixture of the suites that every store must pass."""
    if kind == "redis":
        async with redis_store(clock) as opened:
            yield opened
        return
    store: AnyStore = MemoryStore(clock) if kind == "memory" else await SqliteStore.open(folder / name, clock)
    try:
        yield store
    finally:
        await store.close()

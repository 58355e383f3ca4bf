"""The Redis fast lane (bot/store/redis/lane.py): pipelined calls match their replies, the connection's set-up
(password, database) comes first, scripts load themselves, and a Redis that goes away fails the waiting calls
and is connected to again when it is back."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as redis_py
from redis import exceptions as redis_errors

from bot.store.redis.lane import Lane, LaneScript, address_of, encode
from tests.redis_kit import REDIS_SERVER, start_server, stop
from tests.servers import free_port

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed (apt-get install redis)")


@pytest.fixture
def port(tmp_path: Path) -> Iterator[int]:
    number = free_port()
    process = start_server(number, tmp_path)
    try:
        yield number
    finally:
        stop(process)


def lane(url: str) -> Lane:
    address = address_of(url)
    assert address is not None
    return Lane(address, connect_timeout=1.0, command_timeout=2.0)


def test_commands_are_written_in_resp() -> None:
    assert encode(["HMGET", "k", "b", 3, 1.5]) == b"*5\r\n$5\r\nHMGET\r\n$1\r\nk\r\n$1\r\nb\r\n$1\r\n3\r\n$3\r\n1.5\r\n"
    assert encode(["SET", "键", "值"]) == "*3\r\n$3\r\nSET\r\n$3\r\n键\r\n$3\r\n值\r\n".encode()


def test_only_plain_redis_and_unix_urls_take_the_lane() -> None:
    assert address_of("rediss://h:6380/0") is None
    assert address_of("redis+cluster://h:7000") is None
    plain = address_of("redis://u:p%40ss@h:7/3")
    assert plain is not None
    assert (plain.host, plain.port, plain.db, plain.username, plain.password) == ("h", 7, 3, "u", "p@ss")
    unix = address_of("unix:///run/redis.sock?db=2")
    assert unix is not None
    assert (unix.path, unix.db) == ("/run/redis.sock", 2)


async def test_many_calls_at_once_each_get_their_own_reply(port: int) -> None:
    fast = lane(f"redis://127.0.0.1:{port}/2")
    try:
        await asyncio.gather(*(fast.call("SET", f"k{n}", f"值{n}") for n in range(500)))
        got = await asyncio.gather(*(fast.call("GET", f"k{n}") for n in range(500)))
        assert got == [f"值{n}" for n in range(500)]
        assert await fast.call("HMGET", "nothing", "a", "b") == [None, None]
        with pytest.raises(redis_errors.ResponseError):
            await fast.call("INCR", "k1")  # not a number: an error reply, and the lane goes on
        assert await fast.call("GET", "k2") == "值2"
    finally:
        await fast.close()
    slow = redis_py.Redis(port=port, db=2, decode_responses=True)
    assert await slow.get("k3") == "值3"  # SELECT 2 came first
    await slow.aclose()


async def test_the_password_is_sent_first(port: int) -> None:
    admin = redis_py.Redis(port=port)
    await admin.config_set("requirepass", "s3cret")
    await admin.aclose()
    good = lane(f"redis://:s3cret@127.0.0.1:{port}/1")
    try:
        results = await asyncio.gather(*(good.call("PING") for _ in range(20)))
        assert set(results) == {"PONG"}
    finally:
        await good.close()
    bad = lane(f"redis://:wrong@127.0.0.1:{port}/1")
    with pytest.raises(redis_errors.ConnectionError):
        await bad.call("PING")
    await bad.close()


async def test_a_script_loads_itself_once(port: int) -> None:
    fast = lane(f"redis://127.0.0.1:{port}/0")
    script = LaneScript(fast, "return redis.call('INCRBY', KEYS[1], ARGV[1])")
    try:
        assert await script(keys=["n"], args=[2]) == 2  # NOSCRIPT, then EVAL
        assert await script(keys=["n"], args=[3]) == 5  # EVALSHA
        await fast.call("SCRIPT", "FLUSH")
        assert await script(keys=["n"], args=[1]) == 6
    finally:
        await fast.close()


async def test_a_redis_that_goes_away_fails_the_calls_and_is_found_again(tmp_path: Path) -> None:
    number = free_port()
    process = start_server(number, tmp_path)
    fast = lane(f"redis://127.0.0.1:{number}/0")
    try:
        assert await fast.call("SET", "k", "v") == "OK"
        stop(process)
        with pytest.raises(redis_errors.ConnectionError):
            await fast.call("GET", "k")
        with pytest.raises(redis_errors.ConnectionError):
            await fast.call("GET", "k")  # refused: still away
        process = start_server(number, tmp_path)
        assert await fast.call("PING") == "PONG"  # connected again, by itself
    finally:
        await fast.close()
        stop(process)


async def test_a_stuck_redis_times_out_and_the_lane_starts_over(tmp_path: Path) -> None:
    number = free_port()
    process = start_server(number, tmp_path)
    fast = lane(f"redis://127.0.0.1:{number}/0")
    try:
        assert await fast.call("PING") == "PONG"
        process.send_signal(signal.SIGSTOP)
        try:
            with pytest.raises(redis_errors.TimeoutError):
                await fast.call("PING")
        finally:
            process.send_signal(signal.SIGCONT)
        assert await fast.call("PING") == "PONG"  # a new connection: the old one's replies cannot be matched
    finally:
        await fast.close()
        stop(process)

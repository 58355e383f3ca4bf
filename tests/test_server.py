"""The server over real HTTP: /healthz follows the store, /metrics speaks Prometheus text (behind a token or on
its own port), and every connection lives under deadlines and limits."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bot.asgi import Receive, Scope, Send, read_body, respond
from bot.cli.serve_cmd import Server, Stop, listen
from bot.connections import Connections, GuardedConfig, Limits
from bot.core.engine import Engine
from bot.core.messages import Message
from bot.metrics import Metrics
from bot.runtime import Runtime
from bot.server import App, Mounted, build_app
from bot.settings import Settings
from bot.store.extras import Stores
from bot.store.memory import MemoryStore
from bot.store.sqlite import SqliteStore
from tests.servers import free_port, serving
from tests.wechat_kit import metric


def runtime_for(engine: Engine, store: Stores) -> Runtime:
    metrics = Metrics()
    engine = engine.with_store(store, engine.clock, observer=metrics.observe_turn)
    return Runtime(Settings(db="memory:"), engine.catalog, engine.clock, store, metrics, engine)


async def test_healthz_follows_the_store(engine: Engine) -> None:
    store = MemoryStore(engine.clock)
    async with serving(build_app(runtime_for(engine, store))) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/healthz")).status_code == 200
        await store.close()
        response = await client.get("/healthz")
        assert response.status_code == 503


async def test_metrics_count_handled_messages(engine: Engine) -> None:
    runtime = runtime_for(engine, MemoryStore(engine.clock))
    await runtime.engine.handle(Message("wechat", "u1", "办签注要交钱吗"))
    async with serving(build_app(runtime)) as base, httpx.AsyncClient(base_url=base) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'qianzhu_messages_total{channel="wechat",intent="faq.fee"} 1' in response.text
    assert 'qianzhu_handling_seconds_count{channel="wechat"} 1' in response.text


def test_serve_runs_on_uvloop_like_uvicorn_run_and_other_commands_on_the_default_loop() -> None:
    import uvloop

    from bot.__main__ import _loop_factory

    assert _loop_factory("serve") is uvloop.new_event_loop
    assert _loop_factory("chat") is None


async def test_healthz_says_503_while_the_server_drains(engine: Engine) -> None:
    app = build_app(runtime_for(engine, MemoryStore(engine.clock)))
    stop = Stop()
    stop.attach(None, app)
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/healthz")).status_code == 200
        stop(signal.SIGTERM)
        response = await client.get("/healthz")
    assert (response.status_code, response.text) == (503, "draining\n")


async def test_healthz_says_503_while_another_connection_holds_the_write_lock(engine: Engine, tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "health.db", engine.clock)
    async with serving(build_app(runtime_for(engine, store))) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/healthz")).status_code == 200
        other = sqlite3.connect(tmp_path / "health.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            locked = await client.get("/healthz", timeout=60)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert (locked.status_code, locked.text) == (503, "store unavailable\n")
        assert (await client.get("/healthz")).status_code == 200
    await store.close()


async def test_metrics_show_the_process_and_the_store_files(engine: Engine, tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "sizes.db", engine.clock)
    runtime = runtime_for(engine, store)
    await runtime.engine.handle(Message("wechat", "u1", "我在上海，居住证10月20号过期了"))
    async with serving(build_app(runtime)) as base, httpx.AsyncClient(base_url=base) as client:
        text = (await client.get("/metrics")).text
    await store.close()
    assert metric(text, "process_resident_memory_bytes") > 10_000_000
    assert metric(text, "process_open_fds") > 3
    assert metric(text, "process_max_fds") >= metric(text, "process_open_fds")
    assert metric(text, 'qianzhu_store_bytes{file="db"}') > 0
    assert 'qianzhu_store_bytes{file="wal"}' in text
    for family in ("qianzhu_store_errors_total", "qianzhu_once_hits_total", "qianzhu_replayed_requests_total"):
        assert f"# TYPE {family} counter" in text


async def test_metrics_want_the_bearer_token_when_one_is_set(engine: Engine) -> None:
    runtime = runtime_for(engine, MemoryStore(engine.clock))
    runtime = Runtime(Settings(db="memory:", metrics_token=SecretStr("m3trics-t0ken")), *runtime_parts(runtime))
    async with serving(build_app(runtime)) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer m3trics-t0keN"})
        assert (wrong.status_code, wrong.headers["www-authenticate"]) == (401, "Bearer")
        assert (await client.get("/metrics", headers={"Authorization": "m3trics-t0ken"})).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer é".encode()})).status_code == 401
        right = await client.get("/metrics", headers={"Authorization": "Bearer m3trics-t0ken"})
        assert right.status_code == 200
        assert "qianzhu_messages_total" in right.text
        assert (await client.get("/healthz")).status_code == 200  # probes need no token


def runtime_parts(runtime: Runtime) -> tuple[Any, ...]:
    return runtime.catalog, runtime.clock, runtime.store, runtime.metrics, runtime.engine


# -- limits: deadlines, head size, room for real requests, requests at once -------------------------------------


@dataclass
class Held:
    """A channel endpoint at /hold that reads the whole body, then answers once `release` is set."""

    entered: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await read_body(scope, receive, 1_000_000)
        self.entered.set()
        await self.release.wait()
        await respond(send, 200, b"done\n")


@dataclass
class Running:
    base: str
    server: Server
    app: App
    held: Held
    task: asyncio.Task[None]

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])


@asynccontextmanager
async def guarded(
    runtime: Runtime, limits: Limits, *, metrics_port: int | None = None, grace: float | None = None
) -> AsyncIterator[Running]:
    """`qianzhu serve`'s server class on 127.0.0.1 inside the test's loop, with the given limits."""
    held = Held()
    app = build_app(runtime, [Mounted(endpoints={"/hold": held})], metrics_port)
    sockets = [listen("127.0.0.1", free_port())]
    if metrics_port is not None:
        sockets.append(listen("127.0.0.1", metrics_port))
    config = GuardedConfig(
        app, Connections(limits, runtime.metrics), log_level="warning", lifespan="on", timeout_graceful_shutdown=grace
    )
    server = Server(config)
    task = asyncio.create_task(server.serve(sockets=sockets))
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started
    running = Running(f"http://127.0.0.1:{sockets[0].getsockname()[1]}", server, app, held, task)
    try:
        yield running
    finally:
        held.release.set()
        server.should_exit = True
        await asyncio.wait_for(task, 60)


async def read_to_close(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (a generous bound, for liveness only)."""
    return await asyncio.wait_for(reader.read(), 30)


def fresh_runtime(engine: Engine) -> Runtime:
    return runtime_for(engine, MemoryStore(engine.clock))


async def test_connections_that_never_finish_a_request_are_closed(engine: Engine) -> None:
    runtime = fresh_runtime(engine)
    async with guarded(runtime, Limits(head_timeout=0.2, body_timeout=0.2)) as running:
        silent = await asyncio.open_connection("127.0.0.1", running.port)
        half_head = await asyncio.open_connection("127.0.0.1", running.port)
        half_head[1].write(b"POST /hold HTTP/1.1\r\nHost: a\r\nContent-Le")
        half_body = await asyncio.open_connection("127.0.0.1", running.port)
        half_body[1].write(b"POST /hold HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n<xml>")
        for reader, writer in (silent, half_head, half_body):
            assert await read_to_close(reader) == b""
            writer.close()
        async with httpx.AsyncClient(base_url=running.base) as client:  # kept-alive requests go on as before
            assert [(await client.get("/healthz")).status_code for _ in range(3)] == [200] * 3
    closed = runtime.metrics.connections_closed
    assert (closed.value("head_timeout"), closed.value("body_timeout")) == (2, 1)


async def test_a_head_over_the_limit_gets_431(engine: Engine) -> None:
    runtime = fresh_runtime(engine)
    async with guarded(runtime, Limits(max_head=2048)) as running:
        reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Filler: " + b"a" * 4096)
        answer = await read_to_close(reader)
        writer.close()
        async with httpx.AsyncClient(base_url=running.base) as client:
            assert (await client.get("/healthz", headers={"X-Filler": "a" * 1500})).status_code == 200
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert runtime.metrics.connections_closed.value("head_too_large") == 1


async def test_requests_beyond_the_in_flight_limit_get_503(engine: Engine) -> None:
    runtime = fresh_runtime(engine)
    async with guarded(runtime, Limits(in_flight=1)) as running, httpx.AsyncClient(base_url=running.base) as client:
        held = asyncio.create_task(client.post("/hold", content=b"x"))
        await asyncio.wait_for(running.held.entered.wait(), 30)
        assert (await client.get("/healthz")).status_code == 503
        running.held.release.set()
        assert (await held).status_code == 200
        assert (await client.get("/healthz")).status_code == 200
    assert runtime.metrics.overloaded.value() == 1


async def test_the_oldest_idle_connection_makes_room_for_a_new_one(engine: Engine) -> None:
    runtime = fresh_runtime(engine)
    async with guarded(runtime, Limits(connections=4)) as running:
        idle = [await asyncio.open_connection("127.0.0.1", running.port) for _ in range(4)]
        async with httpx.AsyncClient(base_url=running.base) as client:
            for _ in range(3):
                assert (await client.get("/healthz")).status_code == 200
        assert await read_to_close(idle[0][0]) == b""  # the oldest went first
        for _, writer in idle:
            writer.close()
    assert runtime.metrics.connections_closed.value("evicted") >= 1
    assert runtime.metrics.connections_closed.value("refused") == 0


async def test_shutdown_does_not_wait_for_a_half_sent_request(engine: Engine) -> None:
    """Without a grace period uvicorn would wait for this request for ever; it is closed when shutdown starts."""
    runtime = fresh_runtime(engine)
    async with guarded(runtime, Limits(head_timeout=600, body_timeout=600), grace=None) as running:
        reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
        writer.write(b"POST /hold HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n<xml>")
        await writer.drain()
        for _ in range(100):
            if running.server.connections.open:
                break
            await asyncio.sleep(0.01)
        running.server.should_exit = True
        await asyncio.wait_for(running.task, 30)
        assert await read_to_close(reader) == b""
        writer.close()
    assert runtime.metrics.connections_closed.value("shutdown") == 1


async def test_metrics_can_have_a_port_of_their_own(engine: Engine) -> None:
    runtime = fresh_runtime(engine)
    metrics_port = free_port()
    async with guarded(runtime, Limits(), metrics_port=metrics_port) as running, httpx.AsyncClient() as client:
        public, private = running.base, f"http://127.0.0.1:{metrics_port}"
        assert (await client.get(f"{public}/metrics")).status_code == 404
        assert (await client.get(f"{public}/healthz")).status_code == 200
        assert (await client.get(f"{private}/metrics")).status_code == 200
        assert (await client.get(f"{private}/healthz")).status_code == 200
        assert (await client.post(f"{private}/hold", content=b"x")).status_code == 404

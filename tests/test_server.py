"""The ASGI app over real HTTP: /healthz follows the store, /metrics speaks Prometheus text."""

from __future__ import annotations

import httpx

from bot.cli.runtime import Runtime
from bot.core.engine import Engine
from bot.core.messages import Message
from bot.metrics import Metrics
from bot.server import build_app
from bot.settings import Settings
from bot.store.memory import MemoryStore
from tests.servers import serving


def runtime_for(engine: Engine, store: MemoryStore) -> Runtime:
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

"""The ASGI app behind `qianzhu serve`: channel webhooks, /healthz and /metrics."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.asgi import Endpoint, Receive, Scope, Send
from bot.cli.runtime import Runtime

log = logging.getLogger(__name__)
Hook = Callable[[], Awaitable[None]]


@dataclass
class Mounted:
    """What a channel adds to the app: routes, and what to start and stop with it."""

    routes: list[BaseRoute] = field(default_factory=list)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)  # exact paths served as raw ASGI apps
    startup: list[Hook] = field(default_factory=list)
    shutdown: list[Hook] = field(default_factory=list)


class App:
    """Starlette, except for the channels' raw endpoints, which get HTTP requests for their exact path first."""

    def __init__(self, starlette: Starlette, endpoints: dict[str, Endpoint]) -> None:
        self.starlette = starlette
        self._endpoints = endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self._endpoints.get(scope["path"]) if scope["type"] == "http" else None
        if endpoint is None:
            await self.starlette(scope, receive, send)
        else:
            await endpoint(scope, receive, send)


def build_app(runtime: Runtime, channels: Sequence[Mounted] = ()) -> App:
    async def healthz(request: Request) -> Response:
        healthy = await runtime.store.ping()
        return PlainTextResponse("ok\n" if healthy else "store unavailable\n", status_code=200 if healthy else 503)

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(runtime.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for channel in channels:
            for hook in channel.startup:
                await hook()
        try:
            yield
        finally:
            for channel in reversed(channels):
                for hook in channel.shutdown:
                    try:
                        await hook()
                    except Exception:  # one channel failing to stop must not keep the others running
                        log.exception("a shutdown hook failed")

    routes: list[BaseRoute] = [Route("/healthz", healthz), Route("/metrics", metrics)]
    endpoints: dict[str, Endpoint] = {}
    for channel in channels:
        routes += channel.routes
        endpoints |= channel.endpoints
    return App(Starlette(routes=routes, lifespan=lifespan), endpoints)

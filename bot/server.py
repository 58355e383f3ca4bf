"""The ASGI app behind `qianzhu serve`: channel webhooks, /healthz, /metrics and calendar links."""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot import calendar_links
from bot.asgi import Endpoint, Receive, Scope, Send
from bot.calendar_file import MEDIA_TYPE
from bot.calendar_links import CalendarLinks
from bot.calendar_texts import load_texts as load_calendar_texts
from bot.core.errors import ContentError
from bot.logs import new_request_id
from bot.runtime import EXIT_CONTENT, Runtime, StartupFailed

log = logging.getLogger(__name__)
Hook = Callable[[], Awaitable[None]]
OPERATOR_PATHS = frozenset({"/healthz", "/metrics"})


@dataclass
class Mounted:
    """What a channel adds to the app: routes, and what to start and stop with it."""

    routes: list[BaseRoute] = field(default_factory=list)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)  # exact paths served as raw ASGI apps
    startup: list[Hook] = field(default_factory=list)
    shutdown: list[Hook] = field(default_factory=list)


class App:
    """Starlette, except for the channels' raw endpoints, which get HTTP requests for their exact path first.

    Every HTTP request gets a request id for the logs. With `metrics_port`, /metrics is served only on that
    port, and that port serves nothing else but /healthz. `draining` turns /healthz to 503 once the server is
    stopping, so a load balancer stops sending new requests.
    """

    def __init__(
        self,
        starlette: Starlette,
        endpoints: dict[str, Endpoint],
        channels: Sequence[Mounted] = (),
        metrics_port: int | None = None,
    ) -> None:
        self.starlette = starlette
        self._endpoints = endpoints
        self._channels = tuple(channels)
        self.metrics_port = metrics_port
        self.draining = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            new_request_id()
            if self.metrics_port is not None and not self._on_its_port(scope):
                await PlainTextResponse("not found\n", status_code=404)(scope, receive, send)
                return
            endpoint = self._endpoints.get(scope["path"])
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
        await self.starlette(scope, receive, send)

    def _on_its_port(self, scope: Scope) -> bool:
        """Whether the path may be served on the port the request came to (only with a metrics port)."""
        server = scope.get("server")
        if server is not None and server[1] == self.metrics_port:
            return str(scope["path"]) in OPERATOR_PATHS
        return str(scope["path"]) != "/metrics"

    async def start(self) -> None:
        """Runs every channel's start-up hooks in order; the first failure propagates."""
        for channel in self._channels:
            for hook in channel.startup:
                await hook()

    async def stop(self) -> None:
        """Runs every channel's shut-down hooks, last channel first; a failing hook is logged, not raised."""
        for channel in reversed(self._channels):
            for hook in channel.shutdown:
                try:
                    await hook()
                except Exception:  # one channel failing to stop must not keep the others running
                    log.exception("a shutdown hook failed")


def bearer_matches(header: str | None, token: str) -> bool:
    """`Authorization: Bearer <token>`, compared in constant time."""
    if header is None:
        return False
    return hmac.compare_digest(header.encode(), f"Bearer {token}".encode())


def calendar_links_for(runtime: Runtime) -> CalendarLinks | None:
    """The calendar links of the settings, or None when they are off (QIANZHU_PUBLIC_URL or
    QIANZHU_LINK_SECRET unset). Stateless: every caller may build its own."""
    settings = runtime.settings
    if settings.public_url is None or settings.link_secret is None:
        return None
    return CalendarLinks(settings.link_secret.get_secret_value(), settings.public_url, runtime.clock)


def calendar_routes(runtime: Runtime) -> list[BaseRoute]:
    """GET (and HEAD) /calendar/<token>.ics: the calendar file a link stands for; 404 for any link that is not
    genuine and current, with no word why. Nothing is served when links are off, which one log line says."""
    links = calendar_links_for(runtime)
    if links is None:
        settings = runtime.settings
        if settings.public_url is not None or settings.link_secret is not None:
            log.warning("calendar links are off: they need both QIANZHU_PUBLIC_URL and QIANZHU_LINK_SECRET")
        elif settings.wechat_token is not None:
            log.info("calendar links are off (set QIANZHU_PUBLIC_URL and QIANZHU_LINK_SECRET to offer them on WeChat)")
        return []
    try:
        texts = load_calendar_texts(runtime.settings.content_dir)
    except ContentError as exc:
        raise StartupFailed(EXIT_CONTENT, f"内容文件有误，无法启动 / content error: {exc}") from exc
    processing = runtime.engine.dialog.processing
    log.info("calendar links are on, under %s%s", links.base_url, calendar_links.PATH_PREFIX)

    async def calendar(request: Request) -> Response:
        facts = links.read(str(request.path_params["token"]))
        content = None
        if facts is not None:
            content = calendar_links.file_for(facts, runtime.catalog, processing, texts, runtime.clock.now())
        if facts is None or content is None:
            runtime.metrics.errors.inc("calendar", "not_found")
            return PlainTextResponse("not found\n", status_code=404, headers={"Cache-Control": "no-store"})
        disposition = f'attachment; filename="{calendar_links.filename(facts)}"'
        headers = {"Content-Disposition": disposition, "Cache-Control": "private, no-store"}
        return Response(content, media_type=f"{MEDIA_TYPE}; charset=utf-8", headers=headers)

    path = f"{calendar_links.PATH_PREFIX}{{token}}{calendar_links.SUFFIX}"
    return [Route(path, calendar, methods=["GET", "HEAD"])]


def build_app(runtime: Runtime, channels: Sequence[Mounted] = (), metrics_port: int | None = None) -> App:
    """The app; its lifespan starts and stops the channels (`qianzhu serve` runs without one and calls
    `App.start` and `App.stop` itself, to tell start-up failures apart)."""
    metrics_token = runtime.settings.metrics_token
    path = getattr(runtime.store, "path", None)
    if isinstance(path, str) and path != ":memory:":
        runtime.metrics.watch_store_file(path)

    async def healthz(request: Request) -> Response:
        if app.draining:
            return PlainTextResponse("draining\n", status_code=503)
        healthy = await runtime.store.ping()  # a write probe: a full disk or a held lock say 503
        return PlainTextResponse("ok\n" if healthy else "store unavailable\n", status_code=200 if healthy else 503)

    async def metrics(request: Request) -> Response:
        if metrics_token is not None and not bearer_matches(
            request.headers.get("authorization"), metrics_token.get_secret_value()
        ):
            return PlainTextResponse("unauthorized\n", status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return PlainTextResponse(runtime.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await app.start()
        try:
            yield
        finally:
            await app.stop()

    routes: list[BaseRoute] = [Route("/healthz", healthz), Route("/metrics", metrics), *calendar_routes(runtime)]
    endpoints: dict[str, Endpoint] = {}
    for channel in channels:
        routes += channel.routes
        endpoints |= channel.endpoints
    app = App(Starlette(routes=routes, lifespan=lifespan), endpoints, channels, metrics_port)
    return app

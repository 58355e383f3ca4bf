"""`qianzhu serve`: the webhooks of every configured channel on one uvicorn server, stopped cleanly by signals.

The order is: listen (a taken port exits 6 before anything else starts), start the channels (an unreachable
Telegram exits 5), serve until SIGTERM or SIGINT, then drain in-flight requests for QIANZHU_SHUTDOWN_GRACE
seconds, stop the channels (which finish their once-only records) and let `running` close the store with its
checkpoint, and exit 0. uvicorn's own signal handling would re-raise the signal after serving and kill the
process before the store is closed, so the signals are this module's for the whole command (`stop_signals`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import sys
from collections.abc import Generator, Iterator

import uvicorn

from bot import exits, logs
from bot.connections import Connections, GuardedConfig, Limits, raise_descriptor_limit
from bot.runtime import Runtime, StartupFailed, warn_if_unsalted
from bot.server import App, Mounted, build_app

log = logging.getLogger(__name__)
BACKLOG = 2048
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stop:
    """What the signals asked for: the first one stops the server gracefully, the next ones hurry it."""

    def __init__(self) -> None:
        self.signals = 0
        self._server: Server | None = None
        self._app: App | None = None

    def attach(self, server: Server | None, app: App) -> None:
        self._server, self._app = server, app
        if self.signals:
            self._apply()

    def __call__(self, signum: int) -> None:
        self.signals += 1
        log.info("%s received: stopping", signal.Signals(signum).name)
        self._apply()

    def _apply(self) -> None:
        if self._app is not None:
            self._app.draining = True
        if self._server is not None:
            self._server.should_exit = True
            self._server.force_exit = self.signals > 1  # a second signal: stop waiting for requests to finish


@contextlib.contextmanager
def stop_signals() -> Iterator[Stop]:
    """SIGTERM and SIGINT set a Stop for as long as the command runs, the store's closing included."""
    loop, stop = asyncio.get_running_loop(), Stop()
    for signum in SIGNALS:
        loop.add_signal_handler(signum, stop, signum)
    try:
        yield stop
    finally:
        for signum in SIGNALS:
            loop.remove_signal_handler(signum)


class Server(uvicorn.Server):
    """uvicorn's server with the signals left to `Stop`, a sweep of late connections every second and of
    held-back log lines every ten, and the requests still arriving closed when shutdown starts."""

    def __init__(self, config: GuardedConfig) -> None:
        super().__init__(config)
        self.connections = config.connections

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # `stop_signals` has them; uvicorn's would re-raise the signal once serving ends

    async def on_tick(self, counter: int) -> bool:
        if counter % 10 == 0:
            self.connections.sweep(asyncio.get_running_loop().time())
        if counter % 100 == 0:
            logs.flush()
        return await super().on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        closed = self.connections.close_unfinished()
        if closed:
            log.info("closed %d connection(s) that had not sent a whole request", closed)
        await super().shutdown(sockets)


def mounted_channels(runtime: Runtime) -> list[Mounted]:
    """Every channel whose settings are present; channels import lazily so each stays optional."""
    settings, channels = runtime.settings, []
    if settings.telegram_token is not None:
        from bot.channels.telegram.webhook import mount_telegram

        channels.append(mount_telegram(runtime))
    if settings.wechat_token is not None:
        from bot.channels.wechat.app import mount_wechat

        channels.append(mount_wechat(runtime))
    return channels


def listen(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A listening socket, bound before anything starts so that a taken port is reported as such. `reuse_port`:
    several processes on one host share the port, and the kernel spreads new connections over them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise StartupFailed(
            exits.CANNOT_LISTEN, f"无法监听 {host}:{port} / cannot listen on {host}:{port}: {exc}"
        ) from exc
    sock.setblocking(False)
    return sock


async def start_channels(app: App, runtime: Runtime) -> None:
    """Starts the channels; a failure stops whatever started and exits with the code that names it."""
    try:
        await app.start()
    except Exception as exc:
        await app.stop()
        failure: tuple[int, str] | None = None
        if runtime.settings.telegram_token is not None:
            from bot.cli.telegram_cmd import start_failure

            failure = start_failure(exc, runtime.settings)
        if failure is None:
            failure = (exits.FAILED, f"a channel could not start: {type(exc).__name__}: {exc}")
        raise StartupFailed(*failure) from exc


async def serve(
    runtime: Runtime,
    host: str,
    port: int,
    stop: Stop | None = None,
    metrics_port: int | None = None,
    metrics_host: str = "127.0.0.1",
    reuse_port: bool = False,
) -> int:
    """Serves until a signal; with `metrics_port`, /metrics is served there (and only there)."""
    stop = stop or Stop()
    if metrics_port is not None and metrics_port == port:
        raise StartupFailed(exits.CONFIG, "--metrics-port must differ from --port")
    warn_if_unsalted(runtime.settings)
    limits = Limits.for_descriptors(raise_descriptor_limit())
    channels = mounted_channels(runtime)
    if not channels:
        print(
            "no channel is configured: set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET, or WECHAT_TOKEN "
            "(serving /healthz and /metrics only)",
            file=sys.stderr,
        )
    app = build_app(runtime, channels, metrics_port)
    sockets = [listen(host, port, reuse_port)]
    try:
        if metrics_port is not None:
            sockets.append(listen(metrics_host, metrics_port))
        await start_channels(app, runtime)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    config = GuardedConfig(
        app,
        Connections(limits, runtime.metrics),
        log_level=runtime.settings.log_level.lower(),
        log_config=None,  # our handler (bot.logs) formats and rate-limits uvicorn's lines too
        access_log=False,  # access logs would carry WeChat openids in query strings
        server_header=False,
        lifespan="off",  # the channels were started above and are stopped below
        backlog=BACKLOG,
        timeout_graceful_shutdown=runtime.settings.shutdown_grace,  # typed int, used as asyncio.wait_for's timeout
    )
    server = Server(config)
    stop.attach(server, app)
    log.info(
        "serving on http://%s:%d (at most %d connections and %d requests at once)",
        host,
        port,
        limits.connections,
        limits.in_flight,
    )
    # Content, jieba's dictionary and the catalog live as long as the process: frozen, they stay out of every
    # full collection, which otherwise pauses all requests for ~50 ms (the p99 of `bench/wechat_http.py`).
    gc.collect()
    gc.freeze()
    try:
        await server.serve(sockets=sockets)
    except (OSError, SystemExit) as exc:  # uvicorn exits 3 itself when it cannot start, which means the store
        if server.started:
            raise
        raise StartupFailed(exits.CANNOT_LISTEN, f"the HTTP server could not start: {exc}") from exc
    finally:
        await app.stop()
    log.info("stopped; closing the store")
    return exits.OK

"""`qianzhu serve`: the webhooks of every configured channel on one uvicorn server."""

from __future__ import annotations

import gc
import logging
import sys

import uvicorn

from bot.cli.runtime import EXIT_CONFIG, Runtime
from bot.server import Mounted, build_app

log = logging.getLogger(__name__)


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


async def serve(runtime: Runtime, host: str, port: int) -> int:
    channels = mounted_channels(runtime)
    if not channels:
        print(
            "no channel is configured: set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET, or WECHAT_TOKEN "
            "(serving /healthz and /metrics only)",
            file=sys.stderr,
        )
    config = uvicorn.Config(
        build_app(runtime, channels),
        host=host,
        port=port,
        log_level=runtime.settings.log_level.lower(),
        access_log=False,  # access logs would carry WeChat openids in query strings
        server_header=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    # Content, jieba's dictionary and the catalog live as long as the process: frozen, they stay out of every
    # full collection, which otherwise pauses all requests for ~50 ms (the p99 of `bench/wechat_http.py`).
    gc.collect()
    gc.freeze()
    await server.serve()
    return 0 if server.started else EXIT_CONFIG

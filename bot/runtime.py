"""Builds the running parts for every command and turns start-up failures into clear exits."""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot import exits
from bot.catalog.catalog import Catalog
from bot.catalog.loader import load_catalog
from bot.core.clock import Clock
from bot.core.dialog import Dialog
from bot.core.engine import Engine
from bot.core.errors import ContentError, StoreError, StoreUnavailable
from bot.core.understanding import Understanding
from bot.metrics import Metrics
from bot.settings import Settings
from bot.store.extras import Stores
from bot.store.factory import open_store

log = logging.getLogger(__name__)
EXIT_CONTENT = exits.CONTENT  # the names the channels import; bot.exits holds the whole table
EXIT_STORE = exits.STORE
EXIT_CONFIG = exits.CONFIG


class StartupFailed(SystemExit):
    """Exits with a code and a message on stderr instead of a traceback."""

    def __init__(self, code: int, message: str) -> None:
        print(message, file=sys.stderr)
        super().__init__(code)


def catalog_or_exit(content_dir: Path | None) -> Catalog:
    try:
        return load_catalog(content_dir)
    except ContentError as exc:
        raise StartupFailed(EXIT_CONTENT, f"内容文件有误，无法启动 / content error: {exc}") from exc


@dataclass(frozen=True)
class Runtime:
    """What a command runs with: settings, content, clock, store, metrics and the engine."""

    settings: Settings
    catalog: Catalog
    clock: Clock
    store: Stores
    metrics: Metrics
    engine: Engine


def warn_if_unsalted(settings: Settings) -> None:
    """For the servers: without a salt the conversation keys are plain hashes of the user ids, and Telegram's
    numeric ids can be enumerated, so the keys in the logs and the store could be traced back to users."""
    if not settings.key_salt.get_secret_value():
        log.warning(
            "QIANZHU_KEY_SALT is not set: conversation keys are unsalted hashes, and Telegram ids can be recovered "
            "from them by trying every id. Set it to a long random value (changing it later starts every "
            "conversation afresh)."
        )


def settle_heap() -> None:
    """Moves everything built at start-up (the dictionary, the content, compiled patterns) out of the garbage
    collector's sight: it lives as long as the process, and scanning it on every full collection cost ~5% of a
    message's time in bench/engine.py. A turn allocates a few thousand short-lived objects, so the youngest
    generation is collected every 20,000 allocations rather than every 700 (another ~3%)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


@asynccontextmanager
async def running(
    settings: Settings, catalog: Catalog, db: str, clock: Clock, full: bool = False
) -> AsyncIterator[Runtime]:
    """The runtime of one command; `full`: verdicts as the whole text, not the card (ask and replay --full)."""
    try:
        store = await open_store(db, clock)
    except StoreUnavailable as exc:  # another process holds the lock: worth starting again shortly
        raise StartupFailed(exits.STORE_BUSY, f"数据库被占用，请稍后重试 / store busy: {exc}") from exc
    except StoreError as exc:
        raise StartupFailed(EXIT_STORE, f"无法打开数据库 / store error: {exc}") from exc
    metrics = Metrics()
    engine = Engine(
        catalog,
        store,
        clock,
        settings.key_salt.get_secret_value(),
        dialog=Dialog(catalog, Understanding(catalog), full=True) if full else None,
        observer=metrics.observe_turn,
        record_unmatched=settings.record_unmatched,
    )
    settle_heap()
    try:
        yield Runtime(settings, catalog, clock, store, metrics, engine)
    finally:
        await store.close()

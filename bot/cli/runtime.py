"""Builds the engine for the command-line tools and turns start-up failures into clear exits."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.catalog.catalog import Catalog
from bot.catalog.loader import load_catalog
from bot.core.clock import Clock
from bot.core.engine import Engine
from bot.core.errors import ContentError, StoreError
from bot.store.factory import open_store

EXIT_CONTENT = 2
EXIT_STORE = 3


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


@asynccontextmanager
async def running_engine(
    catalog: Catalog, db: str, clock: Clock, key_salt: str = ""
) -> AsyncIterator[Engine]:
    try:
        store = await open_store(db, clock)
    except StoreError as exc:
        raise StartupFailed(EXIT_STORE, f"无法打开数据库 / store error: {exc}") from exc
    try:
        yield Engine(catalog, store, clock, key_salt)
    finally:
        await store.close()

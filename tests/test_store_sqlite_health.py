"""SqliteStore.ping is a real write probe: False (never an error) for a locked, read-only or full store."""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.core.errors import StoreError, StoreUnavailable
from bot.store.memory import MemoryStore
from bot.store.sqlite import SqliteStore
from bot.store.sqlite.health import MIN_FREE
from tests.sqlite_kit import T0, opened, raw


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


def page_count(path: Path) -> int:
    with raw(path) as conn:
        return int(conn.execute("PRAGMA page_count").fetchone()[0])


async def test_a_healthy_store_pings_true_and_pings_do_not_grow_the_file(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    async with opened(path, clock) as store:
        await store.save("k", "{}")
        assert await store.ping()
        pages = page_count(path)
        for _ in range(300):
            assert await store.ping()
        assert page_count(path) == pages
        assert (tmp_path / "state.db-wal").stat().st_size < 1024 * 1024  # checkpointed as usual
        with raw(path) as other:  # the probe really commits: another connection sees its row
            assert other.execute("SELECT count(*) FROM meta WHERE name = 'health_probe'").fetchone() == (1,)


async def test_an_in_memory_store_pings_true(clock: FixedClock) -> None:
    async with opened(":memory:", clock) as store:
        assert await store.ping()


@pytest.mark.parametrize("lock", ["BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"])
async def test_a_write_locked_store_pings_false_then_true_again(tmp_path: Path, clock: FixedClock, lock: str) -> None:
    path = tmp_path / "state.db"
    async with opened(path, clock) as store:
        with raw(path) as other:
            other.execute(lock)
            other.execute("INSERT INTO meta (name, value) VALUES ('other', 'x')")
            assert await asyncio.wait_for(store.ping(), 30) is False
            other.execute("ROLLBACK")
        assert await store.ping()


async def test_a_ping_behind_a_stuck_statement_answers_false_without_piling_up(
    tmp_path: Path, clock: FixedClock
) -> None:
    """A save waiting for another process's lock holds the store's worker: pings say False instead of queueing."""
    path = tmp_path / "state.db"
    async with opened(path, clock, busy_timeout=60) as store:  # the save outlasts every ping
        with raw(path) as other:
            other.execute("BEGIN IMMEDIATE")
            waiting = asyncio.create_task(store.save("k", "{}"))
            await asyncio.sleep(0.05)
            pings = [await asyncio.wait_for(store.ping(), 30) for _ in range(3)]
            assert pings == [False, False, False]
            other.execute("ROLLBACK")
        await waiting  # the save went through once the lock was gone
        # The probes queued behind it run next; until they have, a ping still answers False (no piling up).
        for _ in range(200):
            if await store.ping():
                break
            await asyncio.sleep(0.05)
        assert await store.ping()
        assert await store.load("k") == "{}"


async def test_a_closed_store_pings_false(tmp_path: Path, clock: FixedClock) -> None:
    store = await SqliteStore.open(tmp_path / "state.db", clock)
    await store.close()
    assert await store.ping() is False
    memory = MemoryStore(clock)
    await memory.close()
    assert await memory.ping() is False


def chattr(flag: str, file: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["chattr", flag, str(file)], capture_output=True, check=False)


@pytest.fixture
def immutable() -> Iterator[list[Path]]:
    """Files made immutable (chattr +i: even root cannot write to them); made writable again afterwards."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    files: list[Path] = []
    yield files
    for path in files:
        chattr("-i", path)


async def test_a_store_whose_file_became_read_only_pings_false(
    tmp_path: Path, clock: FixedClock, immutable: list[Path]
) -> None:
    path = tmp_path / "state.db"
    async with opened(path, clock) as store:
        await store.save("k", "{}")
        for file in (path, tmp_path / "state.db-wal"):
            done = chattr("+i", file)
            if done.returncode != 0:
                pytest.skip(f"cannot make files immutable here: {done.stderr!r}")
            immutable.append(file)
        assert await asyncio.wait_for(store.ping(), 30) is False
        for file in immutable:
            assert chattr("-i", file).returncode == 0
        assert await store.ping()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs of its own (root only; skipped where mounting is not permitted)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr!r}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Writes a file until the file system is full."""
    filler = folder / f"filler-{uuid.uuid4().hex}"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    return filler


async def save_many(store: SqliteStore) -> None:
    for n in range(2000):  # a full disk refuses writes once the WAL has to grow
        await store.save(f"user{n}", "x" * 500)


async def test_a_store_on_a_full_disk_pings_false_and_true_again_when_space_is_freed(
    small_disk: Path, clock: FixedClock
) -> None:
    async with opened(small_disk / "state.db", clock) as store:
        await store.save("k", "{}")
        assert await store.ping()
        filler = fill(small_disk)
        assert shutil.disk_usage(small_disk).free < MIN_FREE
        assert await asyncio.wait_for(store.ping(), 30) is False
        with pytest.raises(StoreError, match="full"):
            await save_many(store)
        filler.unlink()
        assert await store.ping()
        await store.save("after", "{}")
        assert await store.load("after") == "{}"


async def test_a_locked_store_still_raises_for_writes_but_pings_never_raise(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    async with opened(path, clock, busy_timeout=0.2) as store:
        with raw(path) as other:
            other.execute("BEGIN EXCLUSIVE")
            with pytest.raises(StoreUnavailable):
                await store.save("k", "{}")
            assert await store.ping() is False
            other.execute("ROLLBACK")

"""SqliteStore's start and end: several processes creating one new file at once, and a close that leaves a .db
file that holds everything without its -wal."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.store.sqlite import SCHEMA_VERSION, SqliteStore
from tests.sqlite_kit import T0, opened, raw

ROOT = Path(__file__).resolve().parent.parent
TRIALS = 10
OPENERS = 3

# One opener: imports everything first, then waits for the shared start time, so the opens collide.
OPENER = textwrap.dedent(
    """
    import asyncio, sys, time
    from bot.core.clock import SystemClock
    from bot.store.sqlite import SqliteStore

    async def main(path: str, user: str) -> None:
        store = await SqliteStore.open(path, SystemClock())
        await store.save(user, '{"opened": true}')
        await store.close()

    path, user, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
    time.sleep(max(0.0, start - time.time()))
    asyncio.run(main(path, user))
    print("opened")
    """
)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


def assert_one_store(path: Path, users: list[str]) -> None:
    with raw(path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchall() == [
            (str(SCHEMA_VERSION),)
        ]
        assert sorted(row[0] for row in conn.execute("SELECT key FROM documents")) == sorted(users)


@pytest.mark.slow
def test_processes_starting_together_on_a_new_file_all_start(tmp_path: Path) -> None:
    """D10: 4 of 20 such starts exited with "table meta already exists" or "database is locked"."""
    for trial in range(TRIALS):
        path = tmp_path / f"trial{trial}" / "state.db"
        start = time.time() + 1.5  # every opener has imported the bot by then
        users = [f"user{n}" for n in range(OPENERS)]
        openers = [
            subprocess.Popen(
                [sys.executable, "-c", OPENER, str(path), user, str(start)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for user in users
        ]
        results = [opener.communicate(timeout=60) for opener in openers]
        failed = [err for opener, (_, err) in zip(openers, results, strict=True) if opener.returncode != 0]
        assert failed == [], f"trial {trial}: {len(failed)} of {OPENERS} failed: {failed[0][-600:]}"
        assert [out.strip() for out, _ in results] == ["opened"] * OPENERS
        assert_one_store(path, users)


def test_threads_opening_a_new_file_at_once_all_succeed(tmp_path: Path) -> None:
    """The same race within one process: separate connections, released together by a barrier."""
    for trial in range(TRIALS):
        path = tmp_path / f"trial{trial}.db"
        barrier = threading.Barrier(OPENERS)
        errors: list[BaseException] = []

        def open_and_save(
            user: str, path: Path = path, barrier: threading.Barrier = barrier, errors: list[BaseException] = errors
        ) -> None:
            async def run() -> None:
                barrier.wait()
                store = await SqliteStore.open(path, FixedClock(T0))
                await store.save(user, "{}")
                await store.close()

            try:
                asyncio.run(run())
            except BaseException as exc:  # collected for the assertion below
                errors.append(exc)

        users = [f"user{n}" for n in range(OPENERS)]
        threads = [threading.Thread(target=open_and_save, args=(user,)) for user in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert_one_store(path, users)


async def test_a_store_opened_while_another_holds_the_lock_waits_for_it(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    await (await SqliteStore.open(path, clock)).close()
    with raw(path) as other:
        other.execute("BEGIN IMMEDIATE")
        opening = asyncio.create_task(SqliteStore.open(path, clock, busy_timeout=30))
        await asyncio.sleep(0.3)
        assert not opening.done()  # waiting for the lock, not failing
        other.execute("COMMIT")
    store = await opening
    await store.close()


async def test_close_leaves_a_database_file_that_holds_everything_alone(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    store = await SqliteStore.open(path, clock)
    for n in range(300):
        await store.save(f"user{n}", f'{{"n": {n}}}')
    await store.add_reminders("user1", "telegram", "42", [(T0, "提醒")])
    await store.close()

    copy = tmp_path / "backup" / "state.db"
    copy.parent.mkdir()
    shutil.copy(path, copy)  # the .db alone, as a backup that forgets the -wal would take it
    assert not (copy.parent / "state.db-wal").exists()
    async with opened(copy, clock) as restored:
        assert [await restored.load(f"user{n}") for n in range(300)] == [f'{{"n": {n}}}' for n in range(300)]
        assert [r.text for r in await restored.reminders_for("user1")] == ["提醒"]


async def test_close_empties_the_wal_while_another_process_has_the_file_open(tmp_path: Path, clock: FixedClock) -> None:
    """SQLite's own close checkpoints only as the last connection; the store's TRUNCATE does it regardless."""
    path = tmp_path / "state.db"
    with raw(path) as other:
        store = await SqliteStore.open(path, clock)
        other.execute("SELECT count(*) FROM meta").fetchall()  # another process that has the file open
        for n in range(50):
            await store.save(f"user{n}", "{}")
        await store.close()
        assert (tmp_path / "state.db-wal").stat().st_size == 0
        copy = tmp_path / "copy.db"
        shutil.copy(path, copy)
    with raw(copy) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone() == (50,)

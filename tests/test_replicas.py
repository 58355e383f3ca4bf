"""Three `qianzhu serve` processes over one Redis (issue 12, items 2 and 3): they behave as one, and they survive
the loss of a replica or of Redis for a while.

Each test starts its own `redis-server` on a free port (skipped, with the reason, where it is not installed), so a
kill or a restart never touches the Redis other tests use.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.core.clock import SystemClock
from bot.core.render import fmt_date
from bot.store.redis.store import RedisStore
from tests.fake_telegram import TOKEN as FAKE_TOKEN
from tests.fake_telegram import FakeBotApi, fake_api_app
from tests.servers import free_port, serving
from tests.wechat_kit import TOKEN, WeChat, next_msg_id, text_xml

ROOT = Path(__file__).resolve().parent.parent
SALT = "replicas-salt"
REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed (apt-get install redis-server)")
FOREIGN = ("WECHAT_AES_KEY", "WECHAT_AES_KEY_PREVIOUS", "WECHAT_APPID", "WECHAT_APPSECRET", "TELEGRAM_BOT_TOKEN")


def today_in_china() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


@contextmanager
def redis_server(
    directory: Path, *options: str, port: int | None = None
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    assert REDIS is not None
    port = port or free_port()
    command = [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", "", *options]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break  # it listens
            except OSError:
                time.sleep(0.05)
        yield port, process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(30)


def start(redis_url: str, log: Path, extra: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN and not k.startswith("QIANZHU_")}
    env |= {"QIANZHU_DB": redis_url, "WECHAT_TOKEN": TOKEN, "QIANZHU_KEY_SALT": SALT, **extra}
    command = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as errors:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors), port


def text_of(log: Path) -> str:
    return log.read_text(encoding="utf-8")


@asynccontextmanager
async def replica(
    redis_url: str, log: Path, **extra: str
) -> AsyncIterator[tuple[httpx.AsyncClient, subprocess.Popen[bytes]]]:
    process, port = start(redis_url, log, extra)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(1200):
                assert process.poll() is None, text_of(log)
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            yield client, process
    finally:
        if process.poll() is None:
            process.terminate()
        await asyncio.to_thread(process.wait, 60)


async def say(client: httpx.AsyncClient, wechat: WeChat, user: str, text: str) -> str:
    params, body = wechat.post(text_xml(user, text, next_msg_id(), wechat.now()))
    return (wechat.read(await client.post("/wechat", params=params, content=body), params)).get("Content", "")


def messages_total(metrics: str) -> float:
    return sum(float(m) for m in re.findall(r"^qianzhu_messages_total\{[^}]*\} ([0-9.e+]+)$", metrics, re.M))


@asynccontextmanager
async def three(
    tmp_path: Path, redis_url: str
) -> AsyncIterator[list[tuple[httpx.AsyncClient, subprocess.Popen[bytes]]]]:
    async with AsyncExitStack() as stack:
        started = [stack.enter_async_context(replica(redis_url, tmp_path / f"serve-{n}.log")) for n in range(3)]
        yield list(await asyncio.gather(*started))


async def test_three_replicas_behave_as_one(tmp_path: Path) -> None:
    wechat = WeChat(SystemClock())
    expiry = today_in_china() - timedelta(days=20)
    deadline = expiry + timedelta(days=60)  # 上海
    with redis_server(tmp_path) as (port, _):
        async with three(tmp_path, f"redis://127.0.0.1:{port}/0") as servers:
            (a, _), (b, _), (c, _) = servers
            # a conversation whose turns go to different replicas
            await say(a, wechat, "oAlt", f"我的居住证{expiry.year}年{expiry.month}月{expiry.day}日过期了")
            card = await say(b, wechat, "oAlt", "上海")
            assert fmt_date(deadline) in card
            assert "还剩 40 天" in card
            assert "本人居民身份证原件" in await say(c, wechat, "oAlt", "材料")

            # one WeChat message delivered three times, once to each replica at the same moment: run once
            before = sum([messages_total((await x.get("/metrics")).text) for x, _ in servers])
            params, body = wechat.post(text_xml("oRetry", "办签注要钱吗", next_msg_id(), wechat.now()))
            responses = await asyncio.gather(*(x.post("/wechat", params=params, content=body) for x, _ in servers))
            replies = {wechat.read(r, params).get("Content") for r in responses}
            after = sum([messages_total((await x.get("/metrics")).text) for x, _ in servers])
            assert len(replies) == 1
            assert None not in replies
            assert after - before == 1

            # 200 users x 10 turns at once, a user's two messages sometimes at the same moment on two replicas
            async def user(n: int) -> bool:
                name = f"oMany{n}"
                for turn in range(5):
                    first, second = servers[(n + turn) % 3][0], servers[(n + turn + 1) % 3][0]
                    if turn == 2:  # the two slots, simultaneously, on two replicas
                        await asyncio.gather(
                            say(first, wechat, name, f"我的居住证{expiry.month}月{expiry.day}日过期了"),
                            say(second, wechat, name, "上海"),
                        )
                    else:
                        await say(first, wechat, name, "办签注要带什么")
                        await say(second, wechat, name, "谢谢")
                answer = await say(servers[n % 3][0], wechat, name, "还有几天")
                return "上海" in answer and fmt_date(deadline) in answer

            kept = await asyncio.gather(*(user(n) for n in range(200)))
            assert sum(kept) == 200
    for n in range(3):
        assert "Traceback" not in text_of(tmp_path / f"serve-{n}.log")


async def test_a_replica_killed_mid_conversation_loses_nothing(tmp_path: Path) -> None:
    wechat = WeChat(SystemClock())
    expiry = today_in_china() - timedelta(days=20)
    with redis_server(tmp_path) as (port, _):
        async with three(tmp_path, f"redis://127.0.0.1:{port}/0") as servers:
            (a, _), (b, victim), (c, _) = servers
            await say(b, wechat, "oKill", f"我的居住证{expiry.year}年{expiry.month}月{expiry.day}日过期了")
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait(30)
            assert "还剩 40 天" in await say(c, wechat, "oKill", "上海")
            assert (await a.get("/healthz")).status_code == 200


async def test_redis_away_for_a_while_then_back(tmp_path: Path) -> None:
    """/healthz says 503 and users get the short apology in time, with no traceback; service comes back by
    itself when Redis does, and with AOF on nothing acknowledged is lost across a Redis crash."""
    wechat = WeChat(SystemClock())
    expiry = today_in_china() - timedelta(days=20)
    aof = ("--appendonly", "yes", "--appendfsync", "always")  # `everysec` in production: at most a second at risk
    port = free_port()
    log = tmp_path / "serve.log"
    with redis_server(tmp_path, *aof, port=port) as (_, redis):
        async with replica(f"redis://127.0.0.1:{port}/0", log) as (client, _):
            await say(client, wechat, "oAway", f"我的居住证{expiry.year}年{expiry.month}月{expiry.day}日过期了")
            redis.send_signal(signal.SIGKILL)  # a crash: only the append-only file keeps what was acknowledged
            redis.wait(30)
            assert (await client.get("/healthz")).status_code == 503
            started = time.monotonic()
            reply = await say(client, wechat, "oAway", "上海")
            assert time.monotonic() - started < 5  # WeChat gives up after 5 s
            assert "抱歉" in reply
            with redis_server(tmp_path, *aof, port=port):
                for _ in range(200):
                    if (await client.get("/healthz")).status_code == 200:
                        break
                    await asyncio.sleep(0.1)
                assert (await client.get("/healthz")).status_code == 200
                card = await say(client, wechat, "oAway", "上海")  # the date said before the crash is still there
                assert "还剩 40 天" in card
    assert "Traceback" not in text_of(log)


async def test_each_due_reminder_is_sent_once_by_three_replicas(tmp_path: Path) -> None:
    """Telegram in webhook mode scales out: every replica runs the reminder loop, and each due reminder is
    claimed, and so sent, by exactly one of them."""
    api = FakeBotApi()
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    with redis_server(tmp_path) as (port, _):
        url = f"redis://127.0.0.1:{port}/0"
        store = await RedisStore.open(url, SystemClock())
        try:
            for n in range(30):  # due a minute ago: sent at the loops' next look
                due = now - timedelta(minutes=1)
                await store.add_reminders(f"telegram:k{n}", "telegram", str(1000 + n), [(due, f"提醒 {n}")])
        finally:
            await store.close()
        async with serving(fake_api_app(api)) as base:
            telegram = {
                "TELEGRAM_BOT_TOKEN": FAKE_TOKEN,
                "TELEGRAM_WEBHOOK_SECRET": "replica-secret",
                "TELEGRAM_API_BASE_URL": f"{base}/bot",
            }
            async with AsyncExitStack() as stack:
                await asyncio.gather(
                    *(stack.enter_async_context(replica(url, tmp_path / f"tg-{n}.log", **telegram)) for n in range(3))
                )
                for _ in range(300):
                    if len(api.called("sendMessage")) >= 30:
                        break
                    await asyncio.sleep(0.1)
                await asyncio.sleep(6)  # another look by every loop (every 5 s): nothing more goes out
    sent = sorted(str(params["text"]) for params in api.called("sendMessage"))
    assert sent == sorted(f"提醒 {n}" for n in range(30))

"""Two real `qianzhu serve` processes on one SQLite file: a user's two messages, one to each at the same moment,
both stay in the conversation (issue 10, item 8)."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.core.clock import SystemClock
from bot.core.keys import conversation_key
from bot.core.session import Session
from tests.servers import free_port
from tests.sqlite_kit import raw
from tests.wechat_kit import TOKEN, WeChat, next_msg_id, text_xml

ROOT = Path(__file__).resolve().parent.parent
SALT = "two-processes-salt"
USERS = 100
FOREIGN = ("WECHAT_AES_KEY", "WECHAT_AES_KEY_PREVIOUS", "WECHAT_APPID", "WECHAT_APPSECRET", "TELEGRAM_BOT_TOKEN")


@contextmanager
def serve(db: Path, log: Path) -> Iterator[http.client.HTTPConnection]:
    """`python -m bot serve` on a free port of 127.0.0.1 (plaintext WeChat, stderr in `log`), and a kept-alive
    connection to it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN and not k.startswith("QIANZHU_")}
    env |= {"QIANZHU_DB": str(db), "WECHAT_TOKEN": TOKEN, "QIANZHU_KEY_SALT": SALT}
    command = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as errors:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        for _ in range(1200):  # a generous bound for start-up: liveness, not speed
            assert process.poll() is None, log.read_text(encoding="utf-8")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=30)) as connection:
            yield connection
    finally:
        process.terminate()
        process.wait(60)


def today_in_china() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


@pytest.mark.slow
def test_two_processes_on_one_file_keep_both_messages_of_every_user(tmp_path: Path) -> None:
    """100 users each send their date to process A and their city to process B at the same moment (both requests
    written before either answer is read); then a third message from each gets the answer that needs both, and
    the file holds both for every user. Each user has another date, so no turn is read from a cache."""
    db, wechat = tmp_path / "shared.db", WeChat(SystemClock())
    expiries = {f"oTwoProcesses{n:03d}": today_in_china() - timedelta(days=5 + n) for n in range(USERS)}

    def send(connection: http.client.HTTPConnection, user: str, text: str) -> dict[str, str]:
        params, body = wechat.post(text_xml(user, text, next_msg_id(), wechat.now()))
        connection.request("POST", "/wechat?" + urlencode(params), body)
        return params

    def answer(connection: http.client.HTTPConnection, params: dict[str, str]) -> str:
        with connection.getresponse() as response:
            reply = httpx.Response(response.status, content=response.read())
        return wechat.read(reply, params)["Content"]

    with ExitStack() as stack:
        a = stack.enter_context(serve(db, tmp_path / "a.log"))
        b = stack.enter_context(serve(db, tmp_path / "b.log"))
        for user, expiry in expiries.items():
            to_a = send(a, user, f"我的居住证{expiry.year}年{expiry.month}月{expiry.day}号过期了")
            to_b = send(b, user, "上海")
            answer(a, to_a)
            answer(b, to_b)
        answers = [
            answer(to, send(to, user, "签注过期了怎么办"))
            for to, user in zip([a, b] * (USERS // 2), expiries, strict=True)
        ]
    lost = [user for user, text in zip(expiries, answers, strict=True) if "上海｜" not in text]
    assert lost == [], f"{len(lost)} of {USERS} users lost a field"
    with raw(db) as conn:
        query = "SELECT body FROM documents WHERE key = ?"
        stored = [
            Session.from_json(conn.execute(query, (conversation_key("wechat", u, SALT),)).fetchone()[0])
            for u in expiries
        ]
    assert [(s.city, s.expiry) for s in stored] == [("上海", expiry) for expiry in expiries.values()]

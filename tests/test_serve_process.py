"""`qianzhu serve` as a real process: idle connections under a 1,024-descriptor limit, a clean stop on SIGTERM and
SIGINT under load, logs that stay small under a flood of forged requests, and JSON log lines."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.core.clock import SystemClock
from bot.core.keys import conversation_key
from bot.store.sqlite import SqliteStore
from tests.servers import free_port
from tests.wechat_kit import TOKEN, WeChat, metric, next_msg_id, text_xml

ROOT = Path(__file__).resolve().parent.parent
SALT = "process-test-salt"
FOREIGN = ("WECHAT_AES_KEY", "WECHAT_AES_KEY_PREVIOUS", "WECHAT_APPID", "WECHAT_APPSECRET", "TELEGRAM_BOT_TOKEN")


def serve_env(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN and not k.startswith("QIANZHU_")}
    return env | {"QIANZHU_DB": str(db), "WECHAT_TOKEN": TOKEN, "QIANZHU_KEY_SALT": SALT} | extra


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Sends `signum` and waits for the exit (a generous bound: liveness, not speed)."""
        self.process.send_signal(signum)
        return self.process.wait(60)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8")


@contextmanager
def served(env: dict[str, str], log: Path, *args: str, descriptors: int | None = None) -> Iterator[Served]:
    """`python -m bot serve` on a free port, its stderr in `log`; with `descriptors`, under `ulimit -n`."""
    port = free_port()
    command = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port), *args]
    if descriptors is not None:
        command = ["bash", "-c", f'ulimit -n {descriptors}; exec "$@"', "bash", *command]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    served = Served(process, f"http://127.0.0.1:{port}", log)
    try:
        with httpx.Client(timeout=5) as client:
            for _ in range(1200):
                assert process.poll() is None, served.text()
                try:
                    client.get(f"{served.base}/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(60)


@contextmanager
def descriptors_for_the_test(needed: int) -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if max(soft, hard) < needed:
        pytest.skip(f"needs {needed} descriptors, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def ask(client: httpx.Client, wechat: WeChat, openid: str, text: str) -> str:
    params, body = wechat.post(text_xml(openid, text, next_msg_id(), wechat.now()))
    return wechat.read(client.post("/wechat", params=params, content=body), params).get("Content", "")


@pytest.mark.slow
def test_idle_connections_leave_room_for_real_requests_and_shutdown_does_not_wait(tmp_path: Path) -> None:
    """1,100 connections that send nothing, against `ulimit -n 1024`: real requests are still answered. Then a
    request that never finishes its body does not keep SIGTERM from ending the process with 0."""
    metrics_port = free_port()
    env = serve_env(tmp_path / "idle.db", QIANZHU_METRICS_TOKEN="idle-metrics-token", QIANZHU_LOG_LEVEL="INFO")
    options = ("--metrics-port", str(metrics_port))
    wechat = WeChat(SystemClock())
    with (
        descriptors_for_the_test(1400),
        served(env, tmp_path / "idle.log", *options, descriptors=1024) as server,
        httpx.Client(base_url=server.base, timeout=30) as client,
    ):
        idle = [socket.create_connection(("127.0.0.1", int(server.base.rsplit(":", 1)[1]))) for _ in range(1100)]
        try:
            answers = [ask(client, wechat, f"oIdle{k}", "办签注要交钱吗") for k in range(5)]
            private = f"http://127.0.0.1:{metrics_port}/metrics"
            assert client.get("/metrics").status_code == 404  # not on the public port
            assert client.get(private).status_code == 401
            metrics = client.get(private, headers={"Authorization": "Bearer idle-metrics-token"}).text
        finally:
            for sock in idle:
                sock.close()
        half = socket.create_connection(("127.0.0.1", int(server.base.rsplit(":", 1)[1])))
        params, _ = wechat.post(text_xml("oHalf", "你好", next_msg_id(), wechat.now()))
        query = "&".join(f"{k}={v}" for k, v in params.items())
        half.sendall(f"POST /wechat?{query} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n<xml>".encode())
        time.sleep(0.2)
        code = server.stop(signal.SIGTERM)
        half.close()
    assert all("不收费" in answer for answer in answers), answers
    assert metric(metrics, "process_max_fds") == 1024
    assert metric(metrics, 'qianzhu_http_connections_closed_total{reason="evicted"}') > 0
    assert code == 0, server.text()


def acknowledged_under_load(server: Served, signum: int, users: int = 400) -> list[str]:
    """Sends one message per user from 16 threads and the signal after the 60th answer; the openids whose
    message got its answer (the others were refused or cut off by the shutdown)."""
    wechat, answered, lock = WeChat(SystemClock()), [], threading.Lock()
    expiry = "我在上海，居住证10月20号过期了"

    def user(n: int) -> None:
        openid = f"oTerm{n}"
        try:
            with httpx.Client(base_url=server.base, timeout=30) as client:
                reply = ask(client, wechat, openid, expiry)
        except (httpx.TransportError, AssertionError):  # refused or cut off while stopping
            return
        if reply:
            with lock:
                answered.append(openid)
                if len(answered) == 60:
                    server.process.send_signal(signum)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(user, range(users)))
    return answered


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_under_load_exits_0_and_the_db_file_alone_holds_every_answered_conversation(
    tmp_path: Path, signum: int
) -> None:
    db = tmp_path / "live" / "qianzhu.db"
    db.parent.mkdir()
    with served(serve_env(db, QIANZHU_LOG_LEVEL="INFO"), tmp_path / "term.log") as server:
        answered = acknowledged_under_load(server, signum)
        code = server.process.wait(60)
    assert code == 0, server.text()
    assert len(answered) >= 60
    assert "Traceback" not in server.text()
    backup = tmp_path / "backup" / "qianzhu.db"
    backup.parent.mkdir()
    shutil.copyfile(db, backup)  # the .db alone, as a backup or `mv` would take it, without -wal and -shm
    missing = asyncio.run(missing_from(backup, answered))
    assert missing == [], f"{len(missing)} of {len(answered)} answered conversations are not in the .db alone"


async def missing_from(db: Path, openids: list[str]) -> list[str]:
    store = await SqliteStore.open(db, SystemClock())
    try:
        documents = {o: await store.load(conversation_key("wechat", o, SALT)) for o in openids}
    finally:
        await store.close()
    return [o for o, document in documents.items() if document is None or "上海" not in str(json.loads(document))]


@pytest.mark.slow
def test_forged_requests_leave_a_few_json_lines_and_a_count(tmp_path: Path) -> None:
    """2,000 requests with a bad signature: five warning lines and, at exit, how many were held back. The log is
    JSON lines with request ids; the salt is not set, which the start-up warns about."""
    env = serve_env(tmp_path / "flood.db", QIANZHU_LOG_FORMAT="json")
    del env["QIANZHU_KEY_SALT"]
    wechat = WeChat(SystemClock())
    with served(env, tmp_path / "flood.log") as server:
        with httpx.Client(base_url=server.base, timeout=30) as client:
            for _ in range(2000):
                params, body = wechat.post(text_xml("oForged", "你好", next_msg_id(), wechat.now()))
                forged = client.post("/wechat", params=params | {"signature": "0" * 40}, content=body)
                assert forged.status_code == 403
        code = server.stop(signal.SIGTERM)
    assert code == 0
    lines = [json.loads(line) for line in server.text().splitlines()]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    wechat_lines = [line for line in lines if line["logger"] == "bot.channels.wechat.app"]
    rejections = [line for line in wechat_lines if "403" in line["message"] and "suppressed" not in line["message"]]
    assert len(rejections) == 5
    assert all(line["level"] == "WARNING" and "request_id" in line for line in rejections)
    assert len({line["request_id"] for line in rejections}) == 5
    [summary] = [line for line in lines if "similar messages suppressed" in line["message"]]
    assert summary["message"].startswith("1995 similar messages suppressed in the last ")
    assert any("QIANZHU_KEY_SALT is not set" in line["message"] for line in lines)
    assert len(server.text()) < 10_000

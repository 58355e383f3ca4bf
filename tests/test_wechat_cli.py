"""`qianzhu wechat menu push` against the fake API, and `qianzhu serve` with WeChat as a real process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bot.catalog.loader import default_content_dir
from bot.channels.wechat.menu import load_menu
from bot.cli.wechat_cmd import push_menu
from bot.core.clock import SystemClock
from bot.settings import Settings
from tests.fake_wechat_api import fake_wechat_api
from tests.servers import free_port
from tests.wechat_kit import APPID, SECRET, TOKEN, WeChat, metric, next_msg_id, text_xml

ROOT = Path(__file__).resolve().parent.parent


def menu_settings(base: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "db": "memory:",
        "wechat_appid": APPID,
        "wechat_appsecret": SecretStr(SECRET),
        "wechat_api_base_url": base,
    }
    return Settings(**(values | overrides))  # type: ignore[arg-type]


async def test_menu_push_sends_the_validated_menu(capsys: pytest.CaptureFixture[str]) -> None:
    async with fake_wechat_api() as (fake, base):
        assert await push_menu(menu_settings(base)) == 0
        fake.expire()  # a stale token is renewed and the call made again
        assert await push_menu(menu_settings(base)) == 0
    assert fake.menus == [load_menu().payload()] * 2
    assert "算截止日".encode() in fake.raw_bodies[0]  # UTF-8 on the wire, not \\u escapes
    assert "menu created" in capsys.readouterr().out


async def test_menu_push_stops_before_sending_a_bad_menu(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("wechat.yaml", "menu.yaml"):
        shutil.copy(default_content_dir() / name, tmp_path / name)
    menu = tmp_path / "menu.yaml"
    menu.write_text(
        menu.read_text(encoding="utf-8").replace("name: 常见问题", "name: 办签注常见问题"), encoding="utf-8"
    )
    async with fake_wechat_api() as (fake, base):
        assert await push_menu(menu_settings(base, content_dir=tmp_path)) == 2
    assert fake.menus == []
    assert fake.token_fetches == 0
    assert "menu.yaml: field button" in capsys.readouterr().err


async def test_menu_push_reports_a_refusal_and_missing_settings(capsys: pytest.CaptureFixture[str]) -> None:
    async with fake_wechat_api() as (fake, base):
        fake.refuse_menu = {"errcode": 40018, "errmsg": "invalid button name size"}
        assert await push_menu(menu_settings(base)) == 1
        assert await push_menu(menu_settings(base, wechat_appsecret=None)) == 4
    err = capsys.readouterr().err
    assert "errcode 40018" in err
    assert "WECHAT_APPSECRET" in err
    assert SECRET not in err


@pytest.mark.slow
def test_serve_answers_wechat_as_a_real_process(tmp_path: Path) -> None:
    """`python -m bot serve` with WECHAT_TOKEN: verification, a message delivered three times, /metrics."""
    port = free_port()
    env = {**os.environ, "QIANZHU_DB": str(tmp_path / "serve.db"), "WECHAT_TOKEN": TOKEN, "QIANZHU_LOG_LEVEL": "INFO"}
    for name in ("WECHAT_AES_KEY", "WECHAT_APPID", "WECHAT_APPSECRET", "TELEGRAM_BOT_TOKEN", "QIANZHU_CONTENT"):
        env.pop(name, None)
    command = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wechat = WeChat(SystemClock())
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for _ in range(600):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    assert server.poll() is None, "the server exited early"
                    time.sleep(0.05)
            verify = client.get("/wechat", params=wechat.signed() | {"echostr": "hello-wechat"})
            assert verify.text == "hello-wechat"
            xml = text_xml("oUser-process-1", "办签注要交钱吗", next_msg_id(), wechat.now())
            replies = []
            for _ in range(3):
                params, body = wechat.post(xml)
                replies.append(wechat.read(client.post("/wechat", params=params, content=body), params))
            metrics = client.get("/metrics").text
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert len({r["Content"] for r in replies}) == 1
    assert "不收费" in replies[0]["Content"]
    assert metric(metrics, 'qianzhu_messages_total{channel="wechat",intent="faq.fee"}') == 1
    assert metric(metrics, 'qianzhu_duplicate_deliveries_total{channel="wechat"}') == 2
    assert b"oUser-process-1" not in stderr
    assert TOKEN.encode() not in stderr

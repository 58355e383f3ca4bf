"""The test clock: QIANZHU_TODAY (with QIANZHU_TESTING=1) makes `qianzhu serve` compute with that date; without
the flag, or with a wrong date, start-up fails with the configuration exit code."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from bot import exits
from bot.core.clock import FixedClock, SystemClock, TestClock
from bot.settings import Settings
from tests.test_serve_process import ROOT, serve_env, served
from tests.wechat_kit import WeChat, next_msg_id, text_xml


def test_settings_read_the_test_clock_only_with_the_testing_flag() -> None:
    settings = Settings.from_env({"QIANZHU_TODAY": "2026-10-10", "QIANZHU_TESTING": "1"})
    assert settings.today == date(2026, 10, 10)
    assert settings.testing
    assert Settings.from_env({}).today is None
    with pytest.raises(ValueError, match="QIANZHU_TESTING=1"):
        Settings.from_env({"QIANZHU_TODAY": "2026-10-10"})
    with pytest.raises(ValueError, match="QIANZHU_TESTING=1"):
        Settings.from_env({"QIANZHU_TODAY": "2026-10-10", "QIANZHU_TESTING": "0"})


@pytest.mark.parametrize("raw", ["2026-13-01", "2026-02-30", "10/10/2026", "20261010", "tomorrow", "2026-10-10T08:00"])
def test_settings_refuse_a_test_date_that_is_not_a_day(raw: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        Settings.from_env({"QIANZHU_TODAY": raw, "QIANZHU_TESTING": "1"})


def test_the_test_clock_starts_on_its_date_and_moves_on_with_the_real_days() -> None:
    real = FixedClock.on(date(2026, 12, 2), hour=23)
    clock = TestClock(date(2026, 10, 10), real)
    assert clock.today() == date(2026, 10, 10)
    assert clock.now() == real.now()  # the time itself stays real (signatures' timestamps, expiry)
    real.current += timedelta(hours=2)  # past midnight in Asia/Shanghai
    assert clock.today() == date(2026, 10, 11)


def qianzhu_serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot", "serve", "--port", "0"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_serve_refuses_the_test_clock_without_the_testing_flag(tmp_path: Path) -> None:
    result = qianzhu_serve(serve_env(tmp_path / "q.db", QIANZHU_TODAY="2026-10-10"))
    assert result.returncode == exits.CONFIG
    assert "QIANZHU_TODAY" in result.stderr
    assert "QIANZHU_TESTING=1" in result.stderr


def test_serve_refuses_a_wrong_test_date(tmp_path: Path) -> None:
    result = qianzhu_serve(serve_env(tmp_path / "q.db", QIANZHU_TODAY="2026-02-30", QIANZHU_TESTING="1"))
    assert result.returncode == exits.CONFIG
    assert "YYYY-MM-DD" in result.stderr


def test_serve_with_the_test_clock_answers_wechat_from_that_date(tmp_path: Path) -> None:
    env = serve_env(tmp_path / "q.db", QIANZHU_TODAY="2026-10-10", QIANZHU_TESTING="1")
    wechat = WeChat(SystemClock())  # real timestamps: the test clock changes the date, not the time
    with served(env, tmp_path / "serve.log") as server, httpx.Client(base_url=server.base, timeout=30) as client:
        params, body = wechat.post(
            text_xml("oTestClock", "我在上海，签注2026年10月20日到期", next_msg_id(), wechat.now())
        )
        reply = wechat.read(client.post("/wechat", params=params, content=body), params).get("Content", "")
        assert server.stop() == 0
    assert "还剩 10 天" in reply, reply  # 10 October to 20 October, whatever the real date
    assert "WARNING" in server.text()
    assert "test clock on" in server.text()

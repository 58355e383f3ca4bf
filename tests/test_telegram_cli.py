"""`qianzhu telegram` against a fake Bot API on 127.0.0.1, reached through TELEGRAM_API_BASE_URL."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.channels.telegram.app import RedactToken, guard_logs
from bot.channels.telegram.reminders import reminder_items
from bot.channels.telegram.texts import load_texts
from bot.cli.telegram_cmd import run_polling, set_webhook
from bot.core.clock import SHANGHAI, FixedClock
from bot.core.engine import Engine
from bot.core.messages import Message
from bot.settings import Settings
from bot.store.memory import MemoryStore
from bot.store.sqlite import SqliteStore
from tests.fake_telegram import TOKEN, FakeBotApi, button, fake_api_app, message
from tests.servers import serving
from tests.telegram_harness import telegram_runtime

TEXTS = load_texts()


async def until(condition: Callable[[], object], what: str, seconds: float = 60) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def expected_reminders(engine: Engine) -> int | None:
    """How many reminders the bot, on today's Beijing date, would set after this conversation; None when it
    offers none."""
    now = datetime.now(SHANGHAI)
    clock = FixedClock(now)
    store = MemoryStore(clock)
    local = engine.with_store(store, clock)
    await local.handle(Message("telegram", "1", "我的居住证10月20号过期了"))
    turn = await local.handle_turn(Message("telegram", "1", "上海"))
    await store.close()
    verdict = turn.verdict
    assert verdict is not None
    if verdict.deadline is None or verdict.deadline <= now.date():
        return None
    return len(reminder_items(verdict.deadline, "", now, TEXTS.reminders))


@pytest.mark.slow
async def test_polling_holds_a_whole_conversation_and_stops_cleanly(
    tmp_path: Path, shared_engine_parts: Engine
) -> None:
    api, db = FakeBotApi(), tmp_path / "bot.db"
    expected = await expected_reminders(shared_engine_parts)
    async with serving(fake_api_app(api)) as base:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": f"{base}/bot"}
        env["QIANZHU_LOG_LEVEL"] = "INFO"
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "telegram", "--db", str(db), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await until(lambda: api.called("deleteWebhook"), "polling to start")
            assert [m for m, _ in api.calls[:2]] == ["getMe", "setMyCommands"]

            api.push(message("/start"))
            await until(lambda: len(api.sent()) == 1, "the welcome")
            assert api.sent()[0].startswith("您好，我是签注助手")

            api.push(message("我的居住证10月20号过期了"))
            await until(lambda: len(api.sent()) == 2, "the question about the city")
            assert ("上海", "c:上海") in api.buttons()

            api.push(button("c:上海"))
            await until(lambda: len(api.sent()) == 3, "the verdict")
            assert api.called("answerCallbackQuery")
            assert api.sent()[2].startswith("⏳ 上海｜")
            offered = [data for _, data in api.buttons() if data.startswith("r:")]
            assert bool(offered) == (expected is not None)
            if offered:
                api.push(button(offered[0]))
                await until(lambda: len(api.sent()) == 4, "the reminder confirmation")
                confirmation = TEXTS.reminders.too_late if expected == 0 else "上午9点（北京时间）提醒您"
                assert confirmation in api.sent()[3]

            count = len(api.sent())
            api.push(message("办签注要交钱吗"))
            await until(lambda: len(api.sent()) == count + 1, "the FAQ answer")
            assert "费" in api.sent()[-1]
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    assert TOKEN not in stdout.decode() + stderr.decode()
    store = await SqliteStore.open(db, FixedClock.on(datetime.now(SHANGHAI).date()))
    assert len(await store.reminders_for(shared_engine_parts.key("telegram", "42"))) == (expected or 0)
    await store.close()


@pytest.mark.slow
async def test_at_debug_the_log_holds_no_chat_id_and_no_reply_text(tmp_path: Path) -> None:
    """python-telegram-bot logs every Bot API call with its parameters at DEBUG; those lines stay out."""
    api, user = FakeBotApi(), {"id": 918273645, "is_bot": False, "first_name": "王五"}
    async with serving(fake_api_app(api)) as base:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QIANZHU_")}
        env |= {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": f"{base}/bot", "QIANZHU_LOG_LEVEL": "DEBUG"}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "telegram", "--db", str(tmp_path / "debug.db"), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await until(lambda: api.called("deleteWebhook"), "polling to start")
            api.push(message("我的居住证10月20号过期了", user))
            await until(lambda: len(api.sent()) == 1, "the question about the city")
            api.push(button("c:上海", user))
            await until(lambda: len(api.sent()) == 2, "the verdict")
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    log = stdout.decode() + stderr.decode()
    assert process.returncode == 0, log
    assert "DEBUG" in log  # the level is on: our own debug lines and the libraries' INFO ones are there
    assert "918273645" not in log
    assert "王五" not in log
    assert "10月20号" not in log
    for sent in api.sent():
        for line in sent.splitlines():
            assert line.strip() not in log or len(line.strip()) < 6, line
    assert TOKEN not in log
    assert "QIANZHU_KEY_SALT is not set" in log


async def test_set_webhook_registers_the_url_with_the_secret(capsys: pytest.CaptureFixture[str]) -> None:
    api = FakeBotApi()
    async with serving(fake_api_app(api)) as base:
        settings = Settings(
            db="memory:",
            telegram_token=SecretStr(TOKEN),
            telegram_api_base_url=f"{base}/bot",
            telegram_webhook_secret=SecretStr("s3cret"),
        )
        assert await set_webhook(settings, "https://bot.example.org/telegram") == 0
    [params] = api.called("setWebhook")
    assert params["url"] == "https://bot.example.org/telegram"
    assert params["secret_token"] == "s3cret"
    assert params["allowed_updates"] == ["message", "edited_message", "callback_query"]
    assert "https://bot.example.org/telegram" in capsys.readouterr().out


async def test_set_webhook_needs_the_secret_and_reports_refusals(capsys: pytest.CaptureFixture[str]) -> None:
    api = FakeBotApi()
    api.fail("setWebhook", (400, {"ok": False, "error_code": 400, "description": "Bad Request: bad webhook"}))
    async with serving(fake_api_app(api)) as base:
        settings = Settings(db="memory:", telegram_token=SecretStr(TOKEN), telegram_api_base_url=f"{base}/bot")
        assert await set_webhook(settings, "https://bot.example.org/telegram") == 4
        assert TEXTS.cli.missing_secret in capsys.readouterr().err
        with_secret = Settings(**{**settings.__dict__, "telegram_webhook_secret": SecretStr("s")})
        assert await set_webhook(with_secret, "https://bot.example.org/telegram") == 4
    err = capsys.readouterr().err
    assert "Bad webhook" in err
    assert TOKEN not in err


async def test_a_missing_token_is_explained_in_both_languages(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = telegram_runtime(engine, engine.store, telegram_token=None)  # type: ignore[arg-type]
    assert await run_polling(runtime) == 4
    assert await set_webhook(runtime.settings, "https://bot.example.org/telegram") == 4
    err = capsys.readouterr().err
    assert err.count("TELEGRAM_BOT_TOKEN is not set") == 2
    assert "未设置 TELEGRAM_BOT_TOKEN" in err


async def test_a_rejected_token_is_reported_without_the_token(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    async with serving(fake_api_app(FakeBotApi(), token="other:token")) as base:
        runtime = telegram_runtime(engine, engine.store, telegram_api_base_url=f"{base}/bot")  # type: ignore[arg-type]
        assert await run_polling(runtime) == 4
    err = capsys.readouterr().err
    assert "Telegram rejected TELEGRAM_BOT_TOKEN" in err
    assert TOKEN not in err


@pytest.fixture
def clean_logging() -> Iterator[None]:
    """guard_logs changes process-wide logging; put it back for the other tests."""
    level = logging.getLogger("telegram").level
    yield
    logging.getLogger("telegram").setLevel(level)
    for target in [logging.getLogger("httpx"), *logging.getLogger().handlers]:
        for f in [f for f in target.filters if isinstance(f, RedactToken)]:
            target.removeFilter(f)


URL_LINE = "HTTP Request: POST https://api.telegram.org/bot%s/getMe"


@pytest.mark.usefixtures("clean_logging")
def test_bot_api_request_lines_are_dropped_unless_debugging(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    guard_logs(SecretStr(TOKEN), "INFO")
    logging.getLogger("httpx").info(URL_LINE, TOKEN)
    logging.getLogger("httpx").info("HTTP Request: POST https://api.weixin.qq.com/cgi-bin/x")
    assert TOKEN not in caplog.text
    assert "getMe" not in caplog.text
    assert "api.weixin.qq.com" in caplog.text  # other users of httpx keep their lines
    assert logging.getLogger("telegram").getEffectiveLevel() == logging.WARNING


@pytest.mark.usefixtures("clean_logging")
def test_at_debug_the_token_is_redacted_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="httpx")
    caplog.set_level(logging.DEBUG)
    guard_logs(SecretStr(TOKEN), "DEBUG")
    logging.getLogger("httpx").info(URL_LINE, TOKEN)
    logging.getLogger("telegram.ext.Application").info("Bot API URL: https://api.telegram.org/bot%s", TOKEN)
    assert TOKEN not in caplog.text
    assert "bot<token>/getMe" in caplog.text
    assert "bot<token>" in caplog.records[-1].getMessage()


@pytest.mark.usefixtures("clean_logging")
def test_at_debug_python_telegram_bot_logs_from_info_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    guard_logs(SecretStr(TOKEN), "DEBUG")
    logging.getLogger("telegram.ext.ExtBot").debug("Calling Bot API endpoint `sendMessage` with chat_id 918273645")
    logging.getLogger("telegram.ext.Application").info("Application started")
    assert [r.getMessage() for r in caplog.records] == ["Application started"]

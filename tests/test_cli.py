"""The command line, run as a real process: chat, ask, content check and replay."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot import exits
from bot.cli.chat import render
from bot.core.messages import Reply
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"


def qianzhu(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=full_env,
        check=False,
    )


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "chat.db")


def test_chat_reads_piped_stdin_and_exits_zero_at_eof(db: str) -> None:
    result = qianzhu("chat", "--db", db, "--today", "2026-11-26", stdin="我在上海\n10月20号过期了\n")
    assert result.returncode == 0, result.stderr
    assert "可能还在宽限期" in result.stdout
    assert "2026年12月19日" in result.stdout


def test_chat_numbers_pick_quick_replies(db: str) -> None:
    result = qianzhu("chat", "--db", db, "--today", "2026-11-26", stdin="签注过期了怎么办\n10月20日过期了\n2\n")
    assert result.returncode == 0, result.stderr
    assert "  2) 上海" in result.stdout
    assert "上海｜" in result.stdout


def test_chat_lists_choices_once_when_the_text_already_numbers_them() -> None:
    fallback = Reply("没看懂。您是不是想问：\n1. 甲\n2. 乙", ("甲", "乙"))
    assert render([fallback]) == "没看懂。您是不是想问：\n1. 甲\n2. 乙"
    asked = Reply("过期了吗？", ("已过期", "还没过期"))
    assert render([asked]) == "过期了吗？\n  1) 已过期\n  2) 还没过期"


def test_chat_s_fallback_shows_each_suggestion_once(db: str) -> None:
    result = qianzhu("chat", "--db", db, "--today", "2026-11-26", stdin="阿斯顿发生的\n")
    assert result.returncode == 0, result.stderr
    assert "1. " in result.stdout
    assert "  1) " not in result.stdout


def test_chat_conversation_survives_a_restart(db: str) -> None:
    first = qianzhu("chat", "--db", db, "--today", "2026-11-26", stdin="我的居住证10月20号过期了\n")
    assert "哪个城市" in first.stdout
    second = qianzhu("chat", "--db", db, "--today", "2026-11-26", stdin="苏州\n")
    assert "苏州｜" in second.stdout, second.stdout


def test_ask_prints_one_answer() -> None:
    result = qianzhu("ask", "办签注要交钱吗", "--today", "2026-11-26")
    assert result.returncode == 0
    assert "不收费" in result.stdout or "不得收取费用" in result.stdout


def test_content_check_passes_on_the_shipped_content() -> None:
    result = qianzhu("content", "check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("content OK")


def test_content_check_names_file_and_field(tmp_path: Path) -> None:
    broken = tmp_path / "content"
    shutil.copytree(CONTENT, broken)
    rules = broken / "rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("grace_days: {value: 60", "grace_days: {valu: 60"), "utf-8"
    )
    result = qianzhu("content", "check", str(broken))
    assert result.returncode == 1
    assert "rules.yaml" in result.stderr
    assert "cities.上海.grace_days" in result.stderr


def test_a_content_error_stops_start_up_with_a_clear_message(tmp_path: Path) -> None:
    broken = tmp_path / "content"
    shutil.copytree(CONTENT, broken)
    (broken / "prompts.yaml").write_text("prompts: [not, a, mapping]\n", encoding="utf-8")
    result = qianzhu("ask", "你好", env={"QIANZHU_CONTENT": str(broken)})
    assert result.returncode == 2
    assert "prompts.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_corrupt_database_is_reported_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    garbage = b"this is not a database" * 20
    path.write_bytes(garbage)
    result = qianzhu("chat", "--db", str(path), stdin="你好\n")
    assert result.returncode == 3
    assert str(path) in result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_bytes() == garbage


def test_replay_writes_one_json_line_per_input_line(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    lines = [
        {"user": "a", "text": "我在上海，居住证10月20号过期了"},
        {"user": "b", "text": "签注过期了怎么办"},
        {"user": "b", "text": "北京"},
        {"user": "b", "text": "上个月底过期的"},
        {"user": "a", "text": "办签注收费吗"},
    ]
    transcript.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    result = qianzhu("replay", str(transcript), "--today", "2026-11-26")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == len(lines)
    first = out[0]
    assert set(first) == {
        "user",
        "text",
        "reply",
        "intent",
        "slots",
        "case",
        "cases",
        "grace_days",
        "deadline",
        "days_left",
    }
    assert first["slots"] == {"expiry_date": "2026-10-20", "expiry_end": None, "city": "上海"}
    assert (first["case"], first["grace_days"], first["deadline"], first["days_left"]) == (
        "within_grace",
        60,
        "2026-12-19",
        23,
    )
    # 月底 is the 21st to the 31st; in 北京 every day of it leads to the same case
    assert out[3]["slots"] == {"expiry_date": "2026-10-21", "expiry_end": "2026-10-31", "city": "北京"}
    assert out[3]["case"] == "late_endorse"
    assert out[3]["cases"] == ["late_endorse"]
    assert out[4]["intent"] == "faq.fee"
    assert out[4]["case"] == "within_grace"  # the user's state is still reported


def test_replay_reads_stdin_and_reports_bad_lines_in_place() -> None:
    stdin = '{"user": "a", "text": "你好"}\nnot json\n{"user": 1}\n'
    result = qianzhu("replay", "--today", "2026-11-26", stdin=stdin)
    assert result.returncode == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["intent"] for o in out] == ["command.start", "error", "error"]
    assert out[1]["error"].startswith("line 2:")


def test_replay_requires_today() -> None:
    result = qianzhu("replay")
    assert result.returncode == 2
    assert "--today" in result.stderr


def test_chat_stops_quietly_when_the_reader_goes_away(db: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--db", db, "--today", "2026-11-26"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdin is not None
    process.stdout.close()  # like `qianzhu chat | head -1` once head has what it wants
    _, stderr = process.communicate("我在上海，居住证10月20号过期了\n" * 3, timeout=60)
    assert process.returncode == 1
    assert "Traceback" not in stderr


def serve(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`qianzhu serve` on a free port of 127.0.0.1 that is expected to stop at start-up."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("QIANZHU_", "WECHAT_", "TELEGRAM_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=base | {"WECHAT_TOKEN": "exit-code-token"} | env,
        check=False,
    )


@pytest.mark.slow
def test_serve_exit_codes_name_what_went_wrong(tmp_path: Path) -> None:
    broken = tmp_path / "content"
    shutil.copytree(CONTENT, broken)
    (broken / "prompts.yaml").write_text("prompts: [not, a, mapping]\n", encoding="utf-8")
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database" * 20)
    db = str(tmp_path / "fine.db")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        results = {
            exits.CONTENT: serve("--port", port, env={"QIANZHU_CONTENT": str(broken), "QIANZHU_DB": db}),
            exits.STORE: serve("--port", port, env={"QIANZHU_DB": str(corrupt)}),
            exits.CONFIG: serve("--port", port, env={"QIANZHU_LOG_LEVEL": "loud", "QIANZHU_DB": db}),
            exits.CANNOT_LISTEN: serve("--port", port, env={"QIANZHU_DB": db}),
        }
    for code, result in results.items():
        assert result.returncode == code, (code, result.stderr)
        assert "Traceback" not in result.stderr
    assert "prompts.yaml" in results[exits.CONTENT].stderr
    assert str(corrupt) in results[exits.STORE].stderr
    assert "QIANZHU_LOG_LEVEL" in results[exits.CONFIG].stderr
    assert f"cannot listen on 127.0.0.1:{port}" in results[exits.CANNOT_LISTEN].stderr


@pytest.mark.slow
def test_serve_exits_5_when_telegram_cannot_be_reached(tmp_path: Path) -> None:
    token = "123456:unreachable-TOKEN-never-printed"
    env = {
        "QIANZHU_DB": str(tmp_path / "tg.db"),
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_WEBHOOK_SECRET": "exit-code-secret",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",  # the discard port: nothing listens there
    }
    result = serve("--port", str(free_port()), env=env)
    assert result.returncode == exits.TELEGRAM_UNREACHABLE, result.stderr
    assert "Traceback" not in result.stderr
    assert token not in result.stderr


@pytest.mark.slow
def test_a_store_locked_by_another_process_exits_7_to_be_retried(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    assert qianzhu("ask", "你好", "--db", str(db)).returncode == 0  # a store with its tables
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = qianzhu("chat", "--db", str(db), stdin="你好\n")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == exits.STORE_BUSY, result.stderr
    assert "locked" in result.stderr
    assert "Traceback" not in result.stderr

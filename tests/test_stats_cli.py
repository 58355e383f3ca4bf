"""`qianzhu stats` through the real command line, on a SQLite file filled by `qianzhu replay`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import qianzhu

MESSAGES = [  # (user, text, the day it is sent)
    ("a", "股票明天会涨吗", "2026-11-26"),
    ("b", "深圳的房价2026年会涨吗", "2026-11-26"),
    ("c", "上海的房价2027年会涨吗", "2026-11-25"),
    ("d", "居住证签注要带什么材料", "2026-11-26"),
    ("e", "办签注要交钱吗", "2026-11-26"),
    ("f", "给我讲个笑话", "2026-11-10"),  # outside --since 7d on 2026-11-26
]


def replay(db: Path, env: dict[str, str] | None = None) -> None:
    for day in sorted({day for _, _, day in MESSAGES}):
        lines = "".join(
            json.dumps({"user": u, "text": t}, ensure_ascii=False) + "\n" for u, t, d in MESSAGES if d == day
        )
        result = qianzhu("replay", "--db", str(db), "--today", day, stdin=lines, env=env)
        assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stats") / "bot.db"
    replay(path)
    return path


def test_stats_prints_the_unanswered_questions_the_faq_hits_and_the_share_of_fallbacks(db: Path) -> None:
    result = qianzhu("stats", "--db", str(db), "--today", "2026-11-26")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "2026-11-20 至 2026-11-26（7 天" in out
    assert "对话轮数：5" in out
    assert "兜底（没有答上）：3 轮，占 60.0%" in out
    assert "低分的 FAQ 回答：1 轮，占 20.0%" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("  ")]
    assert ["2", "fallback", "-", "-", "[地名]的房价0年会涨吗"] in rows  # two days, two cities, one question
    assert ["1", "fallback", "-", "-", "股票明天会涨吗"] in rows
    assert ["1", "faq.fee", "faq.fee", "2.0", "办签注要交钱吗"] in rows
    assert ["1", "faq.materials_general"] in rows
    assert ["1", "faq.fee"] in rows
    assert "给我讲个笑话" not in out  # 16 days ago
    assert "深圳" not in out
    assert "上海" not in out
    assert "2026年" not in out


def test_stats_as_markdown(db: Path) -> None:
    result = qianzhu("stats", "--db", str(db), "--today", "2026-11-26", "--markdown", "--since", "30d")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("## 签注助手统计：2026-10-28 至 2026-11-26（30 天")
    assert "- 对话轮数：6\n- 兜底（没有答上）：4 轮，占 66.7%\n" in out
    assert "| 次数 | 问题 | 本轮意图 | 最接近的意图 | 得分 |\n|---:|---|---|---|---:|\n" in out
    assert "| 2 | \\[地名\\]的房价0年会涨吗 | fallback | - | - |\n" in out
    assert "| 1 | 办签注要交钱吗 | faq.fee | faq.fee | 2.0 |\n" in out
    assert "| 1 | 给我讲个笑话 | fallback | - | - |\n" in out
    assert "| FAQ | 次数 |\n|---|---:|\n" in out
    assert "| faq.materials\\_general | 1 |\n" in out


def test_stats_on_an_empty_period(db: Path) -> None:
    result = qianzhu("stats", "--db", str(db), "--today", "2026-06-01", "--since", "1d")
    assert result.returncode == 0, result.stderr
    assert "对话轮数：0" in result.stdout
    assert "没有答好的问题：无" in result.stdout


def test_stats_exit_codes(tmp_path: Path, db: Path) -> None:
    missing = qianzhu("stats", "--db", str(tmp_path / "typo.db"))
    assert missing.returncode == 3
    assert "no such store" in missing.stderr
    assert not (tmp_path / "typo.db").exists()  # reading statistics creates nothing
    assert qianzhu("stats", "--db", str(db), "--since", "week").returncode == 2
    assert "7d" in qianzhu("stats", "--db", str(db), "--since", "0d").stderr
    config = qianzhu("stats", "--db", str(db), env={"QIANZHU_RECORD_UNMATCHED": "maybe"})
    assert config.returncode == 4
    assert "QIANZHU_RECORD_UNMATCHED" in config.stderr


def test_the_setting_turns_recording_off_in_the_running_bot(tmp_path: Path) -> None:
    db = tmp_path / "off.db"
    replay(db, env={"QIANZHU_RECORD_UNMATCHED": "0"})
    result = qianzhu("stats", "--db", str(db), "--today", "2026-11-26", "--since", "30d")
    assert result.returncode == 0, result.stderr
    assert "对话轮数：0" in result.stdout

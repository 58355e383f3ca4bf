"""Scenario tests: every transcript under tests/conversations/ is replayed through the real engine.

A transcript says `verdicts: card` when its verdicts are the short card with details on demand, as every channel
shows them; the others were written against the whole verdict in one text (`qianzhu ask --full`), which still
holds every part of it, and are replayed that way."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.clock import FixedClock
from bot.core.engine import Engine
from bot.core.messages import Message
from bot.store.memory import MemoryStore

HERE = Path(__file__).parent / "conversations"
FILES = sorted(HERE.glob("*.yaml"))
SCRIPTS = {path: yaml.safe_load(path.read_text(encoding="utf-8")) for path in FILES}


def check(turn_no: int, expect: dict[str, Any], got: dict[str, Any]) -> list[str]:
    problems = []
    for key, wanted in expect.items():
        if key == "contains":
            problems += [f"turn {turn_no}: reply lacks {w!r}" for w in wanted if w not in got["reply"]]
        elif key == "not_contains":
            problems += [f"turn {turn_no}: reply has {w!r}" for w in wanted if w in got["reply"]]
        elif key == "choices":
            if wanted != got["choices"]:
                problems.append(f"turn {turn_no}: choices {got['choices']} != {wanted}")
        elif str(got.get(key)) != str(wanted):
            problems.append(f"turn {turn_no}: {key} = {got.get(key)!r}, wanted {wanted!r}")
    return problems


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
async def test_conversation(path: Path, shared_engine_parts: Engine, full_engine_parts: Engine) -> None:
    script = SCRIPTS[path]
    clock = FixedClock.on(date.fromisoformat(str(script.get("today", "2026-11-26"))))
    parts = shared_engine_parts if script.get("verdicts") == "card" else full_engine_parts
    engine = parts.with_store(MemoryStore(clock), clock)
    problems: list[str] = []
    for n, step in enumerate(script["turns"], 1):
        turn = await engine.handle_turn(Message("test", script.get("user", "u1"), step["user"]))
        verdict, session = turn.verdict, turn.session
        got = {
            "reply": "\n".join(r.text for r in turn.replies),
            "choices": list(turn.replies[-1].choices) if turn.replies else [],
            "intent": turn.intent,
            "expiry": session.expiry.isoformat() if session.expiry else None,
            "city": session.city,
            "pending": session.pending,
            "case": verdict.case if verdict else None,
            "deadline": verdict.deadline.isoformat() if verdict and verdict.deadline else None,
            "days_left": verdict.days_left if verdict else None,
        }
        problems += check(n, step.get("expect", {}), got)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_there_are_transcripts() -> None:
    assert len(FILES) >= 10

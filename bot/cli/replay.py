"""`qianzhu replay`: a JSON-lines transcript through the engine, one JSON line out per line in."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from bot.core.dialog import Turn
from bot.core.engine import Engine
from bot.core.messages import Message

CHANNEL = "replay"


def record(user: str, text: str, turn: Turn) -> dict[str, Any]:
    """The public, documented output format (see README, "replay")."""
    session, verdict = turn.session, turn.verdict
    return {
        "user": user,
        "text": text,
        "reply": "\n\n".join(r.text for r in turn.replies),
        "intent": turn.intent,
        "slots": {
            "expiry_date": session.expiry.isoformat() if session.expiry else None,
            "expiry_end": session.expiry_end.isoformat() if session.expiry_end else None,
            "city": session.city,
        },
        "case": verdict.case if verdict else None,
        "cases": list(turn.cases),
        "grace_days": verdict.grace_days if verdict else None,
        "deadline": verdict.deadline.isoformat() if verdict and verdict.deadline else None,
        "days_left": verdict.days_left if verdict else None,
    }


def failure(number: int, problem: str) -> dict[str, Any]:
    return {
        "user": None,
        "text": None,
        "reply": None,
        "intent": "error",
        "slots": {"expiry_date": None, "city": None},
        "case": None,
        "cases": [],
        "grace_days": None,
        "deadline": None,
        "days_left": None,
        "error": f"line {number}: {problem}",
    }


def parse(line: str) -> tuple[str, str]:
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    user, text = data.get("user"), data.get("text")
    if not isinstance(user, str) or not isinstance(text, str):
        raise ValueError('expected {"user": "...", "text": "..."} with string values')
    return user, text


async def replay(engine: Engine, lines: Iterable[str], out: TextIO) -> int:
    """Returns 0, or 1 when any line could not be read (that line's output says why)."""
    status = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            user, text = parse(line)
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            print(json.dumps(failure(number, str(exc)), ensure_ascii=False), file=out, flush=True)
            status = 1
            continue
        turn = await engine.handle_turn(Message(CHANNEL, user, text))
        if turn.intent == "error":
            status = 1
        turn_with_state = turn
        if turn.verdict is None and turn.session.expiry and turn.session.city and not turn.session.candidates:
            verdict, _ = engine.dialog.verdict_for(turn.session, engine.clock.today())
            cases = (verdict.case,) if verdict else turn.cases
            turn_with_state = Turn(turn.replies, turn.intent, turn.session, verdict, cases)
        print(json.dumps(record(user, text, turn_with_state), ensure_ascii=False), file=out, flush=True)
    return status

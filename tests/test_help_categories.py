"""Help is a short list of categories and /start offers three first steps; every label is understood."""

from __future__ import annotations

import pytest

from bot.catalog.catalog import Catalog
from bot.core.engine import Engine
from bot.core.messages import Message


async def say(engine: Engine, text: str, user: str = "u-help") -> list[str]:
    turn = await engine.handle_turn(Message("terminal", user, text))
    return [reply.text for reply in turn.replies]


@pytest.mark.parametrize("command", ["帮助", "/help", "菜单", "使用帮助"])
async def test_help_is_the_categories(engine: Engine, command: str) -> None:
    turn = await engine.handle_turn(Message("terminal", "u-help", command))
    assert turn.replies[0].choices == tuple(engine.catalog.prompts.choices["help"])
    assert len(turn.replies[0].text) < 80  # no wall of topics


async def test_start_offers_three_first_steps(engine: Engine) -> None:
    turn = await engine.handle_turn(Message("terminal", "u-start", "/start"))
    assert turn.replies[0].choices == tuple(engine.catalog.prompts.choices["start"])
    assert len(turn.replies[0].choices) == 3


def labels(catalog: Catalog) -> list[str]:
    return list(dict.fromkeys([*catalog.prompts.choices["help"], *catalog.prompts.choices["start"]]))


async def test_every_label_is_understood(engine: Engine) -> None:
    for n, label in enumerate(labels(engine.catalog)):
        turn = await engine.handle_turn(Message("terminal", f"u-label-{n}", label))
        assert turn.intent != "fallback", label


async def test_other_questions_lists_the_topics(engine: Engine) -> None:
    [text] = await say(engine, "其他问题")
    assert "签注是什么" in text
    assert "费用" in text

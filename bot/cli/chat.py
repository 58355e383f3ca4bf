"""`qianzhu chat` and `qianzhu ask`: the terminal channel."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.core.engine import Engine
from bot.core.messages import Message, Reply

CHANNEL = "terminal"


def render(replies: list[Reply]) -> str:
    """Reply texts, with quick-reply choices as numbered options unless the text already lists them so (the
    fallback's suggestions do, for channels without buttons)."""
    blocks = []
    for reply in replies:
        lines = [reply.text]
        shown = reply.text.splitlines()
        if not all(f"{n}. {choice}" in shown for n, choice in enumerate(reply.choices, 1)):
            lines += [f"  {n}) {choice}" for n, choice in enumerate(reply.choices, 1)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def pick(text: str, choices: tuple[str, ...]) -> str:
    """A typed number picks the matching option of the last reply."""
    stripped = text.strip()
    if stripped.isascii() and stripped.isdigit() and len(stripped) <= 3 and 1 <= int(stripped) <= len(choices):
        return choices[int(stripped) - 1]
    return text


async def chat(engine: Engine, user: str, stdin: TextIO, stdout: TextIO, new: bool = False) -> int:
    """The terminal conversation; it goes on with the one stored for `user`, saying so, unless `new` forgets it."""
    if new:
        await engine.forget(CHANNEL, user)
    elif (stored := await engine.stored(CHANNEL, user)) is not None and not stored.empty:
        print(engine.dialog.resumed(stored, engine.clock.today()), file=stdout, flush=True)
    interactive = stdin.isatty()
    if interactive:
        welcome = await engine.handle(Message(CHANNEL, user, "/start"))
        print(render(welcome), file=stdout)
    choices: tuple[str, ...] = ()
    while True:
        if interactive:
            print("\n> ", end="", file=stdout, flush=True)
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            return 0
        replies = await engine.handle(Message(CHANNEL, user, pick(line.rstrip("\n"), choices)))
        choices = replies[-1].choices if replies else ()
        print(render(replies), file=stdout, flush=True)
        if not interactive:
            print(file=stdout)


async def ask(engine: Engine, user: str, text: str) -> int:
    print(render(await engine.handle(Message(CHANNEL, user, text))), file=sys.stdout)
    return 0

"""`qianzhu chat` and `qianzhu ask`: the terminal channel."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from bot import exits
from bot.core.clock import calendar_now
from bot.core.engine import Engine
from bot.core.messages import Message, Reply

CHANNEL = "terminal"


def render(replies: list[Reply], plain_heading: str | None = None) -> str:
    """Reply texts, with quick-reply choices as numbered options unless the text already lists them so (the
    fallback's suggestions do, for channels without buttons)."""
    blocks = []
    for reply in replies:
        lines = [reply.text]
        shown = reply.text.splitlines()
        if reply.more:
            lines.append(reply.more_line(plain_heading))
        elif not all(f"{n}. {choice}" in shown for n, choice in enumerate(reply.choices, 1)):
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


async def ask(engine: Engine, user: str, text: str, ics: Path | None = None, content_dir: Path | None = None) -> int:
    """Prints the answer; with `ics`, also writes its deadline as a calendar file (exit 1 when there is none)."""
    turn = await engine.handle_turn(Message(CHANNEL, user, text))
    print(render(turn.replies, engine.catalog.prompt("more_heading_plain")), file=sys.stdout)
    if ics is None:
        return exits.OK
    from bot.calendar_texts import load_texts
    from bot.cli.ics_cmd import write_ics

    result = write_ics(ics, turn, engine.dialog, load_texts(content_dir), calendar_now(engine.clock))
    print(result.line, file=sys.stdout if result.written else sys.stderr)
    return exits.OK if result.written else exits.FAILED

"""The composition root: reads settings, builds the engine, and runs a command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from bot import __version__, exits, logs
from bot.catalog.loader import default_content_dir, load_catalog
from bot.cli.chat import ask, chat
from bot.cli.replay import replay
from bot.cli.stats_cmd import since_days
from bot.core.clock import Clock, FixedClock, SystemClock, TestClock
from bot.core.errors import ContentError
from bot.runtime import catalog_or_exit, running
from bot.settings import Settings

log = logging.getLogger("bot")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {text!r}") from exc


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="qianzhu", description="签注助手：居住证签注到期、过期怎么办")
    top.add_argument("--version", action="version", version=f"qianzhu {__version__}")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("chat", help="chat in the terminal (reads stdin line by line)")
    p.add_argument("--db", help="SQLite file (default: $QIANZHU_DB or ~/.local/share/qianzhu/qianzhu.db)")
    p.add_argument("--user", default="local", help="conversation id (default: local)")
    p.add_argument("--today", type=_day, help="pretend today is YYYY-MM-DD (Asia/Shanghai)")
    p.add_argument("--new", action="store_true", help="forget the stored conversation of --user and start afresh")

    p = sub.add_parser("ask", help="print one answer and exit")
    p.add_argument("text")
    p.add_argument("--ics", type=Path, metavar="FILE", help="also write the deadline as a calendar file (.ics)")
    p.add_argument("--full", action="store_true", help="the whole verdict in one text, not the short card")
    p.add_argument("--db", help="keep the conversation in this SQLite file (default: nothing is stored)")
    p.add_argument("--user", default="local")
    p.add_argument("--today", type=_day)

    p = sub.add_parser("content", help="content tools")
    content = p.add_subparsers(dest="content_command", required=True)
    check = content.add_parser("check", help="validate content/*.yaml")
    check.add_argument("dir", nargs="?", type=Path, help="content folder (default: the bundled one)")
    report = content.add_parser("report", help="print the rules, their sources and when each was checked (Markdown)")
    report.add_argument("dir", nargs="?", type=Path, help="content folder (default: the bundled one)")
    report.add_argument("--output", type=Path, help="write the table to this file instead of stdout")

    p = sub.add_parser("replay", help="replay a JSON-lines transcript; one JSON line out per line in")
    p.add_argument("file", nargs="?", type=Path, help="transcript file (default: stdin)")
    p.add_argument("--today", type=_day, required=True, help="the date to compute with, YYYY-MM-DD")
    p.add_argument("--db", help="SQLite file (default: in memory, nothing kept)")
    p.add_argument("--full", action="store_true", help="verdicts as the whole text, not the short card")

    p = sub.add_parser("stats", help="what users asked that the content did not answer, FAQ hits, fallbacks")
    p.add_argument("--since", type=since_days, default=7, metavar="Nd", help="the last N days, today included (7d)")
    p.add_argument("--db", help="SQLite file (default: $QIANZHU_DB)")
    p.add_argument("--markdown", action="store_true", help="print Markdown instead of plain text")
    p.add_argument("--today", type=_day, help="pretend today is YYYY-MM-DD (Asia/Shanghai)")

    p = sub.add_parser("telegram", help="run the Telegram bot with long polling (TELEGRAM_BOT_TOKEN)")
    p.add_argument("--db", help="SQLite file (default: $QIANZHU_DB)")
    telegram = p.add_subparsers(dest="telegram_command")
    hook = telegram.add_parser("set-webhook", help="register URL as the webhook, with TELEGRAM_WEBHOOK_SECRET")
    hook.add_argument("url")

    p = sub.add_parser("serve", help="serve the webhooks (/telegram, /wechat), /healthz and /metrics")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--db", help="SQLite file (default: $QIANZHU_DB)")
    p.add_argument("--metrics-port", type=int, help="serve /metrics on this port only, not on --port")
    p.add_argument("--metrics-host", default="127.0.0.1", help="the address for --metrics-port (127.0.0.1)")
    p.add_argument(
        "--reuse-port", action="store_true", help="let several serve processes on this host share --port (SO_REUSEPORT)"
    )

    p = sub.add_parser("wechat", help="WeChat Official Account tools")
    wechat = p.add_subparsers(dest="wechat_command", required=True)
    menu = wechat.add_parser("menu", help="the custom menu")
    menu_commands = menu.add_subparsers(dest="menu_command", required=True)
    menu_commands.add_parser("push", help="validate content/menu.yaml and create the menu")
    return top


def _clock(today: date | None, settings: Settings) -> Clock:
    """`--today` (a clock that stands still) wins; then the test clock (QIANZHU_TODAY); else the real one."""
    if today is not None:
        return FixedClock.on(today)
    if settings.today is not None:
        return TestClock(settings.today)
    return SystemClock()


def content_check(directory: Path | None) -> int:
    """Validates every content file: the catalog and each channel's own texts and menu."""
    from bot.calendar_texts import load_texts as calendar_texts
    from bot.channels.telegram.texts import load_texts as telegram_texts
    from bot.channels.wechat.menu import load_menu
    from bot.channels.wechat.texts import load_texts as wechat_texts

    target = directory or default_content_dir()
    try:
        catalog = load_catalog(target)
        telegram_texts(target)
        wechat_texts(target)
        calendar_texts(target)
        menu = load_menu(target)
    except ContentError as exc:
        print(f"content error: {exc}", file=sys.stderr)
        return 1
    print(
        f"content OK: {target} ({len(catalog.faq)} FAQ entries, {len(catalog.intents.intents)} intents, "
        f"{len(catalog.rules.cities)} city rules, {len(catalog.places.to_places())} places, "
        f"telegram, wechat and calendar texts, a menu of {len(menu.button)} buttons)"
    )
    return 0


def content_report(directory: Path | None, output: Path | None) -> int:
    """The rule table (docs/content-report.md is its generated copy), on stdout or into `output`."""
    from bot.catalog.report import render_report

    try:
        text = render_report(load_catalog(directory or default_content_dir()))
    except ContentError as exc:
        print(f"content error: {exc}", file=sys.stderr)
        return 1
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    return 0


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "content" and args.content_command == "report":
        return content_report(args.dir, args.output)
    if args.command == "content":
        return content_check(args.dir)
    if args.command == "wechat":
        from bot.cli.wechat_cmd import push_menu

        return await push_menu(settings)
    if args.command == "telegram" and args.telegram_command == "set-webhook":
        from bot.cli.telegram_cmd import set_webhook

        return await set_webhook(settings, args.url)
    if args.command == "stats":
        from bot.cli.stats_cmd import stats

        return await stats(
            settings, args.db or settings.db, _clock(args.today, settings), args.since, args.markdown, sys.stdout
        )
    catalog = catalog_or_exit(settings.content_dir)
    clock = _clock(getattr(args, "today", None), settings)
    if args.command == "telegram":
        from bot.cli.telegram_cmd import run_polling

        async with running(settings, catalog, args.db or settings.db, clock) as runtime:
            return await run_polling(runtime)
    if args.command == "serve":
        from bot.cli.serve_cmd import serve, stop_signals

        with stop_signals() as stop:  # from here to the store's close, SIGTERM and SIGINT stop cleanly
            async with running(settings, catalog, args.db or settings.db, clock) as runtime:
                return await serve(
                    runtime, args.host, args.port, stop, args.metrics_port, args.metrics_host, args.reuse_port
                )
    if args.command == "chat":
        async with running(settings, catalog, args.db or settings.db, clock) as runtime:
            return await chat(runtime.engine, args.user, sys.stdin, sys.stdout, new=args.new)
    if args.command == "ask":
        async with running(settings, catalog, args.db or "memory:", clock, args.full) as runtime:
            return await ask(runtime.engine, args.user, args.text, args.ics, settings.content_dir)
    async with running(settings, catalog, args.db or "memory:", clock, args.full) as runtime:
        if args.file is None:
            return await replay(runtime.engine, sys.stdin, sys.stdout)
        with args.file.open(encoding="utf-8") as lines:
            return await replay(runtime.engine, lines, sys.stdout)


def _loop_factory(command: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop for the server, as `uvicorn.run` picks it itself (loop="auto"); the default loop elsewhere."""
    if command != "serve":
        return None
    try:
        import uvloop
    except ImportError:  # uvicorn[standard] brings it; without it the standard loop does the same, slower
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return exits.CONFIG
    logs.configure(settings.log_level, settings.log_format)
    if settings.today is not None:
        log.warning(
            "test clock on (QIANZHU_TODAY=%s, QIANZHU_TESTING=1): dates are computed as if today were %s in "
            "Asia/Shanghai (--today, where given, wins); never run a production bot like this",
            settings.today.isoformat(),
            settings.today.isoformat(),
        )
    try:
        with asyncio.Runner(loop_factory=_loop_factory(args.command)) as runner:
            return runner.run(run(args, settings))
    except KeyboardInterrupt:
        return exits.INTERRUPTED
    except BrokenPipeError:  # the reader went away (`qianzhu chat | head`): stop quietly, no traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return exits.FAILED
    finally:
        logs.flush(everything=True)


if __name__ == "__main__":
    sys.exit(main())

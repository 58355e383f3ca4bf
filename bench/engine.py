"""Engine benchmark: 20,000 messages from 2,000 interleaved users through the full engine on SQLite.

Prints messages per second, p50/p99 latency per message, cold start to the first answer and peak RSS,
next to the same figures for bare jieba (jieba.lcut on the same texts; `import jieba; jieba.initialize()`),
measured in the same run. Run: python bench/engine.py [--users 2000] [--per-user 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

TODAY = date(2026, 11, 26)
OPENERS = [
    "签注过期了怎么办",
    "我的居住证快到期了",
    "你好",
    "居住证过期了咋办",
    "帮我算一下还剩几天",
    "居住證過期了怎麼辦",
]
DATE_FORMS = [
    "{m}月{d}号过期了",
    "{m}月{d}日到期",
    "{y}年{m}月{d}日过期的",
    "{y}-{m:02d}-{d:02d}",
    "{m}月{d}号",
    "居住证{m}月{d}号就过期了",
    "是{m}月{d}日",
    "{y}.{m}.{d}",
]
RELATIVE = [
    "上个月底",
    "下个月15号到期",
    "还有一周到期",
    "去年12月过期了",
    "三天前过期了",
    "上周五过期的",
    "两个月前",
    "明年1月5号到期",
    "下个月底",
    "上上个月3号过期的",
    "还有10天就到期了",
    "昨天过期了",
]
OTHER = ["谢谢", "已过期", "还没过期", "重新开始", "😀", "what", "不知道", "2月30日", "1", "2", "好的"]
ROOT = Path(__file__).resolve().parent.parent
CHUNK = 500


def texts_from_content() -> tuple[list[str], list[str]]:
    """Realistic FAQ questions (the labelled set) and place names (every city, and the 18's districts)."""
    import yaml

    questions = [row["q"] for row in yaml.safe_load((ROOT / "tests/data/intent_questions.yaml").read_text("utf-8"))]
    places = yaml.safe_load((ROOT / "content/places.yaml").read_text("utf-8"))["provinces"]
    names = [c["name"] for p in places for c in p["cities"]]
    names += [d for p in places for c in p["cities"] for d in c.get("districts", [])]
    return questions, names


def a_date(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(RELATIVE)
    y, m, d = rng.choice([2025, 2026, 2027]), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(DATE_FORMS).format(y=y, m=m, d=d)


def conversation(rng: random.Random, length: int, questions: list[str], places: list[str]) -> list[str]:
    city = rng.choice(places)
    texts = [rng.choice(OPENERS), a_date(rng), rng.choice([city, f"我在{city}", f"{city}的"])]
    while len(texts) < length:
        roll = rng.random()
        if roll < 0.45:
            texts.append(rng.choice(questions))
        elif roll < 0.6:
            texts.append(rng.choice(OTHER))
        elif roll < 0.75:
            texts.append(f"不对，{a_date(rng)}")
        elif roll < 0.85:
            texts.append(rng.choice(places))
        else:
            texts.append(f"我在{rng.choice(places)}，居住证{a_date(rng)}")
    return texts[:length]


def workload(users: int, per_user: int, seed: int = 7) -> list[tuple[str, str]]:
    """(user, text) pairs, users interleaved round-robin."""
    rng = random.Random(seed)
    questions, places = texts_from_content()
    chats = [conversation(rng, per_user, questions, places) for _ in range(users)]
    return [(f"user{u}", chats[u][i]) for i in range(per_user) for u in range(users)]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run_engine(messages: list[tuple[str, str]], paired: bool = False) -> dict[str, float]:
    """The full engine on a SQLite file. Paired: after each chunk, bare jieba.lcut on the same texts, so
    both sides see the same machine (its speed drifts by a factor of two over a minute here)."""
    from bot.catalog.loader import load_catalog
    from bot.core.clock import SystemClock
    from bot.core.engine import Engine
    from bot.core.messages import Message
    from bot.store.sqlite import SqliteStore

    if paired:
        import jieba

        jieba.initialize()
    clock = SystemClock()
    latencies: list[float] = []
    errors = 0
    bare = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        store = await SqliteStore.open(Path(tmp) / "bench.db", clock)
        engine = Engine(load_catalog(), store, clock)
        for start in range(0, len(messages), CHUNK):
            chunk = messages[start : start + CHUNK]
            for user, text in chunk:
                t0 = time.perf_counter()
                turn = await engine.handle_turn(Message("bench", user, text))
                latencies.append(time.perf_counter() - t0)
                errors += turn.intent == "error"
            if paired:
                t0 = time.perf_counter()
                for _, text in chunk:
                    jieba.lcut(text)
                bare += time.perf_counter() - t0
        await store.close()
    busy = sum(latencies)
    latencies.sort()
    return {
        "messages": len(messages),
        "msg_per_s": len(messages) / busy,
        "bare_msg_per_s": len(messages) / bare if paired else 0.0,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "errors": errors,
        "peak_rss_mb": peak_rss_mb(),
    }


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def child(kind: str, users: int, per_user: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, "--users", str(users), "--per-user", str(per_user)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--worker", choices=["engine", "paired"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    messages = workload(args.users, args.per_user)
    if args.worker:
        print(json.dumps(asyncio.run(run_engine(messages, paired=args.worker == "paired"))))
        return

    engine = child("engine", args.users, args.per_user)  # alone: its own peak RSS
    paired = child("paired", args.users, args.per_user)
    bin_dir = Path(sys.executable).parent
    ask = [str(bin_dir / "qianzhu"), "ask", "我在上海，居住证10月20号过期了", "--today", TODAY.isoformat()]
    jieba_init = [sys.executable, "-c", "import jieba; jieba.initialize()"]
    wall(ask), wall(jieba_init)  # warm the file caches (jieba's own cache file included)
    colds = [(wall(ask), wall(jieba_init)) for _ in range(7)]
    cold_engine = statistics.median(c[0] for c in colds)
    cold_jieba = statistics.median(c[1] for c in colds)

    distinct = len({text for _, text in messages})
    ratio = paired["msg_per_s"] / paired["bare_msg_per_s"]
    print(
        f"workload: {engine['messages']:.0f} messages ({distinct} distinct texts), {args.users} users "
        "interleaved, SQLite file store"
    )
    print(f"engine throughput:     {engine['msg_per_s']:8.0f} msg/s   (errors: {engine['errors']:.0f})")
    print(f"paired run, in chunks of {CHUNK} messages, same texts:")
    print(f"  engine:              {paired['msg_per_s']:8.0f} msg/s")
    print(f"  bare jieba.lcut:     {paired['bare_msg_per_s']:8.0f} msg/s")
    print(f"  engine / bare jieba: {ratio:8.1%}   (target >= 25%)")
    print(f"latency per message:   p50 {engine['p50_ms']:.3f} ms, p99 {engine['p99_ms']:.3f} ms")
    print(f"cold start, qianzhu ask to first answer: {cold_engine:.2f} s (median of 7)")
    print(f"cold start, bare jieba initialise:       {cold_jieba:.2f} s (median of 7)")
    print(f"cold start ratio:      {cold_engine / cold_jieba:8.2f}x   (target <= 1.5x)")
    print(f"peak RSS, engine run:  {engine['peak_rss_mb']:8.1f} MB   (target < 150 MB)")


if __name__ == "__main__":
    main()

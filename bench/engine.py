"""Engine benchmark: 20,000 messages from 2,000 interleaved users through the full engine on SQLite.

Two loads, both reported by default, each with its share of distinct texts:
- repetitive: messages from small template lists (about a third of the texts distinct), which the engine's
  whole-text cache (the lru_cache on Understanding.read) mostly answers;
- free: typed messages composed from varied parts (openers and questions, cities and districts, absolute,
  relative, month-only and vague dates, tense words, filler, punctuation, emoji, typos), mostly distinct.
For each load: messages per second, p50/p99 latency per message and peak RSS, next to bare jieba.lcut on the
same texts, measured in the same run; then cold start to the first answer against `import jieba;
jieba.initialize()`. Run: python bench/engine.py [--load both|repetitive|free] [--users 2000] [--per-user 10]
[--seed 7]
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


# --- the free-text load: typed messages, composed from parts, that rarely repeat ---------------------


def parts(words: str) -> list[str]:
    """A word list written as one "|"-separated string (some items are empty or end in a space)."""
    return words.split("|")


SUBJECTS = parts("居住证|我的居住证|签注|我的签注|居住证签注|居住證|簽注|暂住证|老婆的居住证|我妈的居住证")
STATES = parts("过期了|快到期了|马上要过期了|已经逾期了|失效了|到期了|忘记签注了|还没过期|过期好久了")
ASKS = parts(
    "怎么办|咋办|咋整|怎么处理|还能补签吗|还能办吗|要重新办吗|需要带什么材料|要带啥|去哪里办|在哪办|网上能办吗|"
    "可以在网上签注吗|要多久|多久能拿到|要罚款吗|会影响积分吗|会影响孩子上学吗|社保断了有影响吗|宽限期有几天|"
    "最晚哪天去|还剩几天|帮我算一下|能不能代办|要本人去吗|周末能办吗|需要预约吗|派出所能办吗|居住年限会清零吗|还能续吗"
)
# The first eight say whether it has lapsed, and read well before a date too (过期了，5月份的).
TENSES = parts("过期了|到期了|已经过期|已经过了|失效了|刚过期|还没过期|早就过期|就到期|快到期了|到期|截止")
PREFIXES = parts("请问|麻烦问下|你好，|您好，|打扰一下，|想问一下|问下|那个|嗯|hello |在吗？")
SUFFIXES = parts("谢谢|谢谢了|多谢|麻烦了|急|在线等|求助|谢谢啦")
SEPARATORS = parts("，|,| ||。|、")
ENDINGS = parts("。|？|?|！|!!|??|...|～|，")
EMOJI = parts("😭|🙏|😅|🤔|😂|👍|[捂脸]|[流泪]|🥲|[抱拳]")
REPLIES = parts("好的|好的谢谢|明白了|嗯嗯|ok|👍|谢谢|1|2|3|是的|对|不是|重新开始|？")
CORRECTIONS = parts("不对，{}|说错了，是{}|应该是{}|哦不，{}|记错了，{}|等下，好像是{}")
# Date forms: absolute, relative, month-only and vague, drawn with these weights.
FREE_DATE_FORMS = [
    parts(
        "{y}年{m}月{d}日|{m}月{d}号|{y}-{m:02d}-{d:02d}|{y}.{m}.{d}|{y}/{m}/{d}|{m}/{d}|{cm}月{cd}号|{yy}年{m}月{d}号|"
        "{y} 年 {m} 月 {d} 日|{m}月{d}"
    ),
    parts(
        "{n}天前|{w}个星期前|上周{wd}|上个月{d}号|下个月{d}号|去年{m}月{d}号|明年{m}月{d}号|{k}个月前|前天|昨天|大前天|"
        "下周{wd}|上上周{wd}|{n}天后|上个月底|下个月初|{cw}天前|还有{n}天|过期{n}天了"
    ),
    parts("{m}月份|今年{m}月|去年{m}月|{y}年{m}月|{m}月初|{m}月底|上个月|{cm}月份"),
    parts(
        "一个多月前|两个多月前|半年前|半个月前|春节前|春节后|国庆前后|去年年底|年初|前阵子|前段时间|好久之前|五一前|"
        "元旦前后|月底|上个月中旬|去年春节前|三个多月前|年前|上半年"
    ),
]
FREE_DATE_WEIGHTS = [35, 30, 20, 15]
TYPOS = {
    "签注": ["签柱", "签住", "鉴注"],
    "居住证": ["居往证", "居注证", "居住正"],
    "过期": ["过其", "过七"],
    "怎么": ["怎门", "怎摸", "zenme"],
    "到期": ["道期"],
    "材料": ["才料"],
    "谢谢": ["xiexie", "谢谢谢"],
    "办": ["半"],
}
CN_DIGITS = "〇一二三四五六七八九"
PLACE_FORMS = (
    "我在{c}|{c}的|人在{c}|在{c}{d}|{c}{d}|现在住{c}|{p}{c}|{c}市|在{c}上班|户口不在{c}，在这边工作|{c}，{d}那边|{c}"
)
Place = tuple[str, str, list[str]]  # province, city, its districts (listed for 19 big cities only)
ZONES = ["市区", "城区", "高新区", "开发区", "老城区", "新区", "县城"]  # for cities whose districts are not listed


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals: 五, 十二, 二十, 三十一."""
    tens, ones = divmod(n, 10)
    return (CN_DIGITS[tens] if tens > 1 else "") + ("十" if tens else "") + (CN_DIGITS[ones] if ones else "")


def places_by_city() -> list[Place]:
    """(province, city, districts) for every city in content/places.yaml."""
    import yaml

    provinces = yaml.safe_load((ROOT / "content/places.yaml").read_text("utf-8"))["provinces"]
    return [(p["name"], c["name"], c.get("districts", [])) for p in provinces for c in p["cities"]]


def free_date(rng: random.Random) -> str:
    """An absolute, relative, month-only or vague date, as people type it."""
    form = rng.choice(rng.choices(FREE_DATE_FORMS, FREE_DATE_WEIGHTS)[0])
    y, m, d = rng.choice([2025, 2026, 2027]), rng.randint(1, 12), rng.randint(1, 28)
    return form.format(
        y=y, yy=y % 100, m=m, d=d, cm=cn_number(m), cd=cn_number(d), n=rng.randint(1, 40), w=rng.randint(1, 6),
        k=rng.randint(1, 11), cw=rng.choice("两三四五六七八九十"), wd=rng.choice("一二三四五六日"),
    )  # fmt: skip


def typo(rng: random.Random, text: str) -> str:
    """A slip of the pinyin input method, a dropped character or a doubled one."""
    words = [word for word in TYPOS if word in text]
    if words and rng.random() < 0.7:
        word = rng.choice(words)
        return text.replace(word, rng.choice(TYPOS[word]), 1)
    i = rng.randrange(len(text))
    return text[:i] + text[i + 1 :] if rng.random() < 0.5 else text[:i] + text[i] + text[i:]


def dress(rng: random.Random, core: str, prefix: bool = True) -> str:
    """Filler before and after, punctuation, emoji, sometimes a typo."""
    if prefix and rng.random() < 0.3:
        core = rng.choice(PREFIXES) + core
    if rng.random() < 0.25:
        core += rng.choice(SEPARATORS) + rng.choice(SUFFIXES)
    if rng.random() < 0.6:
        core += rng.choice(ENDINGS)
    if rng.random() < 0.15:
        core += rng.choice(EMOJI) * rng.choice([1, 1, 2, 3])
    return typo(rng, core) if rng.random() < 0.1 else core


def a_place(rng: random.Random, place: Place) -> str:
    province, city, districts = place
    district = rng.choice(districts) if districts else rng.choice(ZONES)
    forms = parts(PLACE_FORMS.format(p=province, c=city, d=district))
    return rng.choice([*forms, district] if districts else forms)


def a_question(rng: random.Random, questions: list[str]) -> str:
    if rng.random() < 0.4:
        return rng.choice(questions)
    return rng.choice(SUBJECTS) + rng.choice(["", *STATES]) + rng.choice(SEPARATORS) + rng.choice(ASKS)


def a_dated(rng: random.Random) -> str:
    date, tense, lapsed = free_date(rng), rng.choice(TENSES), rng.choice(TENSES[:8])
    return rng.choice([f"{date}{tense}", f"{rng.choice(SUBJECTS)}{date}{tense}", f"{lapsed}，{date}的", date])


def free_conversation(rng: random.Random, length: int, questions: list[str], places: list[Place]) -> list[str]:
    place = rng.choice(places)
    opener = rng.choice(SUBJECTS) + rng.choice(STATES) + rng.choice([*SEPARATORS, ""]) + rng.choice(["", *ASKS])
    texts = [dress(rng, opener), dress(rng, a_dated(rng)), dress(rng, a_place(rng, place))]
    while len(texts) < length:
        roll = rng.random()
        if roll < 0.3:
            text = a_question(rng, questions)
        elif roll < 0.5:
            texts.append(dress(rng, rng.choice(CORRECTIONS).format(a_dated(rng)), prefix=False))
            continue
        elif roll < 0.65:
            text = a_place(rng, rng.choice(places))
        elif roll < 0.85:
            pieces = [a_place(rng, rng.choice(places)), a_dated(rng), rng.choice(["", *ASKS])]
            text = rng.choice(SEPARATORS).join(piece for piece in pieces if piece)
        else:
            texts.append(rng.choice(REPLIES))  # short replies repeat, as in real chats
            continue
        texts.append(dress(rng, text))
    return texts[:length]


def free_workload(users: int, per_user: int, seed: int = 7) -> list[tuple[str, str]]:
    """(user, text) pairs of typed free text, users interleaved round-robin."""
    rng = random.Random(seed)
    questions, _ = texts_from_content()
    places = places_by_city()
    chats = [free_conversation(rng, per_user, questions, places) for _ in range(users)]
    return [(f"user{u}", chats[u][i]) for i in range(per_user) for u in range(users)]


def messages_for(load: str, users: int, per_user: int, seed: int) -> list[tuple[str, str]]:
    return workload(users, per_user, seed) if load == "repetitive" else free_workload(users, per_user, seed)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run_engine(messages: list[tuple[str, str]], paired: bool = False) -> dict[str, float]:
    """The full engine on a SQLite file. Paired: after each chunk, bare jieba.lcut on the same texts, so
    both sides see the same machine (its speed drifts by a factor of two over a minute here)."""
    from bot.catalog.loader import load_catalog
    from bot.core.clock import SystemClock
    from bot.core.engine import Engine
    from bot.core.messages import Message
    from bot.runtime import settle_heap
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
        settle_heap()  # as qianzhu's runtime does once everything is built
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


def child(kind: str, load: str, args: argparse.Namespace) -> dict[str, float]:
    command = [sys.executable, __file__, "--worker", kind, "--load", load, "--seed", str(args.seed)]
    command += ["--users", str(args.users), "--per-user", str(args.per_user)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def report(load: str, args: argparse.Namespace) -> None:
    """One load's figures, each line labelled with the load."""
    messages = messages_for(load, args.users, args.per_user, args.seed)
    engine = child("engine", load, args)  # alone: its own peak RSS
    paired = child("paired", load, args)
    distinct = len({text for _, text in messages})
    ratio = paired["msg_per_s"] / paired["bare_msg_per_s"]
    target = "   (target >= 25%)" if load == "repetitive" else ""
    label = f"load={load}".ljust(len("load=repetitive")) + " "
    lines = [
        f"workload: {engine['messages']:.0f} messages ({distinct} distinct texts, {distinct / len(messages):.1%}), "
        f"{args.users} users interleaved, SQLite file store",
        f"engine throughput:     {engine['msg_per_s']:8.0f} msg/s   (errors: {engine['errors']:.0f})",
        f"paired run, in chunks of {CHUNK} messages, same texts:",
        f"  engine:              {paired['msg_per_s']:8.0f} msg/s",
        f"  bare jieba.lcut:     {paired['bare_msg_per_s']:8.0f} msg/s",
        f"  engine / bare jieba: {ratio:8.1%}{target}",
        f"latency per message:   p50 {engine['p50_ms']:.3f} ms, p99 {engine['p99_ms']:.3f} ms",
        f"peak RSS, engine run:  {engine['peak_rss_mb']:8.1f} MB   (target < 150 MB)",
    ]
    for line in lines:
        print(label + line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--load", choices=["both", "repetitive", "free"], default="both")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7, help="random.Random seed of the workload")
    parser.add_argument("--worker", choices=["engine", "paired"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        messages = messages_for(args.load, args.users, args.per_user, args.seed)
        print(json.dumps(asyncio.run(run_engine(messages, paired=args.worker == "paired"))))
        return

    for load in ["repetitive", "free"] if args.load == "both" else [args.load]:
        report(load, args)
    bin_dir = Path(sys.executable).parent
    ask = [str(bin_dir / "qianzhu"), "ask", "我在上海，居住证10月20号过期了", "--today", TODAY.isoformat()]
    jieba_init = [sys.executable, "-c", "import jieba; jieba.initialize()"]
    wall(ask), wall(jieba_init)  # warm the file caches (jieba's own cache file included)
    colds = [(wall(ask), wall(jieba_init)) for _ in range(7)]
    cold_engine = statistics.median(c[0] for c in colds)
    cold_jieba = statistics.median(c[1] for c in colds)
    print(f"cold start, qianzhu ask to first answer: {cold_engine:.2f} s (median of 7)")
    print(f"cold start, bare jieba initialise:       {cold_jieba:.2f} s (median of 7)")
    print(f"cold start ratio:      {cold_engine / cold_jieba:8.2f}x   (target <= 1.5x)")


if __name__ == "__main__":
    main()

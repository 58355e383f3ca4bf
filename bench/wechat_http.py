"""WeChat HTTP benchmark: `qianzhu serve` against a raw-ASGI floor, both driven by wrk over 127.0.0.1.

Each request is a signed plaintext POST /wechat with a unique MsgId, from one of 1,000 users, carrying a
realistic question (the labelled questions in tests/data plus dates and cities). The floor is a minimal
raw-ASGI app on the same uvicorn settings (uvloop, httptools) that only checks the signature and timestamp,
parses the XML (with defusedxml, as the bot does) and returns a fixed reply. Every reply is checked in wrk's
`response` hook: status 200 and a text <xml> reply, else it counts as invalid. Prints req/s, p50 and p99 for
both and the ratio.

Run: python bench/wechat_http.py [--duration 20] [--rounds 5] [--connections 32]. The two servers are
driven in alternating slices. Installs wrk with apt-get if it is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
USERS = 1000
SIGNED_PER_SECOND = 25_000  # more than either server answers: no signed query string is ever used twice
FLOOR_REPLY = (
    b"<xml><ToUserName><![CDATA[o]]></ToUserName><FromUserName><![CDATA[gh]]></FromUserName>"
    b"<CreateTime>0</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[ok]]></Content></xml>"
)
EXTRA = [
    "我在上海，居住证10月20号过期了",
    "深圳 下个月15号到期",
    "签注过期了怎么办",
    "10月20日过期了",
    "北京",
    "杭州的",
    "去年12月过期了",
    "还有一周到期",
    "重新开始",
    "2",
    "谢谢",
]


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


async def floor_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The floor: signature and timestamp check, a safe XML parse, a fixed reply. Nothing else."""
    import defusedxml.ElementTree as SafeET

    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    query = dict(parse_qsl(scope["query_string"].decode()))
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    status, reply = 200, FLOOR_REPLY
    ts, nonce = query.get("timestamp", "0"), query.get("nonce", "")
    fresh = ts.isdigit() and abs(time.time() - int(ts)) <= 300
    if not fresh or not hmac.compare_digest(sign(TOKEN, ts, nonce).encode(), query.get("signature", "").encode()):
        status, reply = 403, b"403"
    elif scope["method"] == "POST":
        try:
            SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        except Exception:
            status, reply = 400, b"400"
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/xml")]})
    await send({"type": "http.response.body", "body": reply})


def questions() -> list[str]:
    import yaml

    labelled = yaml.safe_load((ROOT / "tests/data/intent_questions.yaml").read_text("utf-8"))
    return [row["q"] for row in labelled] + EXTRA


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def signed_queries(path: str, count: int) -> None:
    """Query strings signed for now, one per request: like WeChat, each (timestamp, nonce) carries one message
    (the bot refuses a seen pair with another body). They go to a file, which each wrk thread reads."""
    now = int(time.time())
    with open(path, "w", encoding="ascii") as out:
        for _ in range(count):
            nonce = f"{secrets.randbelow(10**9)}{secrets.token_hex(4)}"
            out.write(f"signature={sign(TOKEN, str(now), nonce)}&timestamp={now}&nonce={nonce}\n")


def lua_script(run_tag: int, queries_path: str, threads: int) -> str:
    """Takes each thread's own signed query strings in turn and builds bodies per request."""
    now = int(time.time())
    return f"""
local queries = {{}}
local questions = {{{",".join(lua_string(q) for q in questions())}}}
-- `id`, `counter` and `invalid` are globals: wrk's thread:set and thread:get reach only globals
threads, counter, invalid, id = {{}}, 0, 0, 0
function setup(thread) thread:set("id", #threads + 1); table.insert(threads, thread) end
function init(args)
  counter, invalid = 0, 0; math.randomseed(id * 7919 + {run_tag})
  for line in io.lines({lua_string(queries_path)}) do queries[#queries + 1] = line end
end
local head = "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[oBench"
function request()
  counter = counter + 1
  local user = math.random(1, {USERS})
  local body = head .. user .. "]]></FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    .. "<Content><![CDATA[" .. questions[math.random(#questions)] .. "]]></Content><MsgId>"
    .. string.format("%d%02d%010d", {run_tag}, id, counter) .. "</MsgId></xml>"
  local query = queries[((counter - 1) * {threads} + id - 1) % #queries + 1]
  local path = "/wechat?" .. query .. "&openid=oBench" .. user
  return wrk.format("POST", path, {{["Content-Type"] = "text/xml"}}, body)
end
function response(status, headers, body)
  if status ~= 200 or body:sub(1, 5) ~= "<xml>" or not body:find("<Content><![CDATA[", 1, true) then
    invalid = invalid + 1
  end
end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("invalid") end
  local e = summary.errors
  io.write(string.format('BENCH {{"requests": %d, "seconds": %f, "p50_us": %f, "p99_us": %f, "invalid": %d, '
    .. '"non2xx": %d, "socket_errors": %d}}\\n', summary.requests, summary.duration / 1e6, latency:percentile(50),
    latency:percentile(99), bad, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is not installed; installing it from Debian's packages (apt-get install -y wrk) ...", flush=True)
    for command in (["apt-get", "install", "-y", "wrk"], ["apt-get", "update"], ["apt-get", "install", "-y", "wrk"]):
        subprocess.run(command, check=False, capture_output=True)
        if shutil.which("wrk"):
            return str(shutil.which("wrk"))
    sys.exit("could not install wrk: run `sudo apt-get install -y wrk` (Debian/Ubuntu) and try again")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if process.poll() is not None:
            sys.exit(f"the server exited early: {process.communicate()[1].decode()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:  # any HTTP answer means it is up
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"the server at {url} did not start")


def drive(wrk: str, port: int, seconds: int, connections: int, threads: int, run_tag: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as queries:
        signed_queries(queries.name, seconds * SIGNED_PER_SECOND + 1000)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", encoding="utf-8", delete=False) as script:
        script.write(lua_script(run_tag, queries.name, threads))
    try:
        command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", script.name]
        out = subprocess.run([*command, f"http://127.0.0.1:{port}"], check=True, capture_output=True, text=True)
    finally:
        os.unlink(script.name)
        os.unlink(queries.name)
    line = next(line for line in out.stdout.splitlines() if line.startswith("BENCH "))
    result: dict[str, float] = json.loads(line.removeprefix("BENCH "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def combined(parts: list[dict[str, float]]) -> dict[str, float]:
    """One figure from the slices: total requests over total time, the median p50 and the worst p99."""
    summed = {key: sum(p[key] for p in parts) for key in ("requests", "seconds", "invalid", "non2xx", "socket_errors")}
    p50s = sorted(p["p50_us"] for p in parts)
    return summed | {
        "rps": summed["requests"] / summed["seconds"],
        "p50_us": p50s[len(p50s) // 2],
        "p99_us": max(p["p99_us"] for p in parts),
    }


def alternate(
    wrk: str, servers: Sequence[tuple[str, int]], args: argparse.Namespace, slice_: int
) -> dict[str, list[dict[str, float]]]:
    """A warm-up of each server, then `args.rounds` alternating slices: this machine's speed drifts over a
    minute, and every server should see the same."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in servers}
    for n, (_, port) in enumerate(servers):
        drive(wrk, port, args.warmup, args.connections, args.threads, run_tag=10 + n)
    for round_ in range(args.rounds):
        for n, (name, port) in enumerate(servers):
            tag = 20 + len(servers) * round_ + n  # two digits: MsgIds never repeat across runs
            runs[name].append(drive(wrk, port, slice_, args.connections, args.threads, run_tag=tag))
    return runs


def report(
    runs: dict[str, list[dict[str, float]]], args: argparse.Namespace, slice_: int
) -> dict[str, dict[str, float]]:
    """Prints the table of req/s, p50 and p99 per server; returns the combined figures."""
    results = {name: combined(parts) for name, parts in runs.items()}
    print(
        f"wrk: {args.connections} connections, {args.threads} thread(s), {args.rounds} x {slice_} s per server "
        f"(alternating), {USERS} users, unique MsgIds, signed plaintext POST /wechat"
    )
    print(f"{'':18} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'invalid':>8} {'sock err':>8}")
    for name, r in results.items():
        print(
            f"{name:18} {r['rps']:8.0f} {r['p50_us'] / 1000:8.2f} {r['p99_us'] / 1000:8.2f} "
            f"{r['non2xx']:8.0f} {r['invalid']:8.0f} {r['socket_errors']:8.0f}"
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=20, help="measured seconds per server (default 20)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating slices the duration is cut into")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per server (default 3)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: the server keeps a core)")
    parser.add_argument("--floor", type=int, help=argparse.SUPPRESS)  # internal: serve the floor on this port
    args = parser.parse_args()
    if args.floor:
        import uvicorn

        uvicorn.run(floor_app, host="127.0.0.1", port=args.floor, log_level="warning", access_log=False)
        return
    wrk = ensure_wrk()
    slice_ = max(1, round(args.duration / args.rounds))
    with tempfile.TemporaryDirectory() as tmp:
        serve_port, floor_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "TELEGRAM_"))}
        env |= {"WECHAT_TOKEN": TOKEN, "QIANZHU_DB": str(Path(tmp) / "bench.db"), "QIANZHU_LOG_LEVEL": "WARNING"}
        serve = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(serve_port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        floor = subprocess.Popen(
            [sys.executable, __file__, "--floor", str(floor_port)], cwd=ROOT, stderr=subprocess.PIPE
        )
        try:
            wait_ready(f"http://127.0.0.1:{serve_port}/healthz", serve)
            wait_ready(f"http://127.0.0.1:{floor_port}/?" + "signature=x", floor)
            servers = (("floor (raw ASGI)", floor_port), ("qianzhu serve", serve_port))
            runs = alternate(wrk, servers, args, slice_)
        finally:
            for process in (serve, floor):
                process.terminate()
                process.wait(timeout=30)
    results = report(runs, args, slice_)
    floor_rps, serve_rps = results["floor (raw ASGI)"]["rps"], results["qianzhu serve"]["rps"]
    print(f"qianzhu serve / floor: {serve_rps / floor_rps:.0%} of the floor's req/s (target >= 40%, stretch 50%)")
    print("p50 is the median of the slices, p99 the worst slice's")


if __name__ == "__main__":
    main()

"""Store growth under full load: how big the SQLite file and its WAL get while `qianzhu serve` answers WeChat
as fast as it can, and whether they shrink afterwards.

A real `qianzhu serve` (WECHAT_TOKEN set, no AES key: plaintext mode) on a new database file is driven by wrk
over 127.0.0.1 with keep-alive connections, for --seconds (90 by default) in slices of --sample seconds. Every
request is a signed plaintext POST /wechat with its own (timestamp, nonce) and MsgId, from one of --users
users, carrying a realistic question (as in bench/wechat_http.py). The server remembers each (timestamp,
nonce) and each MsgId in its store, so nothing is repeated: the query strings are signed in advance, a pool
per slice and wrk thread, read by wrk's Lua from a file. After each slice the script prints the request rate,
the sizes of the .db, -wal and -shm files and the server's resident memory; then it keeps sampling while the
server is idle for --idle seconds (expired once-only records go, the WAL is emptied, freed pages go back),
stops the server with SIGTERM and prints the sizes after its close. The goal: .db plus -wal under 200 MB after
90 s of full load.

Run: python bench/store_growth.py [--seconds 90] [--sample 10] [--connections 32] [--users 10000] [--idle 70].
Installs wrk with apt-get if it is missing (see bench/wechat_http.py).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wechat_http import ROOT, TOKEN, ensure_wrk, free_port, lua_string, questions, sign, wait_ready

MB = 1024 * 1024
FIRST_POOL = 150_000  # signed query strings per slice before the rate is known (15,000 req/s for 10 s)
MIN_POOL = 20_000


def sizes(db: Path) -> dict[str, int]:
    found = {}
    for suffix in ("", "-wal", "-shm"):
        try:
            found[suffix or "db"] = os.stat(f"{db}{suffix}").st_size
        except OSError:
            found[suffix or "db"] = 0
    return found


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def write_pool(folder: Path, slice_: int, threads: int, count: int) -> Path:
    """`count` signed query strings, each with a nonce of its own, split into one file per wrk thread."""
    now = str(int(time.time()))
    stem = folder / f"pool{slice_}-"
    per_thread = count // threads + 1
    for thread in range(1, threads + 1):
        with open(f"{stem}{thread}", "w", encoding="ascii") as out:
            for _ in range(per_thread):
                nonce = secrets.token_hex(8)
                out.write(f"signature={sign(TOKEN, now, nonce)}&timestamp={now}&nonce={nonce}\n")
    return stem


def lua_script(pool: Path, slice_: int, users: int) -> str:
    tag = 10 + slice_  # two digits: MsgIds never repeat across slices
    return f"""
local questions = {{{",".join(lua_string(q) for q in questions())}}}
local queries = {{}}
-- `id`, `counter`, `invalid` and `wrapped` are globals: wrk's thread:set and thread:get reach only globals
threads, counter, invalid, wrapped, id = {{}}, 0, 0, 0, 0
function setup(thread) thread:set("id", #threads + 1); table.insert(threads, thread) end
function init(args)
  counter, invalid, wrapped = 0, 0, 0
  math.randomseed(id * 7919 + {tag})
  for line in io.lines("{pool}" .. id) do queries[#queries + 1] = line end
end
local head = "<xml><ToUserName><![CDATA[gh_growth]]></ToUserName><FromUserName><![CDATA[oGrowth"
function request()
  counter = counter + 1
  local query = queries[counter]
  if query == nil then wrapped = wrapped + 1; query = queries[(counter - 1) % #queries + 1] end
  local user = math.random(1, {users})
  local body = head .. user .. "]]></FromUserName><CreateTime>" .. os.time() .. "</CreateTime>"
    .. "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" .. questions[math.random(#questions)]
    .. "]]></Content><MsgId>" .. string.format("%d%02d%010d", {tag}, id, counter) .. "</MsgId></xml>"
  return wrk.format("POST", "/wechat?" .. query .. "&openid=oGrowth" .. user, {{["Content-Type"] = "text/xml"}}, body)
end
function response(status, headers, body)
  if status ~= 200 or body:sub(1, 5) ~= "<xml>" then invalid = invalid + 1 end
end
function done(summary, latency, requests)
  local bad, reused = 0, 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("invalid"); reused = reused + thread:get("wrapped") end
  local e = summary.errors
  io.write(string.format('BENCH {{"requests": %d, "seconds": %f, "p50_us": %f, "p99_us": %f, "invalid": %d, '
    .. '"reused": %d, "socket_errors": %d}}\\n', summary.requests, summary.duration / 1e6, latency:percentile(50),
    latency:percentile(99), bad, reused, e.connect + e.read + e.write + e.timeout))
end
"""


def start_wrk(wrk: str, script: Path, port: int, args: argparse.Namespace, seconds: int) -> subprocess.Popen[str]:
    command = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--timeout", "10s"]
    return subprocess.Popen(
        [*command, "-s", str(script), f"http://127.0.0.1:{port}"], stdout=subprocess.PIPE, text=True
    )


def report(label: str, db: Path, pid: int, rate: str = "") -> dict[str, int]:
    found = sizes(db)
    total = found["db"] + found["-wal"]
    print(
        f"{label:>8} {rate:>9} {found['db'] / MB:9.1f} {found['-wal'] / MB:9.1f} {found['-shm'] / MB:7.2f} "
        f"{total / MB:10.1f} {rss_mb(pid):8.1f}",
        flush=True,
    )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=90, help="seconds of full load (default 90)")
    parser.add_argument("--sample", type=int, default=10, help="seconds between samples (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections (default 32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: the server keeps a core)")
    parser.add_argument("--users", type=int, default=10_000, help="distinct WeChat users (default 10,000)")
    parser.add_argument("--idle", type=int, default=70, help="seconds of sampling after the load (default 70)")
    parser.add_argument("--db", type=Path, help="keep the database at this new path (default: a temporary one)")
    args = parser.parse_args()
    wrk = ensure_wrk()
    if args.db is not None and args.db.exists():
        sys.exit(f"{args.db} exists: the bench wants a new file")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = args.db.resolve() if args.db is not None else folder / "growth.db"
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "TELEGRAM_", "QIANZHU_"))}
        env |= {"WECHAT_TOKEN": TOKEN, "QIANZHU_DB": str(db), "QIANZHU_LOG_LEVEL": "WARNING"}
        env |= {"QIANZHU_KEY_SALT": "bench-salt"}
        log = (folder / "serve.log").open("w")
        serve = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        exit_code: int | None = None
        totals = {"requests": 0, "seconds": 0.0, "invalid": 0, "reused": 0, "socket_errors": 0}
        p99s: list[float] = []
        try:
            wait_ready(f"http://127.0.0.1:{port}/healthz", serve)
            print(
                f"qianzhu serve, new SQLite file; wrk {args.connections} connections, {args.threads} thread(s), "
                f"{args.users:,} users, every message signed with its own nonce and MsgId"
            )
            print(f"{'t (s)':>8} {'req/s':>9} {'db MB':>9} {'wal MB':>9} {'shm MB':>7} {'db+wal MB':>10} {'RSS MB':>8}")
            report("0", db, serve.pid)
            slices = max(1, args.seconds // args.sample)
            pool_size = FIRST_POOL
            pool = write_pool(folder, 0, args.threads, pool_size)
            started = time.monotonic()
            for n in range(slices):
                script = folder / f"slice{n}.lua"
                script.write_text(lua_script(pool, n, args.users), encoding="utf-8")
                running = start_wrk(wrk, script, port, args, args.sample)
                if n + 1 < slices:  # the next slice's pool is signed while this one runs
                    pool = write_pool(folder, n + 1, args.threads, pool_size)
                out, _ = running.communicate()
                line = next(line for line in out.splitlines() if line.startswith("BENCH "))
                result = json.loads(line.removeprefix("BENCH "))
                for key in totals:
                    totals[key] += result[key]
                p99s.append(result["p99_us"] / 1000)
                pool_size = max(MIN_POOL, 2 * int(result["requests"]))  # signing costs the server CPU
                rate = result["requests"] / result["seconds"]
                report(f"{time.monotonic() - started:.0f}", db, serve.pid, f"{rate:,.0f}")
            load_end = sizes(db)
            idle_from = time.monotonic()
            while time.monotonic() - idle_from < args.idle:
                time.sleep(min(args.sample, args.idle - (time.monotonic() - idle_from)))
                report(f"+{time.monotonic() - idle_from:.0f} idle", db, serve.pid)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
                healthy = answer.status
        finally:
            serve.send_signal(signal.SIGTERM)
            try:
                exit_code = serve.wait(timeout=60)
            except subprocess.TimeoutExpired:
                serve.kill()
                serve.wait()
            log.close()
        closed = sizes(db)
        print(f"{'closed':>8} {'':>9} {closed['db'] / MB:9.1f} {closed['-wal'] / MB:9.1f} {closed['-shm'] / MB:7.2f}")
        print(
            f"\n{totals['requests']:,.0f} requests in {totals['seconds']:.0f} s: "
            f"{totals['requests'] / totals['seconds']:,.0f} req/s; worst slice p99 {max(p99s):.1f} ms; "
            f"{totals['invalid']:.0f} not answered 200 with a reply, "
            f"{totals['reused']:.0f} query strings reused, {totals['socket_errors']:.0f} socket errors"
        )
        end_total = (load_end["db"] + load_end["-wal"]) / MB
        verdict = "under" if end_total < 200 else "OVER"
        print(f"db + wal after {args.seconds} s of full load: {end_total:.1f} MB ({verdict} the 200 MB goal)")
        print(f"/healthz after the load: {healthy}; SIGTERM exit code {exit_code}")
        tail = (folder / "serve.log").read_text(errors="replace").strip().splitlines()[-5:]
        if tail:
            print("last lines of the server's log:\n  " + "\n  ".join(tail))


if __name__ == "__main__":
    main()

"""Scale-out benchmark: the WeChat load of bench/wechat_http.py against, in one run,

- the raw-ASGI floor (as in wechat_http.py),
- one `qianzhu serve` on SQLite,
- one `qianzhu serve` on Redis,
- two `qianzhu serve` on one Redis, sharing one port (`--reuse-port`: the kernel spreads the connections over
  them, the simplest round-robin there is, with no proxy process to take CPU from the servers).

The setups are driven in alternating slices (this machine's speed drifts); each prints req/s, p50 and p99, then the
ratios the scale-out issue asks about. Redis is a `redis-server` started here on a free port, without persistence.

Run: python bench/replicas.py [--duration 20] [--rounds 5] [--connections 32]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wechat_http import ROOT, TOKEN, alternate, ensure_wrk, free_port, report, wait_ready


def serve(port: int, db: str, reuse_port: bool = False) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "TELEGRAM_", "QIANZHU_"))}
    env |= {"WECHAT_TOKEN": TOKEN, "QIANZHU_DB": db, "QIANZHU_LOG_LEVEL": "WARNING", "QIANZHU_KEY_SALT": "bench"}
    command = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(
        [*command, *(["--reuse-port"] if reuse_port else [])],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=20, help="measured seconds per setup (default 20)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating slices the duration is cut into")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per setup (default 3)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: the servers keep a core)")
    args = parser.parse_args()
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        sys.exit("redis-server is not installed (apt-get install -y redis-server)")
    wrk = ensure_wrk()
    slice_ = max(1, round(args.duration / args.rounds))
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        redis_port = free_port()
        processes.append(
            subprocess.Popen(
                [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
            )
        )
        ports = {name: free_port() for name in ("floor", "sqlite", "redis", "redis2")}
        processes.append(
            subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "wechat_http.py"), "--floor", str(ports["floor"])], cwd=ROOT
            )
        )
        redis_url = f"redis://127.0.0.1:{redis_port}"
        servers = [
            serve(ports["sqlite"], str(Path(tmp) / "bench.db")),
            serve(ports["redis"], f"{redis_url}/0"),
            serve(ports["redis2"], f"{redis_url}/1", reuse_port=True),
            serve(ports["redis2"], f"{redis_url}/1", reuse_port=True),
        ]
        processes += servers
        setups = (
            ("floor (raw ASGI)", ports["floor"]),
            ("1 x serve, SQLite", ports["sqlite"]),
            ("1 x serve, Redis", ports["redis"]),
            ("2 x serve, Redis", ports["redis2"]),
        )
        try:
            wait_ready(f"http://127.0.0.1:{ports['floor']}/?signature=x", processes[1])
            server_ports = (ports["sqlite"], ports["redis"], ports["redis2"], ports["redis2"])
            for server, port in zip(servers, server_ports, strict=True):
                wait_ready(f"http://127.0.0.1:{port}/healthz", server)
            runs = alternate(wrk, setups, args, slice_)
        finally:
            for process in reversed(processes):
                process.terminate()
                process.wait(timeout=30)
    results = report(runs, args, slice_)
    rps = {name: r["rps"] for name, r in results.items()}
    floor, one, two = rps["floor (raw ASGI)"], rps["1 x serve, Redis"], rps["2 x serve, Redis"]
    print(f"2 x Redis / 1 x Redis: {two / one:.2f}x (goal >= 1.5x)")
    sqlite = rps["1 x serve, SQLite"]
    print(f"1 x Redis / floor: {one / floor:.2f}x (goal >= 0.35x); 1 x SQLite / floor: {sqlite / floor:.2f}x")
    print("p50 is the median of the slices, p99 the worst slice's (goal < 50 ms)")


if __name__ == "__main__":
    main()

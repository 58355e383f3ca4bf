"""WeChat fuzz counts: the corpus of tests/test_wechat_fuzz.py (tests/wechat_corpus.py) against `qianzhu serve`.

Starts `python -m bot serve` on 127.0.0.1 (an EncodingAESKey, WECHAT_ALLOW_PLAINTEXT=1, a SQLite file in a
temporary folder), posts every probe (signed plaintext, safe, compatible and unsigned) from a few keep-alive
connections, and prints the counts by status code, by mutation class, and the tracebacks and ERROR lines in the
server's log. Exit status 1 if any request got a 500, lost its connection, or the log holds a traceback.

Run: python bench/wechat_fuzz.py [--seed N] [--workers 6] [--url http://127.0.0.1:PORT]
(--url: a server you started yourself with the test token and keys of tests/wechat_kit.py; its log is yours to read.)
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.wechat_corpus import Corpus, fuzz_server, post_all  # noqa: E402


def report(probes_kinds: list[str], statuses: list[int], seconds: float) -> bool:
    counts = collections.Counter(statuses)
    print(f"{len(statuses)} requests in {seconds:.1f} s ({len(statuses) / seconds:.0f}/s)")
    print("by status:", ", ".join(f"{code if code > 0 else 'no response'}: {n}" for code, n in sorted(counts.items())))
    by_class: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    for kind, status in zip(probes_kinds, statuses, strict=True):
        by_class[kind.split("/")[0]][status] += 1
    width = max(len(kind) for kind in by_class)
    for kind, spread in sorted(by_class.items()):
        print(f"  {kind:<{width}}  " + "  ".join(f"{code}: {n}" for code, n in sorted(spread.items())))
    return counts[500] == 0 and counts[-1] == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--url", help="an already running server (default: start one)")
    args = parser.parse_args()
    probes = Corpus(args.seed).probes()
    kinds = [probe.kind for probe in probes]
    if args.url:
        started = time.perf_counter()
        statuses = post_all(args.url.rstrip("/"), probes, args.workers)
        return 0 if report(kinds, statuses, time.perf_counter() - started) else 1
    with tempfile.TemporaryDirectory() as folder:
        with fuzz_server(Path(folder)) as (base, log):
            started = time.perf_counter()
            statuses = post_all(base, probes, args.workers)
            seconds = time.perf_counter() - started
        ok = report(kinds, statuses, seconds)
        written = log.read_text("utf-8", "replace")
        tracebacks, errors = written.count("Traceback"), written.count("ERROR")
        print(f"server log: {len(written.splitlines())} lines, {tracebacks} tracebacks, {errors} ERROR")
    return 0 if ok and tracebacks == 0 and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

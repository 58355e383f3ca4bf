"""Prometheus metrics in the text exposition format, without a client library."""

from __future__ import annotations

import bisect
import os
import resource
from collections.abc import Callable, Sequence

DEFAULT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _labels(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    escaped = (v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for v in values)
    return "{" + ",".join(f'{n}="{v}"' for n, v in zip(names, escaped, strict=True)) + "}"


class Counter:
    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> None:
        self.name, self.help, self.labelnames = name, help_text, tuple(labelnames)
        self._values: dict[tuple[str, ...], float] = {}

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        self._values[labels] = self._values.get(labels, 0.0) + amount

    def value(self, *labels: str) -> float:
        return self._values.get(labels, 0.0)

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        lines += [f"{self.name}{_labels(self.labelnames, k)} {v:g}" for k, v in sorted(self._values.items())]
        return lines


class Histogram:
    def __init__(
        self,
        name: str,
        help_text: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ):
        self.name, self.help, self.labelnames = name, help_text, tuple(labelnames)
        self.buckets = tuple(sorted(buckets))
        self._series: dict[tuple[str, ...], tuple[list[int], list[float]]] = {}  # counts per bucket, [sum]

    def observe(self, seconds: float, *labels: str) -> None:
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = ([0] * (len(self.buckets) + 1), [0.0])
        counts, total = series
        counts[bisect.bisect_left(self.buckets, seconds)] += 1
        total[0] += seconds

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for labels, (counts, total) in sorted(self._series.items()):
            running = 0
            for bound, count in zip((*self.buckets, float("inf")), counts, strict=True):
                running += count
                le = "+Inf" if bound == float("inf") else f"{bound:g}"
                lines.append(f"{self.name}_bucket{_labels((*self.labelnames, 'le'), (*labels, le))} {running}")
            lines.append(f"{self.name}_sum{_labels(self.labelnames, labels)} {total[0]:.6f}")
            lines.append(f"{self.name}_count{_labels(self.labelnames, labels)} {running}")
        return lines


Sample = tuple[tuple[str, ...], float]  # label values, value


class Gauge:
    """A value read when the metrics are rendered; `read` returns (labels, value) samples, none when unknown."""

    def __init__(
        self, name: str, help_text: str, read: Callable[[], Sequence[Sample]], labelnames: Sequence[str] = ()
    ) -> None:
        self.name, self.help, self.labelnames, self._read = name, help_text, tuple(labelnames), read

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} gauge"]
        lines += [f"{self.name}{_labels(self.labelnames, k)} {v:g}" for k, v in self._read()]
        return lines


def resident_memory() -> list[Sample]:
    """Resident set size in bytes, from /proc (Linux); elsewhere the peak, which getrusage reports."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
        return [((), float(pages * os.sysconf("SC_PAGE_SIZE")))]
    except (OSError, ValueError, IndexError):
        return [((), float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))]


def open_descriptors() -> list[Sample]:
    try:
        return [((), float(len(os.listdir("/proc/self/fd"))))]
    except OSError:  # not Linux: unknown rather than wrong
        return []


def descriptor_limit() -> list[Sample]:
    return [((), float(resource.getrlimit(resource.RLIMIT_NOFILE)[0]))]


def file_sizes(path: str) -> Callable[[], list[Sample]]:
    """The SQLite file and its write-ahead log, in bytes (0 when a file is not there)."""

    def read() -> list[Sample]:
        samples: list[Sample] = []
        for label, name in (("db", path), ("wal", f"{path}-wal")):
            try:
                samples.append(((label,), float(os.stat(name).st_size)))
            except OSError:
                samples.append(((label,), 0.0))
        return samples

    return read


class Metrics:
    """The bot's metrics; the engine reports each handled message through `observe_turn`."""

    def __init__(self) -> None:
        self.messages = Counter("qianzhu_messages_total", "Messages handled by the engine.", ("channel", "intent"))
        self.handling = Histogram("qianzhu_handling_seconds", "Time to handle one message.", ("channel",))
        self.retries = Counter(
            "qianzhu_duplicate_deliveries_total",
            "Repeated deliveries answered from the once-only record.",
            ("channel",),
        )
        self.errors = Counter("qianzhu_channel_errors_total", "Errors at a channel edge.", ("channel", "kind"))
        self.once_hits = Counter(
            "qianzhu_once_hits_total",
            "Deliveries answered with a result the once-only record already held.",
            ("channel",),
        )
        self.replays = Counter(
            "qianzhu_replayed_requests_total",
            "Requests whose (timestamp, nonce) was seen before: 'retry' (same body) or 'refused' (another body).",
            ("channel", "outcome"),
        )
        self.store_errors = Counter(
            "qianzhu_store_errors_total", "Store operations that failed, by where they were needed.", ("where",)
        )
        self.late = Counter(
            "qianzhu_late_answers_total",
            "Answers that missed the passive-reply deadline, by how they went out: sent, deferred, delivered, failed.",
            ("channel", "outcome"),
        )

        self.connections_closed = Counter(
            "qianzhu_http_connections_closed_total",
            "Connections the server closed itself: head_timeout, body_timeout, head_too_large, evicted (the oldest "
            "idle one, to make room), refused (no room, nothing idle), shutdown (a request still arriving).",
            ("reason",),
        )
        self.overloaded = Counter(
            "qianzhu_http_overloaded_total", "Requests answered 503 because too many were already in progress."
        )
        self.gauges: list[Gauge] = [
            Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", resident_memory),
            Gauge("process_open_fds", "Open file descriptors.", open_descriptors),
            Gauge("process_max_fds", "The soft limit on open file descriptors.", descriptor_limit),
        ]

    def watch_store_file(self, path: str) -> None:
        """Adds the size of a SQLite store's files to the metrics (once: an app built again adds nothing)."""
        if any(gauge.name == "qianzhu_store_bytes" for gauge in self.gauges):
            return
        self.gauges.append(
            Gauge(
                "qianzhu_store_bytes",
                "Size of the SQLite store: the db file and its -wal.",
                file_sizes(path),
                ("file",),
            )
        )

    def observe_turn(self, channel: str, intent: str, seconds: float) -> None:
        self.messages.inc(channel, intent)
        self.handling.observe(seconds, channel)

    def render(self) -> str:
        lines: list[str] = []
        metrics: tuple[Counter | Histogram | Gauge, ...] = (
            self.messages,
            self.handling,
            self.retries,
            self.errors,
            self.once_hits,
            self.replays,
            self.store_errors,
            self.late,
            self.connections_closed,
            self.overloaded,
            *self.gauges,
        )
        for metric in metrics:
            lines += metric.render()
        return "\n".join(lines) + "\n"

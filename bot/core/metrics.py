"""The process's metrics in Prometheus' text format (version 0.0.4), written by hand.

One registry per process (`REGISTRY`); any part of the bot increments the metric it owns,
and `/metrics` renders them all. Counters and histograms only grow within a process (a
restart starts them at zero, which Prometheus' `rate()` understands); gauges are set. Gauges
whose value lives elsewhere (the outbox's rows in the database) are refreshed by the
`/metrics` endpoint just before it renders.
"""

from __future__ import annotations

import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field

LabelValues = tuple[str, ...]

DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _labels(names: tuple[str, ...], values: LabelValues, extra: str = "") -> str:
    pairs = [f'{name}="{_escape(value)}"' for name, value in zip(names, values, strict=True)]
    if extra:
        pairs.append(extra)
    return "{" + ",".join(pairs) + "}" if pairs else ""


@dataclass
class _Metric(ABC):
    name: str
    help: str
    label_names: tuple[str, ...] = ()
    kind: str = "untyped"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _key(self, labels: dict[str, str]) -> LabelValues:
        if set(labels) != set(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}, got {tuple(labels)}")
        return tuple(str(labels[name]) for name in self.label_names)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {_escape(self.help)}", f"# TYPE {self.name} {self.kind}"]

    @abstractmethod
    def lines(self) -> list[str]:
        """The metric's samples in Prometheus' text format."""


@dataclass
class _SingleValue(_Metric):
    """A metric with one number per set of labels: what counters and gauges share."""

    _values: dict[LabelValues, float] = field(default_factory=dict, repr=False)

    def value(self, **labels: str) -> float:
        return self._values.get(self._key(labels), 0.0)

    def lines(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_labels(self.label_names, k)} {_number(v)}" for k, v in items]


@dataclass
class Counter(_SingleValue):
    kind: str = "counter"

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only grows")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount


@dataclass
class Gauge(_SingleValue):
    kind: str = "gauge"

    def set(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = float(value)


@dataclass
class Histogram(_Metric):
    kind: str = "histogram"
    buckets: tuple[float, ...] = DEFAULT_BUCKETS
    _counts: dict[LabelValues, list[int]] = field(default_factory=dict, repr=False)
    _sums: dict[LabelValues, float] = field(default_factory=dict, repr=False)

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            counts = self._counts.setdefault(key, [0] * (len(self.buckets) + 1))
            for index, bound in enumerate(self.buckets):
                if value <= bound:
                    counts[index] += 1
            counts[-1] += 1  # +Inf: every observation
            self._sums[key] = self._sums.get(key, 0.0) + value

    def count(self, **labels: str) -> int:
        counts = self._counts.get(self._key(labels))
        return counts[-1] if counts else 0

    def lines(self) -> list[str]:
        with self._lock:
            items = sorted((k, list(v), self._sums[k]) for k, v in self._counts.items())
        lines = []
        for key, counts, total in items:
            bounds = [*self.buckets, math.inf]
            for bound, count in zip(bounds, counts, strict=True):
                le = f'le="{_number(bound)}"'
                lines.append(f"{self.name}_bucket{_labels(self.label_names, key, le)} {count}")
            lines.append(f"{self.name}_sum{_labels(self.label_names, key)} {_number(total)}")
            lines.append(f"{self.name}_count{_labels(self.label_names, key)} {counts[-1]}")
        return lines


class Registry:
    """The metrics by name: each declared once, rendered in the order declared."""

    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}

    def _declare(self, metric: _Metric) -> _Metric:
        existing = self._metrics.get(metric.name)
        if existing is not None:
            if type(existing) is not type(metric) or existing.label_names != metric.label_names:
                raise ValueError(f"metric {metric.name} declared twice, differently")
            return existing
        self._metrics[metric.name] = metric
        return metric

    def counter(self, name: str, help: str, labels: Iterable[str] = ()) -> Counter:
        metric = self._declare(Counter(name, help, tuple(labels)))
        assert isinstance(metric, Counter)
        return metric

    def gauge(self, name: str, help: str, labels: Iterable[str] = ()) -> Gauge:
        metric = self._declare(Gauge(name, help, tuple(labels)))
        assert isinstance(metric, Gauge)
        return metric

    def histogram(
        self,
        name: str,
        help: str,
        labels: Iterable[str] = (),
        buckets: tuple[float, ...] = DEFAULT_BUCKETS,
    ) -> Histogram:
        metric = self._declare(Histogram(name, help, tuple(labels), buckets=tuple(sorted(buckets))))
        assert isinstance(metric, Histogram)
        return metric

    def render(self) -> str:
        lines: list[str] = []
        for metric in self._metrics.values():
            lines += metric.header()
            lines += metric.lines()
        return "\n".join(lines) + "\n"


REGISTRY = Registry()

# The bot's metrics, declared here so every part increments the same ones.
UPDATES = REGISTRY.counter(
    "roadmap_updates_total",
    "Telegram updates by type and outcome: handled, failed (a handler raised), and in webhook "
    "mode duplicate, busy, unavailable (Redis), malformed.",
    ("type", "outcome"),
)
UPDATE_SECONDS = REGISTRY.histogram(
    "roadmap_update_handling_seconds", "Time the dispatcher spends on one update."
)
OUTBOX = REGISTRY.gauge(
    "roadmap_outbox_notifications",
    "Outbox rows by state (pending, sent, failed, dropped), read at each scrape.",
    ("state",),
)
RATE_LIMITED = REGISTRY.counter(
    "roadmap_telegram_rate_limited_total", "429 Too Many Requests answers from Telegram."
)
JOB_RUNS = REGISTRY.counter(
    "roadmap_scheduled_job_runs_total", "Scheduled job runs by job and outcome.", ("job", "outcome")
)
LEADER = REGISTRY.gauge(
    "roadmap_leader", "1 while this replica holds the leader lock (runs the singletons), else 0."
)

"""Prometheus metrics: request, token, latency and TTFT series fed by usage records, plus
engine gauges (queue depth, running requests, utilisation) read when scraped.

The text exposition format is written here directly (no client library): counters and
histograms keyed by label values, rendered with ``# HELP``/``# TYPE`` lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable

from ..core.records import UsageRecord

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
TTFT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UTILISATION_WINDOW_S = 60.0

Labels = tuple[tuple[str, str], ...]


class Counter:
    def __init__(self, name: str, help: str) -> None:
        self.name, self.help = name, help
        self.values: dict[Labels, float] = {}

    def inc(self, labels: Labels, amount: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        lines += [f"{self.name}{_labels(k)} {_num(v)}" for k, v in sorted(self.values.items())]
        return lines


class Histogram:
    def __init__(self, name: str, help: str, buckets: tuple[float, ...]) -> None:
        self.name, self.help, self.buckets = name, help, buckets
        self.series: dict[Labels, tuple[list[int], list[float]]] = {}

    def observe(self, labels: Labels, value: float) -> None:
        counts, totals = self.series.setdefault(labels, ([0] * (len(self.buckets) + 1), [0.0]))
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                counts[i] += 1
        counts[-1] += 1  # +Inf
        totals[0] += value

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for labels, (counts, totals) in sorted(self.series.items()):
            for bound, count in zip((*self.buckets, math.inf), counts, strict=True):
                le = "+Inf" if bound == math.inf else _num(bound)
                lines.append(f"{self.name}_bucket{_labels((*labels, ('le', le)))} {count}")
            lines.append(f"{self.name}_sum{_labels(labels)} {_num(totals[0])}")
            lines.append(f"{self.name}_count{_labels(labels)} {counts[-1]}")
        return lines


class Metrics:
    """No workspace label: ``/metrics`` shows server-wide totals, not who spent them."""

    def __init__(self, label_of: Callable[[UsageRecord], str] | None = None) -> None:
        # the model label: only served base models are named (an adapter, a typo in a failed
        # request are not), so bad requests cannot grow the number of series without bound
        # and no workspace's adapter names or ids show
        self.label_of = label_of or (lambda record: record.model)
        self._lock = threading.Lock()
        self.requests = Counter(
            "tokenfactory_requests_total", "Requests by endpoint, model, usage tier and status."
        )
        self.prompt_tokens = Counter(
            "tokenfactory_prompt_tokens_total", "Input tokens processed, by model and tier."
        )
        self.completion_tokens = Counter(
            "tokenfactory_completion_tokens_total", "Output tokens generated, by model and tier."
        )
        self.latency = Histogram(
            "tokenfactory_request_latency_seconds",
            "End-to-end request latency, by endpoint and model.",
            LATENCY_BUCKETS,
        )
        self.ttft = Histogram(
            "tokenfactory_time_to_first_token_seconds",
            "Time to the first generated token, by model.",
            TTFT_BUCKETS,
        )
        self.busy_samples: deque[tuple[float, bool]] = deque()

    def observe(self, record: UsageRecord) -> None:
        """A usage observer."""
        model = self.label_of(record)
        with self._lock:
            self.requests.inc(
                (
                    ("endpoint", record.endpoint),
                    ("model", model),
                    ("tier", record.tier),
                    ("status", str(record.status)),
                )
            )
            by_model = (("model", model), ("tier", record.tier))
            if record.prompt_tokens:
                self.prompt_tokens.inc(by_model, record.prompt_tokens)
            if record.completion_tokens:
                self.completion_tokens.inc(by_model, record.completion_tokens)
            if record.latency_s is not None and record.status < 400:
                self.latency.observe(
                    (("endpoint", record.endpoint), ("model", model)), record.latency_s
                )
            if record.ttft_s is not None:
                self.ttft.observe((("model", model),), record.ttft_s)

    # -- engine utilisation: the share of recent samples with a request running ------------
    def sample_engine(self, busy: bool, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self.busy_samples.append((now, busy))
            while self.busy_samples and self.busy_samples[0][0] < now - UTILISATION_WINDOW_S:
                self.busy_samples.popleft()

    def utilisation(self) -> float:
        with self._lock:
            if not self.busy_samples:
                return 0.0
            return sum(1 for _, busy in self.busy_samples if busy) / len(self.busy_samples)

    def render(self, gauges: dict[str, tuple[str, float]], only_gauges: bool = False) -> str:
        """The exposition text; ``gauges`` maps a name to ``(help, value)``."""
        with self._lock:
            lines: list[str] = []
            series = (self.requests, self.prompt_tokens, self.completion_tokens)
            for metric in () if only_gauges else (*series, self.latency, self.ttft):
                lines += metric.render()
            for name, (help_text, value) in gauges.items():
                lines += [
                    f"# HELP {name} {help_text}",
                    f"# TYPE {name} gauge",
                    f"{name} {_num(value)}",
                ]
        return "\n".join(lines) + "\n"


async def sample_forever(
    metrics: Metrics, is_busy: Callable[[], bool], interval: float = 1.0
) -> None:
    """Background task (started by a gateway startup hook) feeding engine utilisation."""
    while True:
        with contextlib.suppress(Exception):
            metrics.sample_engine(is_busy())
        await asyncio.sleep(interval)


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    if value == math.inf:
        return "+Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))

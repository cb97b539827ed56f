"""Usage summaries (by day / model / tier / endpoint, with cost) and time series for plots."""

from __future__ import annotations

import datetime as dt
import math
import time

from ..errors import InvalidRequestError
from ..store import Workspace
from .prices import PICO_PER_USD, pico_to_usd
from .repository import UsageRepository

GROUPS = ("day", "model", "tier", "endpoint", "user")
BUCKETS = {"minute": 60, "hour": 3600, "day": 86400}
DEFAULT_WINDOW_S = 30 * 86400
LATEST_TIME = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc).timestamp()


def parse_time(value: str | None, param: str) -> float | None:
    """``YYYY-MM-DD`` (UTC midnight), an ISO time, or Unix seconds."""
    if value is None or value == "":
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = _iso_seconds(value, param)
    if not 0 <= seconds <= LATEST_TIME:  # also NaN, inf and 1e400
        raise InvalidRequestError(
            f"Invalid value for '{param}': {value!r} is not a time between 1970 and 9999",
            param=param,
        )
    return seconds


def _iso_seconds(value: str, param: str) -> float:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequestError(
            f"Invalid value for '{param}': expected YYYY-MM-DD, an ISO time or Unix seconds",
            param=param,
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


def parse_group_by(value: str | None) -> list[str]:
    if value is None:
        return ["day", "model", "tier"]
    groups = [g.strip() for g in value.split(",") if g.strip()]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise InvalidRequestError(
            f"Invalid value for 'group_by': {unknown[0]!r}; choose from {', '.join(GROUPS)}",
            param="group_by",
        )
    return list(dict.fromkeys(groups))


def _sums(row: dict) -> dict:
    prompt = int(row.get("prompt_tokens") or 0)
    completion = int(row.get("completion_tokens") or 0)
    cost = int(row.get("cost_pico") or 0)
    return {
        "requests": int(row.get("requests") or 0),
        "errors": int(row.get("errors") or 0),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "cost_usd": pico_to_usd(cost),
        "cost_pico": cost,
    }


def summary(
    records: UsageRepository,
    workspace: Workspace,
    *,
    start: str | None = None,
    end: str | None = None,
    group_by: str | None = None,
    model: str | None = None,
    tier: str | None = None,
    user: str | None = None,
    cap: dict | None = None,
) -> dict:
    since = parse_time(start, "start")
    until = parse_time(end, "end")
    if since is None:
        since = (until or time.time()) - DEFAULT_WINDOW_S
    groups = parse_group_by(group_by)
    common = {"since": since, "until": until, "model": model, "tier": tier, "user": user}
    rows = records.grouped(workspace.id, groups, **common) if groups else []
    total = records.grouped(workspace.id, [], **common)
    available = records.available_pico(workspace.id)
    return {
        "object": "usage",
        "workspace": {"id": workspace.id, "name": workspace.name, "tier": workspace.tier},
        "start": since,
        "end": until,
        "group_by": groups,
        "data": [{**{g: row[g] for g in groups}, **_sums(row)} for row in rows],
        "total": _sums(total[0] if total else {}),
        "balance_usd": None if available is None else available / PICO_PER_USD,
        "monthly_cap": cap,
    }


def timeseries(
    records: UsageRepository,
    workspace: Workspace,
    *,
    bucket: str = "hour",
    start: str | None = None,
    end: str | None = None,
    model: str | None = None,
    tier: str | None = None,
) -> dict:
    """Per time bucket: requests, errors, tokens, cost, latency and TTFT percentiles."""
    if bucket not in BUCKETS:
        raise InvalidRequestError(
            f"Invalid value for 'bucket': choose from {', '.join(BUCKETS)}", param="bucket"
        )
    width = BUCKETS[bucket]
    since = parse_time(start, "start")
    until = parse_time(end, "end")
    if since is None:
        since = (until or time.time()) - 200 * width
    rows = records.rows(workspace.id, since=since, until=until, model=model, tier=tier)
    grouped: dict[int, list[dict]] = {}
    for row in rows:
        grouped.setdefault(int(row["created_at"] // width * width), []).append(row)
    points = []
    for t in sorted(grouped):
        items = grouped[t]
        ok = [r for r in items if r["status"] < 400]
        latencies = sorted(r["latency_ms"] for r in ok if r["latency_ms"] is not None)
        ttfts = sorted(r["ttft_ms"] for r in ok if r["ttft_ms"] is not None)
        cost = sum(r["cost_pico"] for r in items)
        points.append(
            {
                "t": t,
                "requests": len(items),
                "errors": len(items) - len(ok),
                "prompt_tokens": sum(r["prompt_tokens"] for r in items),
                "completion_tokens": sum(r["completion_tokens"] for r in items),
                "cost_usd": pico_to_usd(cost),
                "latency_p50_ms": percentile(latencies, 50),
                "latency_p90_ms": percentile(latencies, 90),
                "latency_p99_ms": percentile(latencies, 99),
                "ttft_p50_ms": percentile(ttfts, 50),
                "ttft_p90_ms": percentile(ttfts, 90),
            }
        )
    return {
        "object": "usage.timeseries",
        "workspace": {"id": workspace.id, "name": workspace.name, "tier": workspace.tier},
        "bucket": bucket,
        "bucket_seconds": width,
        "start": since,
        "end": until,
        "models": records.distinct(workspace.id, "model"),
        "tiers": records.distinct(workspace.id, "tier"),
        "data": points,
    }


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]

"""A streamed-chat load generator that runs in several processes, so it measures the server.

Each client process (spawned) runs ``concurrency / processes`` streams with aiohttp and returns,
per request, the time to the first non-empty content delta, the completion tokens (from the
final usage chunk) and start/end wall-clock times. The phase's throughput is the sum of
completion tokens over the span from the first start to the last end, across all processes.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import time
from dataclasses import dataclass


@dataclass
class Load:
    url: str  # .../v1
    key: str
    model: str
    prompts: list[str]
    concurrency: int
    max_tokens: int
    processes: int = 2


async def _stream(session, load: Load, prompt: str) -> tuple[float, float | None, int, float]:
    body = {
        "model": load.model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": load.max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    start = time.time()
    first = None
    tokens = 0
    deltas = 0
    async with session.post(
        load.url + "/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {load.key}"},
    ) as r:
        if r.status != 200:
            raise RuntimeError(f"HTTP {r.status}: {await r.text()}")
        async for raw in r.content:
            line = raw.strip()
            if not line.startswith(b"data: {"):
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            for choice in chunk.get("choices") or ():
                if (choice.get("delta") or {}).get("content"):
                    deltas += 1
                    if first is None:
                        first = time.time()
    return start, (first - start) if first else None, tokens or deltas, time.time()


async def _client(load: Load) -> list[tuple]:
    import aiohttp

    queue = list(load.prompts)
    results: list[tuple] = []

    async def worker(session) -> None:
        while queue:
            results.append(await _stream(session, load, queue.pop()))

    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=3600)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(load.concurrency)))
    return results


def _run_client(load: Load) -> list[tuple]:
    return asyncio.run(_client(load))


def run(load: Load) -> dict:
    """Drive ``load`` from ``load.processes`` client processes; returns the phase's summary."""
    procs = max(1, min(load.processes, load.concurrency))
    parts = []
    for p in range(procs):
        share = load.concurrency // procs + (1 if p < load.concurrency % procs else 0)
        parts.append(
            Load(
                load.url,
                load.key,
                load.model,
                load.prompts[p::procs],
                share,
                load.max_tokens,
                1,
            )
        )
    with mp.get_context("spawn").Pool(procs) as pool:
        per_proc = pool.map(_run_client, parts)
    rows = [r for part in per_proc for r in part]
    return summarize(rows)


def summarize(rows: list[tuple]) -> dict:
    span = max(r[3] for r in rows) - min(r[0] for r in rows)
    ttfts = sorted(r[1] for r in rows if r[1] is not None)
    tokens = sum(r[2] for r in rows)
    return {
        "requests": len(rows),
        "completion_tokens": tokens,
        "seconds": round(span, 3),
        "tok_s": round(tokens / span, 2),
        "ttft_p50_s": round(_pct(ttfts, 50), 4),
        "ttft_p99_s": round(_pct(ttfts, 99), 4),
    }


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]

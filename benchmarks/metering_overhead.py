"""What metering costs per request: gateway throughput with the usage feature (rate-limit
admission, wallet hold, usage row + debit in SQLite, metrics, headers middleware) relative to
the same gateway without it, on the instant fake engine so only gateway work is measured.

    python benchmarks/metering_overhead.py [--requests 300] [--concurrency 8]

Prints requests/s for both and the ratio (metered / unmetered); both run in this process, in
alternating rounds, so machine load affects them alike.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from tests.fakes import FakeEngine
from tokenfactory.core import Core
from tokenfactory.features import install_features
from tokenfactory.gateway.app import create_app
from tokenfactory.ratelimit import RateLimiter, Tier
from tokenfactory.store import Store

BODY = {"model": "test/chat", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}


async def build(root: Path, metered: bool) -> tuple[httpx.AsyncClient, Core]:
    gateway = Core(FakeEngine(), Store(root / f"{'m' if metered else 'u'}.sqlite3"))
    install_features(gateway)
    if not metered:
        meter = gateway.meter
        assert meter is not None
        gateway.admission_checks.remove(meter.admit)
        gateway.usage_observers.clear()
        gateway.meter = None  # no usage ledger, no metering middleware
    else:  # a workspace with a tier and a wallet: every check runs
        gateway.keys.create_workspace("bench", tier="pro")
        gateway.keys.set_balance("bench", 10**9)
    # limits high enough never to bind: the checks run, nothing is refused
    assert RateLimiter in gateway.installed
    gateway.installed[RateLimiter].tiers["pro"] = Tier("pro", 10**9, 10**12)
    _, key = gateway.keys.create_key("bench")
    await gateway.start_engine()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(gateway)),
        base_url="http://bench",
        headers={"Authorization": f"Bearer {key}"},
    )
    return client, gateway


async def round_trip(client: httpx.AsyncClient, n: int, concurrency: int) -> float:
    queue = list(range(n))

    async def worker() -> None:
        while queue:
            queue.pop()
            r = await client.post("/v1/chat/completions", json=BODY)
            assert r.status_code == 200, r.text

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - started)


async def main(requests: int, concurrency: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        metered, _ = await build(Path(tmp), True)
        plain, _ = await build(Path(tmp), False)
        await round_trip(metered, 20, concurrency)  # warm-up
        await round_trip(plain, 20, concurrency)
        m_rates, p_rates = [], []
        for _ in range(rounds):
            p_rates.append(await round_trip(plain, requests, concurrency))
            m_rates.append(await round_trip(metered, requests, concurrency))
        await metered.aclose()
        await plain.aclose()
    m, p = statistics.median(m_rates), statistics.median(p_rates)
    print(f"unmetered: {p:8.1f} req/s   metered: {m:8.1f} req/s   (median of {rounds} rounds)")
    print(f"ratio metered/unmetered throughput: {m / p:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency, args.rounds))

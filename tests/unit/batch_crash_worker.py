"""A process that runs batch jobs on the real store and runner (fake engine), for crash tests.

``python -m tests.unit.batch_crash_worker DB submit N`` submits N chat lines for the workspace
``crash`` (which has a wallet) and runs until every job finished; ``... DB resume`` only runs.
With ``TOKENFACTORY_FAULT`` set, the process is killed at that crash point instead.
"""

from __future__ import annotations

import asyncio
import json
import sys

from tests.fakes import FakeEngine
from tokenfactory.batch.service import BatchService
from tokenfactory.core import Core
from tokenfactory.features import install_features
from tokenfactory.store import Store

WORKSPACE = "crash"


async def main(db: str, mode: str, lines: int) -> None:
    core = Core(FakeEngine(delay=0.01), Store(db))
    install_features(core)
    assert BatchService in core.installed
    if mode == "submit":
        core.keys.create_workspace(WORKSPACE)
        core.keys.set_balance(WORKSPACE, 10**9)
        _, key = core.keys.create_key(WORKSPACE, name="crash")
        rows = [
            {"custom_id": f"q-{i}", "body": {"model": "test/chat", "max_tokens": 4,
             "messages": [{"role": "user", "content": f"line {i}"}]}}
            for i in range(lines)
        ]  # fmt: skip
        data = "".join(json.dumps(r) + "\n" for r in rows).encode()
        core.installed[BatchService].submit(core.keys.authenticate(key), data, "24h")
    await core.start_engine()
    while core.installed[BatchService].repo.active_jobs():
        await asyncio.sleep(0.05)
    await core.shutdown()


if __name__ == "__main__":
    db, mode = sys.argv[1], sys.argv[2]
    asyncio.run(main(db, mode, int(sys.argv[3]) if len(sys.argv) > 3 else 0))

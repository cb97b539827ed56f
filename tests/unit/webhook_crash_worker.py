"""A process that runs the webhook delivery loop on the real store (fake engine), for kill tests.

``python -m tests.unit.webhook_crash_worker DB URL emit`` registers URL for the workspace
``hooks``, reports a finished batch and delivers until killed; ``... DB URL resume`` only
delivers. It prints the endpoint's secret first (``SECRET whsec_...``).
"""

from __future__ import annotations

import asyncio
import sys

from tests.fakes import FakeEngine
from tokenfactory.core import Core
from tokenfactory.core.records import JobEvent
from tokenfactory.features import install_features
from tokenfactory.store import Store
from tokenfactory.webhooks.service import WebhookService

WORKSPACE = "hooks"


async def main(db: str, url: str, mode: str) -> None:
    core = Core(FakeEngine(), Store(db))
    install_features(core)
    assert WebhookService in core.installed
    if mode == "emit":
        ws = core.keys.create_workspace(WORKSPACE)
        endpoint = core.installed[WebhookService].register(ws.id, url)
        print("SECRET", endpoint["secret"], flush=True)
        core.job_ended(JobEvent(ws.id, "batch.completed", "batch_killed"))
    await core.start_engine()
    while True:
        await asyncio.sleep(1)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))

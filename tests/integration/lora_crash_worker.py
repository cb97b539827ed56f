"""A process that trains an adapter on the real trainer (fake engine for serving), for kill tests.

``python -m tests.integration.lora_crash_worker DB train`` creates an adapter (two epochs of two
steps) and is SIGKILLed right after step 3's loss is recorded, mid-way through epoch 2 (its
checkpoint is epoch 1's); ``... DB resume`` starts again on the same store and runs until the
job ended.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

from tests.fakes import FakeEngine
from tests.integration.lora_data import styled
from tokenfactory.config import DEFAULT_CHAT_MODEL
from tokenfactory.core import Core
from tokenfactory.features import install_features
from tokenfactory.lora.repository import ACTIVE
from tokenfactory.lora.runner import JobCallbacks
from tokenfactory.lora.service import LoraService
from tokenfactory.store import Store

KILL_AFTER_STEP = 3


def die_after_step(step_of_kill: int) -> None:
    original = JobCallbacks.step

    def step_then_die(self: JobCallbacks, step: int, epoch: int, loss: float) -> None:
        original(self, step, epoch, loss)
        if step == step_of_kill:
            os.kill(os.getpid(), signal.SIGKILL)

    JobCallbacks.step = step_then_die  # type: ignore[method-assign]


async def main(db: str, mode: str) -> None:
    core = Core(FakeEngine(chat_model=DEFAULT_CHAT_MODEL), Store(db))
    install_features(core)
    lora = core.installed[LoraService]
    await core.start_engine()
    if mode == "train":
        _, key = core.keys.create_key("default", name="crash")
        me = core.keys.authenticate(key)
        params = {"name": "crashed", "epochs": 2, "batch_size": 6, "learning_rate": 0.001}
        lora.create(me, params)
        data = "".join(json.dumps(r) + "\n" for r in styled("Arr!")).encode()
        lora.upload(me, "crashed", data)
        die_after_step(KILL_AFTER_STEP)
        lora.start(me, "crashed")
    while lora.repository.list(statuses=ACTIVE):
        await asyncio.sleep(0.1)
    await core.shutdown()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))

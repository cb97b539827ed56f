"""Training jobs on the real trainer (fake engine for serving): cancel, and resume after an
interruption from the last epoch checkpoint."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.fakes import FakeEngine
from tests.integration.lora_data import styled
from tokenfactory.config import DEFAULT_CHAT_MODEL
from tokenfactory.lora import runner as lora_runner
from tokenfactory.lora.service import LoraService

pytestmark = pytest.mark.integration


def make_gateway(db_path):
    from tokenfactory.core import Core
    from tokenfactory.features import install_features
    from tokenfactory.store import Store

    gateway = Core(FakeEngine(chat_model=DEFAULT_CHAT_MODEL), Store(db_path))
    install_features(gateway)
    return gateway


def principal_of(gateway):
    _, key = gateway.keys.create_key("default", name="t")
    return gateway.keys.authenticate(key)


def jsonl(rows) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


async def wait_for(predicate, timeout: float = 300.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_cancel_stops_a_running_job(tf_home):
    gateway = make_gateway(tf_home / "db.sqlite3")
    await gateway.start_engine()
    lora = gateway.installed[LoraService]
    me = principal_of(gateway)
    lora.create(me, {"name": "long", "epochs": 10, "batch_size": 2})
    lora.upload(me, "long", jsonl(styled("Arr!")))
    lora.start(me, "long")
    await wait_for(lambda: lora.get(me, "long").step >= 1)
    record = await lora.cancel(me, "long", wait_s=120)
    assert record.status == "cancelled"
    assert record.step < record.total_steps
    assert gateway.engine.adapters() == {}
    events = lora.events(me, "long")
    assert events[-1]["type"] == "status" and events[-1]["message"].startswith("cancelled")
    assert not lora.repository.adapter_dir(record.id).exists()
    await gateway.shutdown()


async def test_an_interrupted_job_resumes_from_its_checkpoint(tf_home, monkeypatch):
    db = tf_home / "db.sqlite3"
    first = make_gateway(db)
    await first.start_engine()
    lora = first.installed[LoraService]
    me = principal_of(first)
    lora.create(me, {"name": "resumed", "epochs": 3, "batch_size": 6, "learning_rate": 0.001})
    lora.upload(me, "resumed", jsonl(styled("Arr!")))
    lora.upload(me, "resumed", jsonl(styled("Arr!")[:3]), purpose="validation")

    original = lora_runner.JobCallbacks.epoch_done

    def interrupt_after_first_epoch(self, epoch, step, validation_loss):
        original(self, epoch, step, validation_loss)
        if epoch == 1:
            self.runner.stopping.set()  # what a shutdown (or a crash) does mid-job

    monkeypatch.setattr(lora_runner.JobCallbacks, "epoch_done", interrupt_after_first_epoch)
    lora.start(me, "resumed")
    await wait_for(lambda: lora.runner.current is None and lora.get(me, "resumed").epoch >= 1)
    await asyncio.to_thread(lora.runner.stop)
    interrupted = lora.get(me, "resumed")
    assert interrupted.status == "running"  # what the next start looks for
    assert interrupted.epoch == 1 and interrupted.step == 2
    assert (lora.repository.checkpoints(interrupted.id) / "epoch-1").is_dir()
    monkeypatch.setattr(lora_runner.JobCallbacks, "epoch_done", original)

    second = make_gateway(db)  # a new process would see the same store and files
    await second.start_engine()
    lora2 = second.installed[LoraService]
    await wait_for(lambda: lora2.get(me, "resumed").status in ("succeeded", "failed"))
    done = lora2.get(me, "resumed")
    assert done.status == "succeeded", done.error
    assert done.step == done.total_steps == 6
    checkpoints = {f"{done.id}@epoch-{epoch}": DEFAULT_CHAT_MODEL for epoch in (1, 2, 3)}
    assert second.engine.adapters() == {done.id: DEFAULT_CHAT_MODEL, **checkpoints}
    events = lora2.events(me, "resumed")
    resumed = [
        e for e in events if "resumed from the checkpoint of epoch 1" in (e["message"] or "")
    ]
    assert len(resumed) == 1
    steps = [e["step"] for e in events if e["type"] == "loss"]
    assert steps == [1, 2, 3, 4, 5, 6]  # no step lost or run twice
    epochs = [e for e in events if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert all(e["validation_loss"] is not None for e in epochs)
    await second.shutdown()
    await first.shutdown()


class GpuReportingEngine(FakeEngine):
    """Says it serves from a GPU, and records sleep/wake (the trainer must free the GPU)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls: list[str] = []

    def health(self):
        health = super().health()
        health.device = "cuda"
        return health

    async def sleep(self) -> None:
        self.calls.append("sleep")

    async def wake(self) -> None:
        self.calls.append("wake")


async def test_an_engine_on_a_gpu_sleeps_while_training_and_wakes_after(tf_home):
    from tokenfactory.core import Core
    from tokenfactory.features import install_features
    from tokenfactory.store import Store

    engine = GpuReportingEngine(chat_model=DEFAULT_CHAT_MODEL)
    gateway = Core(engine, Store(tf_home / "db.sqlite3"))
    install_features(gateway)
    await gateway.start_engine()
    lora = gateway.installed[LoraService]
    me = principal_of(gateway)
    lora.create(me, {"name": "gpu", "epochs": 1})
    lora.upload(me, "gpu", jsonl(styled("Arr!")))
    lora.start(me, "gpu")
    await wait_for(lambda: lora.get(me, "gpu").status in ("succeeded", "failed"))
    assert engine.calls == ["sleep", "wake"]
    events = [e["message"] for e in lora.events(me, "gpu")]
    assert "engine asleep while training" in events
    import torch

    if not torch.cuda.is_available():  # this machine trains on CPU only: the job fails cleanly
        assert lora.get(me, "gpu").status == "failed"
    await gateway.shutdown()

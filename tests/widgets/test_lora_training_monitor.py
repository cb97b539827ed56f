"""TrainingMonitor, Python side, against a live gateway whose job progress is written to the
store as the trainer writes it (the trainer itself runs in tests/integration)."""

from __future__ import annotations

import json
import time

from tokenfactory.lora.service import LoraService
from tokenfactory.widgets.training_monitor import TrainingMonitor


def job(gateway, status="running"):
    lora = gateway.core.installed[LoraService]
    principal = gateway.core.keys.authenticate(gateway.api_key)
    record = lora.create(principal, {"name": "style-v1", "epochs": 2})
    lora.repository.update(record.id, status=status, total_steps=4, run_started_at=time.time())
    return lora.repository, record.id


def test_draws_the_loss_curve_and_ends_on_the_final_status(gateway):
    records, adapter_id = job(gateway)
    for step, loss in enumerate([2.0, 1.5], start=1):
        records.add_event(adapter_id, "loss", step=step, epoch=1, loss=loss)
    records.add_event(adapter_id, "epoch", step=2, epoch=1, validation_loss=1.6)
    records.update(adapter_id, step=2, epoch=1, train_loss=1.5)
    monitor = TrainingMonitor(
        "style-v1", base_url=gateway.base_url, api_key=gateway.api_key, poll_interval=0.05
    )
    deadline = time.monotonic() + 10
    while len(monitor.train_loss) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert monitor.status == "running" and monitor.step == 2 and monitor.total_steps == 4
    assert monitor.eta_s is not None
    for step, loss in enumerate([1.0, 0.5], start=3):
        records.add_event(adapter_id, "loss", step=step, epoch=2, loss=loss)
    records.add_event(adapter_id, "epoch", step=4, epoch=2, validation_loss=0.7)
    records.update(adapter_id, step=4, epoch=2, status="succeeded")
    monitor.wait(10)
    assert monitor.error == ""
    assert monitor.status == "succeeded" and monitor.finished
    assert monitor.train_loss == [[1, 2.0], [2, 1.5], [3, 1.0], [4, 0.5]]
    assert monitor.validation_loss == [[2, 1.6], [4, 0.7]]
    df = monitor.to_pandas()
    assert list(df["loss"]) == [2.0, 1.5, 1.0, 0.5]
    assert df["validation_loss"].notna().sum() == 2
    json.dumps(monitor.get_state())  # every synced trait crosses to JavaScript
    monitor.close()


def test_cancel_button_cancels_a_queued_job(gateway):
    records, adapter_id = job(gateway, status="queued")
    monitor = TrainingMonitor(
        "style-v1", base_url=gateway.base_url, api_key=gateway.api_key, poll_interval=0.05
    )
    monitor._dispatch(monitor, {"action": "cancel"}, [])
    monitor.wait(10)
    assert monitor.error == ""
    assert monitor.status == "cancelled"
    assert records.by_id(adapter_id).status == "cancelled"
    # a late click (one that waited in the kernel's queue) on an ended job does nothing
    assert monitor.cancel() is None and monitor.error == ""


def test_an_unknown_adapter_shows_the_error_instead_of_raising(gateway):
    monitor = TrainingMonitor("nope", base_url=gateway.base_url, api_key=gateway.api_key)
    monitor.wait(10)
    assert "No adapter named 'nope'" in monitor.error

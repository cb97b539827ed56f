"""BatchMonitor, Python side, against a live gateway on the fake engine."""

from __future__ import annotations

import json

import pytest

from tokenfactory.batch.service import BatchService
from tokenfactory.sdk import TokenFactory
from tokenfactory.widgets.batch_monitor import BatchMonitor


def rows(n: int) -> list[dict]:
    return [
        {"custom_id": f"m{i}", "body": {"model": "test/chat",
                                        "messages": [{"role": "user", "content": "x"}]}}
        for i in range(n)
    ]  # fmt: skip


@pytest.fixture
def client(gateway):
    with TokenFactory(base_url=gateway.base_url, api_key=gateway.api_key) as c:
        yield c


def test_follows_a_job_to_the_end_and_loads_the_table(gateway, client):
    job = client.batches.create(rows(5))
    monitor = BatchMonitor(
        job.id, base_url=gateway.base_url, api_key=gateway.api_key, poll_interval=0.05
    )
    monitor.wait(30)
    assert monitor.error == ""
    assert monitor.done and monitor.status == "completed"
    assert (monitor.total, monitor.completed, monitor.failed) == (5, 5, 0)
    assert [r["custom_id"] for r in monitor.results] == [f"m{i}" for i in range(5)]
    assert monitor.results[0]["response"] == "Hello from the fake engine."
    assert monitor.results[0]["status_code"] == 200
    assert len(monitor.to_pandas()) == 5
    json.dumps(monitor.results)  # the table crosses to JavaScript as JSON
    monitor.close()


def test_cancel_button_cancels_and_keeps_finished_rows(gateway, client):
    gateway.engine.delay = 0.02
    gateway.core.installed[BatchService].runner.max_in_flight = 1
    job = client.batches.create(rows(30))
    monitor = BatchMonitor(
        job.id, base_url=gateway.base_url, api_key=gateway.api_key, poll_interval=0.05
    )
    monitor._dispatch(monitor, {"action": "cancel"}, [])
    monitor.wait(30)
    assert monitor.status == "cancelled" and monitor.error == ""
    frame = monitor.to_pandas()
    assert len(frame) == 30 and frame["error"].notna().sum() == 30 - monitor.completed
    assert monitor.cancelled == 30 - monitor.completed - monitor.failed > 0
    monitor.close()


def test_an_unknown_job_shows_the_error_instead_of_raising(gateway):
    monitor = BatchMonitor(
        "batch_nope", base_url=gateway.base_url, api_key=gateway.api_key, poll_interval=0.05
    )
    import time

    deadline = time.monotonic() + 10
    while not monitor.error and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "No batch found with id 'batch_nope'" in monitor.error
    monitor.wait(10)  # an id that does not exist stops the polling: nothing left to follow
    assert monitor.missing and not monitor._poller.is_alive()
    monitor.cancel()
    assert monitor.error == "No batch 'batch_nope' to cancel" and monitor.busy == 0
    monitor.close()


def test_no_gateway_is_an_error_in_the_widget(monkeypatch):
    monkeypatch.delenv("TOKENFACTORY_BASE_URL", raising=False)
    monkeypatch.setattr("tokenfactory.server._current", None)  # a session-wide tf.serve()
    monitor = BatchMonitor("batch_x")
    assert monitor.error and not monitor.done
    monitor._dispatch(monitor, {"action": "cancel"}, [])
    monitor.wait(5)
    assert monitor.error
    monitor.close()

"""``wait`` polls the same way for batches and adapters, on the sync and the async client."""

from __future__ import annotations

import pytest

from .conftest import Recorder, reply


def batch(status: str, done: int = 0) -> dict:
    return {"id": "b1", "status": status, "total_requests": 2, "completed_requests": done}


def adapter(status: str, step: int = 0) -> dict:
    return {
        "id": "ad_1",
        "name": "pirate-v1",
        "model": "pirate-v1",
        "base_model": "test/chat",
        "status": status,
        "hyperparameters": {
            "epochs": 1,
            "learning_rate": 1e-4,
            "rank": 8,
            "alpha": 16,
            "dropout": 0.0,
        },
        "progress": {"step": step, "total_steps": 4, "epoch": 1, "epochs": 1},
        "train_loss": 1.5 if step else None,
    }


BATCH_SCRIPT = (reply(200, batch("in_progress")), reply(200, batch("in_progress", 1)),
                reply(200, batch("completed", 2)))  # fmt: skip
ADAPTER_SCRIPT = (reply(200, adapter("running", 1)), reply(200, adapter("running", 3)),
                  reply(200, adapter("succeeded", 4)))  # fmt: skip


def test_sync_batches_wait_until_the_job_ends(make_client):
    handler = Recorder(*BATCH_SCRIPT)
    job = make_client(handler).batches.wait("b1", poll_interval=0, progress=True)
    assert (job.status, job.completed_requests, handler.calls) == ("completed", 2, 3)
    assert job.wait(poll_interval=0).status == "completed"  # bound: waits through its client


async def test_async_batches_wait_list_and_results(make_async_client):
    handler = Recorder(*BATCH_SCRIPT)
    client = make_async_client(handler)
    job = await client.batches.wait("b1", poll_interval=0, progress=True)
    assert (job.status, handler.calls) == ("completed", 3)
    listing = Recorder(reply(200, {"object": "list", "data": [batch("completed", 2)]}))
    page = await make_async_client(listing).batches.list(limit=5)
    assert [j.id for j in page] == ["b1"] and "limit=5" in str(listing.requests[0].url)


def test_sync_adapters_wait_with_progress(make_client):
    handler = Recorder(*ADAPTER_SCRIPT)
    done = make_client(handler).adapters.wait("pirate-v1", poll_interval=0, progress=True)
    assert (done.status, done.progress.step, handler.calls) == ("succeeded", 4, 3)


async def test_async_adapters_wait(make_async_client):
    handler = Recorder(*ADAPTER_SCRIPT)
    done = await make_async_client(handler).adapters.wait("pirate-v1", poll_interval=0)
    assert (done.status, handler.calls) == ("succeeded", 3)


def test_sync_wait_gives_up_at_the_timeout(make_client):
    handler = Recorder(reply(200, adapter("running", 1)))
    # a deadline far above one poll, so a loaded machine still polls twice before it passes
    with pytest.raises(TimeoutError, match=r"adapter .pirate-v1. still running after 0\.5 s"):
        make_client(handler).adapters.wait("pirate-v1", timeout=0.5, poll_interval=0.01)
    assert handler.calls >= 2


async def test_async_wait_gives_up_at_the_timeout(make_async_client):
    handler = Recorder(reply(200, batch("in_progress")))
    with pytest.raises(TimeoutError, match=r"batch b1 is still in_progress after 0\.5 s"):
        await make_async_client(handler).batches.wait("b1", timeout=0.5, poll_interval=0.01)
    assert handler.calls >= 2

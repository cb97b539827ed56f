"""A fine-tuning job in OpenAI's dialect, end to end on each real engine with the official
client: file upload (purpose fine-tune), job, events with the loss, one checkpoint per epoch,
and the fine-tuned model answering a chat by its name, listed with its parent."""

from __future__ import annotations

import json
import time

import pytest

from tests.integration.lora_data import HELD_OUT, styled
from tokenfactory.config import DEFAULT_CHAT_MODEL

pytestmark = pytest.mark.integration


def test_an_openai_fine_tuning_job_trains_and_serves_its_model(engine_server):
    from openai import OpenAI

    client = OpenAI(base_url=engine_server.base_url, api_key=engine_server.api_key)
    data = "".join(json.dumps(row) + "\n" for row in styled("Arr!")).encode()
    training = client.files.create(file=("pirate.jsonl", data), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model=DEFAULT_CHAT_MODEL,
        training_file=training.id,
        suffix="pirate",
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 1}}},
    )
    deadline = time.monotonic() + 900
    while job.status not in ("succeeded", "failed", "cancelled"):
        assert time.monotonic() < deadline, job.status
        time.sleep(0.5)
        job = client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "succeeded", job.error
    assert job.fine_tuned_model and job.fine_tuned_model.startswith("ft-pirate-")
    events = client.fine_tuning.jobs.list_events(job.id, limit=1000).data
    losses = [
        e.data["train_loss"] for e in events if e.type == "metrics" and e.data.get("train_loss")
    ]
    assert losses and all(loss > 0 for loss in losses)
    (checkpoint,) = client.fine_tuning.jobs.checkpoints.list(job.id).data
    assert checkpoint.fine_tuned_model_checkpoint == f"{job.fine_tuned_model}@epoch-1"
    listed = {m.id: m for m in client.models.list().data}
    assert job.fine_tuned_model in listed
    reply = client.chat.completions.create(
        model=job.fine_tuned_model,
        messages=[{"role": "user", "content": HELD_OUT[0]}],
        max_tokens=8,
        temperature=0,
    )
    assert reply.model == job.fine_tuned_model
    assert reply.choices[0].message.content

"""A fine-tuning job in OpenAI's dialect, end to end on each real engine with the official
client: file upload (purpose fine-tune), job, events with the loss, one checkpoint per epoch,
and the fine-tuned model answering a chat by its name, listed with its parent. Then the
workbench on that job: its checkpoint answers by name, ``tf.evaluate`` runs the base, the
checkpoint and the final adapter in one call, and ``promote`` serves the checkpoint under the
adapter's name."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.lora_data import HELD_OUT, styled
from tokenfactory.config import DEFAULT_CHAT_MODEL

pytestmark = pytest.mark.integration


@dataclass
class Trained:
    server: Any  # the engine's live server
    openai: Any  # the official client on it
    job: Any  # the succeeded fine_tuning.job


@pytest.fixture(scope="module")
def trained(engine_server) -> Trained:
    """One 1-epoch job per engine, shared by this module's tests."""
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
    return Trained(engine_server, client, job)


def test_an_openai_fine_tuning_job_trains_and_serves_its_model(trained):
    client, job = trained.openai, trained.job
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


def test_its_checkpoint_answers_is_evaluated_beside_the_base_and_is_promoted(trained):
    import pandas as pd

    import tokenfactory as tf
    from tokenfactory.sdk import TokenFactory

    name = trained.job.fine_tuned_model
    checkpoint = f"{name}@epoch-1"
    reply = trained.openai.chat.completions.create(
        model=checkpoint,
        messages=[{"role": "user", "content": HELD_OUT[1]}],
        max_tokens=8,
        temperature=0,
    )
    assert reply.model == checkpoint and reply.choices[0].message.content

    data = pd.DataFrame(
        {"question": HELD_OUT[:2], "reference": ["Arr! The Pacific.", "Arr! A guitar."]}
    )
    server = trained.server
    with TokenFactory(base_url=server.base_url, api_key=server.api_key) as client:
        candidates = tf.checkpoints(name, client=client)
        assert list(candidates) == ["base", "epoch-1", name]
        assert candidates["epoch-1"].model == checkpoint
        result = tf.evaluate(
            data,
            candidates,
            ["exact_match", tf.metrics.regex(r"^\s*Arr!", name="styled")],
            template="{question}",
            max_tokens=8,
            interactive=True,
            client=client,
            progress=False,
        )
        frame = result.frame
        assert frame["error"].isna().all(), frame["error"].tolist()
        assert len(frame) == 6 and set(frame["candidate"]) == {"base", "epoch-1", name}
        assert frame["answer"].str.strip().str.len().gt(0).all()
        assert frame["exact_match"].isin([0.0, 1.0]).all()
        assert frame["styled"].isin([0.0, 1.0]).all()
        summary = result.summary(baseline="base")
        assert list(summary.index) == ["base", "epoch-1", name]
        assert {"styled", "styled_diff", "exact_match"} <= set(summary.columns)

        promoted = client.adapters.promote(name, "epoch-1")
        assert promoted.name == name and promoted.status == "succeeded" and promoted.loaded
        events = [e.message for e in client.adapters.events(name).data if e.message]
        assert "promoted the checkpoint of epoch 1" in events
        answer = client.chat.completions.create(
            model=name,
            messages=[{"role": "user", "content": HELD_OUT[1]}],
            max_tokens=8,
            temperature=0.0,
        )
        assert answer.model == name and answer.choices[0].message.content

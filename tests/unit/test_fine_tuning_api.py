"""OpenAI's fine-tuning dialect on the fake engine, driven by the official client: files with
purpose fine-tune validated on upload, jobs created on the LoRA jobs, listed, paged, cancelled,
their events, validation of every parameter, and workspaces kept apart."""

from __future__ import annotations

import json
import time

import pytest

MODEL = "test/chat"


def example(i: int, answer: str | None = None) -> dict:
    return {
        "messages": [
            {"role": "user", "content": f"question {i}"},
            {"role": "assistant", "content": answer or f"answer {i}"},
        ]
    }


def jsonl(rows: list) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


GOOD = jsonl([example(i) for i in range(12)])


@pytest.fixture
def client(api, fake_gateway):
    from openai import OpenAI

    return OpenAI(base_url="http://testserver/v1", api_key=fake_gateway.test_key, http_client=api)


def upload(client, data: bytes = GOOD):
    return client.files.create(file=("train.jsonl", data), purpose="fine-tune")


def test_a_bad_training_file_is_refused_on_upload_naming_each_line(api):
    bad = jsonl([example(1), "{not json", {"messages": [{"role": "user", "content": "only"}]}])
    r = api.post("/v1/files", files={"file": ("t.jsonl", bad)}, data={"purpose": "fine-tune"})
    assert r.status_code == 400
    error = r.json()["error"]
    assert [line["line"] for line in error["lines"]] == [2, 3]
    assert "assistant" in error["lines"][1]["reason"]


def test_a_job_is_created_on_a_lora_job_and_listed_in_openais_shape(client, api):
    training = upload(client)
    assert training.purpose == "fine-tune"
    job = client.fine_tuning.jobs.create(
        model=MODEL,
        training_file=training.id,
        suffix="support",
        seed=7,
        metadata={"team": "a"},
        method={
            "type": "supervised",
            "supervised": {"hyperparameters": {"n_epochs": 2, "learning_rate_multiplier": 2}},
        },
    )
    assert job.id.startswith("ftjob-") and job.object == "fine_tuning.job"
    assert job.model == MODEL and job.training_file == training.id
    assert job.status in ("validating_files", "queued", "running", "failed")
    assert job.user_provided_suffix == "support" and job.seed == 7
    assert job.metadata == {"team": "a"} and job.fine_tuned_model is None
    assert job.hyperparameters.n_epochs == 2
    assert job.hyperparameters.learning_rate_multiplier == pytest.approx(2)
    assert job.method.supervised.hyperparameters.n_epochs == 2
    # the same job through the adapters dialect
    adapters = api.get("/v1/adapters").json()["data"]
    (adapter,) = [a for a in adapters if a["name"].startswith("ft-support-")]
    assert adapter["hyperparameters"]["epochs"] == 2
    assert adapter["hyperparameters"]["learning_rate"] == pytest.approx(4e-4)
    assert client.fine_tuning.jobs.retrieve(job.id).id == job.id
    assert [j.id for j in client.fine_tuning.jobs.list()] == [job.id]
    events = client.fine_tuning.jobs.list_events(job.id)
    assert events.data and all(e.object == "fine_tuning.job.event" for e in events.data)
    assert any("queued" in e.message for e in events.data)


def test_a_job_that_fails_says_why_and_cancel_answers_in_the_dialect(client, fake_gateway):
    ended = []
    fake_gateway.job_observers.append(ended.append)
    training = upload(client)
    job = client.fine_tuning.jobs.create(model=MODEL, training_file=training.id)
    deadline = time.monotonic() + 60
    while job.status not in ("succeeded", "failed", "cancelled"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
        job = client.fine_tuning.jobs.retrieve(job.id)
    # the fake engine's model has no weights to train: the job fails and says so
    assert job.status == "failed" and job.error is not None and job.error.message
    assert job.finished_at is not None
    from openai import BadRequestError

    with pytest.raises(BadRequestError, match="only a queued or running job"):
        client.fine_tuning.jobs.cancel(job.id)
    # the job's webhook event names it as OpenAI's do: by its ftjob- id
    assert [(e.type, e.job_id) for e in ended] == [("fine_tuning.job.failed", job.id)]


def test_jobs_page_newest_first(client):
    training = upload(client)
    ids = [
        client.fine_tuning.jobs.create(model=MODEL, training_file=training.id).id for _ in range(3)
    ]
    first = client.fine_tuning.jobs.list(limit=2)
    assert [j.id for j in first.data] == [ids[2], ids[1]] and first.has_more
    rest = client.fine_tuning.jobs.list(limit=2, after=ids[1])
    assert [j.id for j in rest.data] == [ids[0]] and not rest.has_more


def test_parameters_are_checked_before_anything_is_created(client, api):
    from openai import BadRequestError, NotFoundError

    training = upload(client)
    batch_file = client.files.create(
        file=("b.jsonl", jsonl([{"custom_id": "a", "body": {"model": MODEL, "messages": []}}])),
        purpose="batch",
    )
    with pytest.raises(BadRequestError, match="purpose 'batch'") as bad_file:
        client.fine_tuning.jobs.create(model=MODEL, training_file=batch_file.id)
    assert bad_file.value.body["param"] == "training_file"
    with pytest.raises(BadRequestError, match="learning rate"):
        client.fine_tuning.jobs.create(
            model=MODEL, training_file=training.id, hyperparameters={"learning_rate_multiplier": 50}
        )
    with pytest.raises(BadRequestError) as epochs:
        client.fine_tuning.jobs.create(
            model=MODEL, training_file=training.id, hyperparameters={"n_epochs": 99}
        )
    assert epochs.value.body["param"] == "hyperparameters.n_epochs"
    with pytest.raises(BadRequestError, match="'model'") as model:
        client.fine_tuning.jobs.create(model="no/such-model", training_file=training.id)
    assert model.value.body["param"] == "model"
    with pytest.raises(NotFoundError):
        client.fine_tuning.jobs.create(model=MODEL, training_file="file-nope")
    few = upload(client, jsonl([example(i) for i in range(3)]))
    with pytest.raises(BadRequestError, match="at least 10"):
        client.fine_tuning.jobs.create(model=MODEL, training_file=few.id)
    too_long = upload(client, jsonl([example(i) for i in range(11)] + [example(99, "x" * 3000)]))
    with pytest.raises(BadRequestError, match="longer than the base model's context") as long:
        client.fine_tuning.jobs.create(model=MODEL, training_file=too_long.id)
    assert [line["line"] for line in long.value.body["lines"]] == [12]
    # nothing was left behind by the refused jobs
    assert api.get("/v1/adapters").json()["data"] == []
    assert client.fine_tuning.jobs.list().data == []


def test_another_workspace_sees_no_job(client, api, fake_gateway):
    training = upload(client)
    job = client.fine_tuning.jobs.create(model=MODEL, training_file=training.id)
    _, other = fake_gateway.keys.create_key("team-b")
    theirs = {"Authorization": f"Bearer {other}"}
    assert api.get(f"/v1/fine_tuning/jobs/{job.id}", headers=theirs).status_code == 404
    assert api.get("/v1/fine_tuning/jobs", headers=theirs).json()["data"] == []
    denied = api.post(
        "/v1/fine_tuning/jobs",
        json={"model": MODEL, "training_file": training.id},
        headers=theirs,
    )
    assert denied.status_code == 404

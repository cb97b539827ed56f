"""client.adapters against a live gateway over the fake engine (no training here)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.widgets.live import live_gateway
from tokenfactory.lora.service import LoraService
from tokenfactory.sdk import BadRequestError, NotFoundError, TokenFactory
from tokenfactory.sdk._jsonl import training_jsonl


@pytest.fixture
def live(tf_home):
    with live_gateway(tf_home) as gateway:
        yield gateway


@pytest.fixture
def client(live):
    with TokenFactory(base_url=live.base_url, api_key=live.api_key) as c:
        yield c


def frame(n: int = 12) -> pd.DataFrame:
    return pd.DataFrame(
        {"prompt": [f"q{i}" for i in range(n)], "completion": [f"Arr! a{i}" for i in range(n)]}
    )


def test_training_data_forms_become_the_same_jsonl(tmp_path):
    df = frame(2)
    expected = [
        {
            "messages": [
                {"role": "user", "content": f"q{i}"},
                {"role": "assistant", "content": f"Arr! a{i}"},
            ]
        }
        for i in range(2)
    ]
    as_messages = pd.DataFrame({"messages": [e["messages"] for e in expected]})
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in expected))
    for data in (df, as_messages, expected, [e["messages"] for e in expected], path, str(path)):
        lines = training_jsonl(data).decode().splitlines()
        assert [json.loads(line) for line in lines] == expected


def test_create_upload_list_retrieve_delete(client):
    adapter = client.adapters.create("pirate-v1", display_name="Pirate", epochs=2, rank=8)
    assert adapter.status == "created" and adapter.hyperparameters.alpha == 16
    uploaded = client.adapters.upload_training_data(adapter, frame())
    assert uploaded.training_examples == 12
    uploaded = client.adapters.upload_validation_data("pirate-v1", frame(3))
    assert uploaded.validation_examples == 3
    assert [a.name for a in client.adapters.list().data] == ["pirate-v1"]
    assert client.adapters.retrieve("pirate-v1").display_name == "Pirate"
    events = client.adapters.events("pirate-v1")
    assert [e.message for e in events.data] == [
        "training data uploaded: 12 examples",
        "validation data uploaded: 3 examples",
    ]
    assert len(events.to_pandas()) == 2
    assert client.adapters.delete("pirate-v1").deleted
    with pytest.raises(NotFoundError):
        client.adapters.retrieve("pirate-v1")


def test_errors_name_the_field_and_the_lines(client):
    with pytest.raises(BadRequestError) as info:
        client.adapters.create("x", learning_rate=0.5)
    assert "learning_rate" in info.value.message
    client.adapters.create("y")
    with pytest.raises(BadRequestError) as info:
        client.adapters.upload_training_data("y", frame(3))
    assert "at least 10" in info.value.message


def test_wait_returns_a_finished_adapter(client, live):
    client.adapters.create("done-v1")
    lora = live.core.installed[LoraService]
    record = lora.repository.find(live.core.keys.authenticate(live.api_key).workspace.id, "done-v1")
    lora.repository.update(record.id, status="failed", error="boom")
    finished = client.adapters.wait("done-v1", timeout=10, poll_interval=0.05)
    assert finished.status == "failed" and finished.error == "boom"


def test_batch_jobs_call_adapters_of_their_workspace(client, live, tmp_path):
    folder = tmp_path / "peft"
    folder.mkdir()
    config = {"peft_type": "LORA", "r": 8, "lora_alpha": 16, "base_model_name_or_path": "test/chat"}
    (folder / "adapter_config.json").write_text(json.dumps(config))
    (folder / "adapter_model.safetensors").write_bytes(b"weights")
    adapter = client.adapters.import_folder("brought", folder)
    assert adapter.status == "succeeded" and adapter.loaded
    messages = [{"role": "user", "content": "x"}]
    rows = [
        {"custom_id": f"r{i}", "body": {"model": model, "messages": messages}}
        for i, model in enumerate(["brought", "test/chat"])
    ]
    job = client.batches.create(rows)
    job = client.batches.wait(job.id, timeout=30)
    results = {r.custom_id: r.response for r in client.batches.results(job.id)}
    assert results["r0"] is not None and results["r0"].body is not None
    assert results["r0"].body["model"] == "brought"
    adapters_used = sorted(str(r.adapter) for r in live.engine.requests)
    assert adapters_used == sorted([adapter.id, "None"])

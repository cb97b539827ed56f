"""client.batches against a real gateway app (fake engine): create from a file, a list, a
DataFrame; wait; results; to_pandas; cancel; list."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tokenfactory.batch.service import BatchService
from tokenfactory.sdk import TokenFactory
from tokenfactory.sdk._jsonl import batch_jsonl

MODEL = "test/chat"


@pytest.fixture
def client(api, fake_gateway):
    return TokenFactory(
        base_url="http://testserver/v1", api_key=fake_gateway.test_key, http_client=api
    )


def test_dataframe_with_template_round_trips(client, fake_engine):
    df = pd.DataFrame({"city": ["Paris", "Oslo", "Lima"], "n": [1, 2, 3]}, index=[10, 11, 12])
    job = client.batches.create(
        df, template="Tell me about {city} in {n} words", model=MODEL, max_tokens=4, sla="1h"
    )
    assert job.status == "queued" and job.total_requests == 3
    job.wait(poll_interval=0.05, progress=False)
    assert job.status == "completed" and job.completed_requests == 3
    prompts = sorted(r.prompt_token_ids for r in fake_engine.requests)
    assert any("Tell me about Oslo in 2 words" in "".join(map(chr, p)) for p in prompts)
    frame = job.to_pandas()
    assert list(frame["custom_id"]) == ["10", "11", "12"]
    assert list(frame["response"]) == ["Hell"] * 3
    assert frame["error"].isna().all() and (frame["completion_tokens"] == 4).all()
    joined = df.assign(custom_id=df.index.astype(str)).merge(frame, on="custom_id")
    assert len(joined) == 3 and joined.loc[joined.city == "Lima", "status_code"].item() == 200


def test_file_path_and_list_inputs(client, tmp_path):
    path = tmp_path / "in.jsonl"
    rows = [
        {
            "custom_id": f"a{i}",
            "body": {"model": MODEL, "messages": [{"role": "user", "content": "x"}]},
        }
        for i in range(2)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    job = client.batches.create(str(path)).wait(poll_interval=0.05, progress=False)
    assert [r.custom_id for r in job.results()] == ["a0", "a1"]
    bodies = [{"model": MODEL, "messages": [{"role": "user", "content": "y"}]}] * 2
    job2 = client.batches.create(bodies, max_tokens=2).wait(poll_interval=0.05, progress=False)
    out = list(client.batches.results(job2.id))
    assert [r.custom_id for r in out] == ["request-0", "request-1"]
    assert out[0].response is not None and out[0].response.status_code == 200
    assert out[0].response.body is not None
    assert out[0].response.body["usage"]["completion_tokens"] == 2
    listed = client.batches.list(limit=10)
    assert [j.id for j in listed][:2] == [job2.id, job.id]


def test_failed_lines_show_in_the_error_column(client, fake_engine, fake_gateway):
    fake_engine.delay = 0.01
    fake_gateway.installed[BatchService].runner.max_in_flight = 1
    bodies = [{"model": MODEL, "messages": [{"role": "user", "content": "q"}]}] * 30
    job = client.batches.create(bodies)
    job.cancel()
    job.wait(poll_interval=0.05, progress=False)
    assert job.status == "cancelled"
    frame = job.to_pandas()
    assert len(frame) == 30
    cancelled = frame[frame["error"].notna()]
    assert len(cancelled) >= 1 and cancelled["error"].str.startswith("batch_cancelled").all()
    assert cancelled["response"].isna().all()


def test_bad_file_raises_a_bad_request_with_line_numbers(client):
    from tokenfactory.sdk import BadRequestError

    with pytest.raises(BadRequestError, match="line 2: not valid JSON"):
        client.batches.create(
            b'{"custom_id": "a", "body": {"model": "test/chat", "messages": []}}\nnope\n'
        )


def test_build_jsonl_needs_a_template_for_a_dataframe():
    with pytest.raises(ValueError, match="template"):
        batch_jsonl(pd.DataFrame({"a": [1]}))
    assert batch_jsonl([{"custom_id": "x", "body": {}}]) == b'{"custom_id": "x", "body": {}}\n'

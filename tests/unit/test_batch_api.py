"""Batch jobs over HTTP on the fake engine: both dialects, validation, cancel, expiry, isolation."""

from __future__ import annotations

import json
import time

import pytest

from tokenfactory.batch.service import BatchService
from tokenfactory.engine.protocol import PRIORITY_BATCH_1H

MODEL = "test/chat"


def jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def chat_line(i: int, **body) -> dict:
    return {
        "custom_id": f"req-{i}",
        "body": {"model": MODEL, "messages": [{"role": "user", "content": f"hi {i}"}], **body},
    }


def submit(api, rows, sla="24h"):
    return api.post("/v1/batch", files={"file": ("b.jsonl", jsonl(rows))}, data={"sla": sla})


def wait_for(api, batch_id, statuses=("completed", "failed", "cancelled", "expired"), timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/v1/batch/{batch_id}").json()
        if job["status"] in statuses:
            return job
        time.sleep(0.05)
    raise AssertionError(f"batch stuck in {job['status']}")


def results(api, batch_id) -> list[dict]:
    r = api.get(f"/v1/batch/{batch_id}/results")
    assert r.status_code == 200
    return [json.loads(line) for line in r.text.splitlines()]


def test_submit_runs_every_line_once_in_openai_output_shape(api, fake_engine, fake_gateway):
    usage = []
    fake_gateway.usage_observers.append(usage.append)
    rows = [chat_line(i, max_tokens=5) for i in range(7)]
    rows.append(
        {
            "custom_id": "c",
            "method": "POST",
            "url": "/v1/completions",
            "body": {"model": MODEL, "prompt": "abc", "max_tokens": 3},
        }
    )
    rows.append(
        {"custom_id": "e", "url": "/v1/embeddings", "body": {"model": "test/embed", "input": "x"}}
    )
    r = submit(api, rows, sla="1h")
    assert r.status_code == 200, r.text
    created = r.json()
    assert created["status"] == "queued" and created["total_requests"] == 9
    assert created["id"].startswith("batch_") and created["created_at"].endswith("Z")
    job = wait_for(api, created["id"])
    assert job["status"] == "completed"
    assert (job["completed_requests"], job["failed_requests"]) == (9, 0)
    assert job["started_at"] and job["completed_at"] and job["expires_at"]
    out = {r["custom_id"]: r for r in results(api, created["id"])}
    assert sorted(out) == sorted(row["custom_id"] for row in rows)
    first = out["req-0"]
    assert first["id"].startswith("batch_req_") and first["error"] is None
    assert first["response"]["status_code"] == 200
    assert first["response"]["body"]["choices"][0]["message"]["content"] == "Hello"
    assert out["c"]["response"]["body"]["object"] == "text_completion"
    assert len(out["e"]["response"]["body"]["data"][0]["embedding"]) == 3
    priorities = {req.priority for req in fake_engine.requests}
    assert priorities == {PRIORITY_BATCH_1H}
    assert {u.tier for u in usage} == {"batch_1h"} and len(usage) == 9
    assert sum(u.completion_tokens for u in usage if u.endpoint == "/v1/chat/completions") == 35


def test_validation_lists_every_bad_line_with_its_number(api):
    lines = [
        json.dumps(chat_line(1)),
        "{not json",
        json.dumps({"body": chat_line(2)["body"]}),
        json.dumps(chat_line(1)),
        json.dumps({"custom_id": "u", "url": "/v1/images", "body": {}}),
        json.dumps(chat_line(5, temperature=5)),
        json.dumps({"custom_id": "m", "body": {**chat_line(0)["body"], "model": "nope/missing"}}),
        json.dumps(chat_line(7, stream=True)),
        json.dumps({"custom_id": "nb"}),
    ]
    r = api.post("/v1/batch", files={"file": ("b.jsonl", "\n".join(lines).encode())})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "invalid_batch" and err["type"] == "invalid_request"
    msg = err["message"]
    assert "8 invalid lines" in msg
    for expected in (
        "line 2: not valid JSON",
        "line 3: missing 'custom_id'",
        "line 4: duplicate custom_id 'req-1' (first on line 1)",
        "line 5: unknown endpoint '/v1/images'",
        "line 6: Invalid value for 'temperature'",
        "line 7: The model 'nope/missing' does not exist",
        "line 8: 'stream' is not supported",
        "line 9: missing 'body'",
    ):
        assert expected in msg, (expected, msg)
    assert api.get("/v1/batch").json()["data"] == []  # nothing was stored


def test_many_bad_lines_report_the_first_fifty(api):
    r = api.post("/v1/batch", files={"file": ("b.jsonl", b"x\n" * 80)})
    msg = r.json()["error"]["message"]
    assert "80 invalid lines" in msg and "line 50:" in msg and "line 51:" not in msg
    assert "and 30 more invalid lines" in msg


def test_empty_oversized_and_too_long_files_are_rejected(api, fake_gateway):
    r = api.post("/v1/batch", files={"file": ("b.jsonl", b"\n  \n")})
    assert r.status_code == 400 and r.json()["error"]["code"] == "empty_file"
    service = fake_gateway.installed[BatchService]
    from tokenfactory.batch.validation import Limits

    service.limits = Limits(max_lines=3, max_bytes=10_000)
    r = submit(api, [chat_line(i) for i in range(4)])
    assert r.status_code == 400 and r.json()["error"]["code"] == "too_many_requests"
    assert "limit is 3" in r.json()["error"]["message"]
    r = api.post("/v1/batch", files={"file": ("b.jsonl", b"x" * 20_000)})
    assert r.status_code == 400 and r.json()["error"]["code"] == "file_too_large"
    r = submit(api, [chat_line(1)], sla="2h")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_sla"
    r = api.post("/v1/batch", json={"file": "x"})
    assert r.status_code == 400 and "multipart" in r.json()["error"]["message"]


def test_cancel_keeps_finished_results(api, fake_engine, fake_gateway):
    fake_engine.delay = 0.01  # ~0.3 s per line
    fake_gateway.installed[BatchService].runner.max_in_flight = 2
    r = submit(api, [chat_line(i) for i in range(40)])
    batch_id = r.json()["id"]
    deadline = time.monotonic() + 20
    while api.get(f"/v1/batch/{batch_id}").json()["completed_requests"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    r = api.delete(f"/v1/batch/{batch_id}")
    assert r.status_code == 200 and r.json()["status"] in ("cancelling", "cancelled")
    job = wait_for(api, batch_id)
    assert job["status"] == "cancelled" and job["cancelled_at"]
    done = job["completed_requests"]
    assert 2 <= done < 40
    out = results(api, batch_id)
    assert len(out) == 40 and len({r["custom_id"] for r in out}) == 40
    ok = [r for r in out if r["error"] is None]
    assert len(ok) == done
    assert {r["error"]["code"] for r in out if r["error"]} == {"batch_cancelled"}
    # cancelling a finished job changes nothing
    assert api.delete(f"/v1/batch/{batch_id}").json()["status"] == "cancelled"


def test_unfinished_lines_expire_at_the_deadline(api, fake_engine, fake_gateway):
    fake_engine.delay = 0.01
    service = fake_gateway.installed[BatchService]
    service.deadline_s = 1.5
    service.runner.max_in_flight = 1
    r = submit(api, [chat_line(i) for i in range(30)], sla="1h")
    job = wait_for(api, r.json()["id"])
    assert job["status"] == "expired"
    assert job["completed_requests"] >= 1
    assert job["completed_requests"] + job["failed_requests"] == 30
    out = results(api, r.json()["id"])
    expired = [r for r in out if r["error"]]
    assert len(expired) == job["failed_requests"]
    assert {r["error"]["code"] for r in expired} == {"batch_expired"}


def test_a_batch_is_visible_only_to_its_workspace(api, fake_gateway):
    batch_id = submit(api, [chat_line(1)]).json()["id"]
    wait_for(api, batch_id)
    fake_gateway.keys.create_workspace("other")
    _, key = fake_gateway.keys.create_key("other", name="o")
    other = {"Authorization": f"Bearer {key}"}
    for method, path in (
        ("get", f"/v1/batch/{batch_id}"),
        ("get", f"/v1/batch/{batch_id}/results"),
        ("delete", f"/v1/batch/{batch_id}"),
        ("get", f"/v1/batches/{batch_id}"),
        ("post", f"/v1/batches/{batch_id}/cancel"),
    ):
        r = getattr(api, method)(path, headers=other)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["error"]["code"] == "batch_not_found"
    assert api.get("/v1/batch", headers=other).json()["data"] == []
    assert api.get("/v1/batch").json()["data"][0]["id"] == batch_id


def test_list_is_newest_first_and_paginated(api):
    ids = [submit(api, [chat_line(i)]).json()["id"] for i in range(3)]
    page = api.get("/v1/batch", params={"limit": 2}).json()
    assert [j["id"] for j in page["data"]] == ids[::-1][:2] and page["has_more"]
    rest = api.get("/v1/batch", params={"limit": 2, "after": page["last_id"]}).json()
    assert [j["id"] for j in rest["data"]] == [ids[0]] and not rest["has_more"]
    exact = api.get("/v1/batch", params={"limit": 3}).json()
    assert len(exact["data"]) == 3 and not exact["has_more"]
    assert api.get("/v1/batch", params={"limit": 0}).status_code == 400


@pytest.mark.parametrize("endpoint", ["/v1/chat/completions", "/v1/completions"])
def test_openai_client_files_and_batches_flow(api, fake_gateway, endpoint):
    from openai import OpenAI

    client = OpenAI(base_url="http://testserver/v1", api_key=fake_gateway.test_key, http_client=api)
    if endpoint == "/v1/completions":
        rows = [
            {
                "custom_id": f"r{i}",
                "method": "POST",
                "url": endpoint,
                "body": {"model": MODEL, "prompt": f"p{i}", "max_tokens": 4},
            }
            for i in range(3)
        ]
    else:
        rows = [{**chat_line(i), "method": "POST", "url": endpoint} for i in range(3)]
    uploaded = client.files.create(file=("in.jsonl", jsonl(rows)), purpose="batch")
    assert uploaded.purpose == "batch" and uploaded.bytes == len(jsonl(rows))
    batch = client.batches.create(
        input_file_id=uploaded.id, endpoint=endpoint, completion_window="24h"
    )
    assert batch.status == "queued" and batch.input_file_id == uploaded.id
    deadline = time.monotonic() + 20
    while batch.status not in ("completed", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
        batch = client.batches.retrieve(batch.id)
    assert batch.request_counts.completed == 3 and batch.error_file_id is None
    content = client.files.content(batch.output_file_id).text
    lines = [json.loads(x) for x in content.splitlines()]
    assert sorted(x["custom_id"] for x in lines) == sorted(r["custom_id"] for r in rows)
    assert batch.id in [b.id for b in client.batches.list()]
    assert client.files.content(uploaded.id).content == jsonl(rows)


def test_openai_dialect_errors(api, fake_gateway):
    from openai import BadRequestError, NotFoundError, OpenAI

    client = OpenAI(base_url="http://testserver/v1", api_key=fake_gateway.test_key, http_client=api)
    with pytest.raises(NotFoundError):
        client.batches.create(
            input_file_id="file-nope", endpoint="/v1/chat/completions", completion_window="24h"
        )
    rows = [{**chat_line(1), "url": "/v1/embeddings"}]
    f = client.files.create(file=("in.jsonl", jsonl(rows)), purpose="batch")
    with pytest.raises(BadRequestError, match="does not match the batch's endpoint"):
        client.batches.create(
            input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
    with pytest.raises(BadRequestError, match="completion_window"):
        client.batches.create(input_file_id=f.id, endpoint="/v1/embeddings", completion_window="7d")


def test_openai_cancel_and_error_file(api, fake_engine, fake_gateway):
    from openai import OpenAI

    fake_engine.delay = 0.01
    fake_gateway.installed[BatchService].runner.max_in_flight = 1
    client = OpenAI(base_url="http://testserver/v1", api_key=fake_gateway.test_key, http_client=api)
    f = client.files.create(
        file=("in.jsonl", jsonl([chat_line(i) for i in range(20)])), purpose="batch"
    )
    batch = client.batches.create(
        input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="1h"
    )
    batch = client.batches.cancel(batch.id)
    assert batch.status in ("cancelling", "cancelled")
    deadline = time.monotonic() + 20
    while batch.status != "cancelled":
        assert time.monotonic() < deadline
        time.sleep(0.05)
        batch = client.batches.retrieve(batch.id)
    assert batch.cancelled_at and batch.error_file_id
    errors = client.files.content(batch.error_file_id).text.splitlines()
    assert len(errors) + batch.request_counts.completed == 20

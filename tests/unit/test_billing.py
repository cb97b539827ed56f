"""Prices per model (with the tier discounts on top), monthly token caps per workspace, and
usage attributed to end users, on the fake engine over HTTP."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tokenfactory.store import Store
from tokenfactory.usage.caps import month_bounds
from tokenfactory.usage.repository import UsageRepository

MODEL = "test/chat"


@pytest.fixture
def admin(fake_gateway) -> dict[str, str]:
    key = fake_gateway.keys.create_key("default", name="root", is_admin=True)[1]
    return {"Authorization": f"Bearer {key}"}


def chat(api, headers: dict | None = None, **body):
    return api.post(
        "/v1/chat/completions",
        json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}], **body},
        headers=headers or {},
    )


def usage_rows(fake_gateway) -> list[dict]:
    return fake_gateway.store.all("SELECT * FROM usage_records ORDER BY id")


def test_a_model_price_is_billed_and_recorded_with_each_row(api, admin, fake_gateway):
    assert chat(api, max_tokens=5).status_code == 200
    default = usage_rows(fake_gateway)[-1]
    assert default["input_price_pico"] == 100_000  # $0.10 per 1M: the real-time tier price
    r = api.put(
        f"/v1/admin/prices/models/{MODEL}", json={"input": 2.0, "output": 6.0}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert chat(api, max_tokens=5).status_code == 200
    row = usage_rows(fake_gateway)[-1]
    assert (row["input_price_pico"], row["output_price_pico"]) == (2_000_000, 6_000_000)
    expected = row["prompt_tokens"] * 2_000_000 + row["completion_tokens"] * 6_000_000
    assert row["cost_pico"] == expected
    listed = api.get("/v1/admin/prices", headers=admin).json()
    assert {"model": MODEL, "input": 2.0, "output": 6.0} in listed["data"]
    assert listed["unit"] == "usd_per_million_tokens"
    by_model = api.get("/v1/usage", params={"group_by": "model"}).json()["data"]
    assert {g["model"] for g in by_model} == {MODEL}


def test_batch_tiers_discount_a_model_price(api, admin):
    api.put(f"/v1/admin/prices/models/{MODEL}", json={"input": 2.0, "output": 4.0}, headers=admin)
    prices = api.get("/v1/prices", params={"model": MODEL}).json()
    assert prices["model"] == MODEL
    assert prices["data"]["realtime"] == {"input": 2.0, "output": 4.0}
    assert prices["data"]["batch_1h"] == pytest.approx({"input": 1.4, "output": 2.8})
    assert prices["data"]["batch_24h"] == pytest.approx({"input": 1.0, "output": 2.0})
    assert prices["models"][MODEL] == {"input": 2.0, "output": 4.0}
    unpriced = api.get("/v1/prices", params={"model": "other/model"}).json()
    assert unpriced["data"]["batch_24h"] == {"input": 0.05, "output": 0.05}


def test_a_model_lists_only_the_tiers_it_is_billed_at(api):
    chat_tiers = api.get("/v1/prices", params={"model": MODEL}).json()["data"]
    assert set(chat_tiers) == {"realtime", "batch_1h", "batch_24h"}
    embed_tiers = api.get("/v1/prices", params={"model": "test/embed"}).json()["data"]
    assert set(embed_tiers) == {"embeddings"}
    assert "embeddings" in api.get("/v1/prices").json()["data"]


def test_prices_are_admin_only_finite_and_can_be_unset(api, admin, fake_gateway):
    url = f"/v1/admin/prices/models/{MODEL}"
    assert api.put(url, json={"input": 1, "output": 1}).status_code == 403
    for bad in ({"input": -1, "output": 1}, {"input": 1e300, "output": 1}, {"input": "x"}):
        r = api.put(url, json=bad, headers=admin)
        assert r.status_code == 400, (bad, r.text)
    api.put(url, json={"input": 3, "output": 3}, headers=admin)
    listed = api.delete(url, headers=admin).json()["data"]
    assert MODEL not in {p["model"] for p in listed}
    chat(api, max_tokens=3)
    assert usage_rows(fake_gateway)[-1]["input_price_pico"] == 100_000


def test_a_monthly_cap_refuses_before_running_and_says_when_it_resets(api, admin, fake_gateway):
    cap = api.put(
        "/v1/admin/workspaces/default/monthly-cap", json={"monthly_tokens": 60}, headers=admin
    )
    assert cap.status_code == 200 and cap.json()["tokens"] == 60
    ok = chat(api, max_tokens=10)
    assert ok.status_code == 200
    assert ok.headers["x-monthly-token-cap"] == "60"
    used = ok.json()["usage"]["total_tokens"]
    assert int(ok.headers["x-monthly-tokens-remaining"]) <= 60
    engine_calls = len(fake_gateway.engine.requests)
    refused = chat(api, max_tokens=60)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "monthly_cap_exceeded" and "resets at" in error["message"]
    _, reset = month_bounds(fake_gateway.meter.clock())
    assert 0 < int(refused.headers["retry-after"]) <= reset - fake_gateway.meter.clock() + 1
    assert len(fake_gateway.engine.requests) == engine_calls  # never half-run
    summary = api.get("/v1/usage").json()["monthly_cap"]
    assert summary["tokens"] == 60 and summary["used"] == used
    # the next calendar month starts from zero
    next_month = dt.datetime.fromtimestamp(reset + 60, dt.timezone.utc).timestamp()
    fake_gateway.meter.clock = lambda: next_month
    assert chat(api, max_tokens=10).status_code == 200
    api.put(
        "/v1/admin/workspaces/default/monthly-cap", json={"monthly_tokens": None}, headers=admin
    )
    assert api.get("/v1/usage").json()["monthly_cap"] is None


def test_parallel_requests_cannot_overshoot_a_cap(api, admin, fake_gateway):
    api.put("/v1/admin/workspaces/default/monthly-cap", json={"monthly_tokens": 200}, headers=admin)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: chat(api, max_tokens=20), range(30)))
    statuses = {a.status_code for a in answers}
    assert statuses <= {200, 429} and 429 in statuses and 200 in statuses
    spent = sum(r["prompt_tokens"] + r["completion_tokens"] for r in usage_rows(fake_gateway))
    assert spent <= 200


def test_a_batch_larger_than_the_cap_left_is_refused_at_submission(api, admin):
    api.put("/v1/admin/workspaces/default/monthly-cap", json={"monthly_tokens": 100}, headers=admin)
    rows = [
        {"custom_id": f"r{i}", "body": {"model": MODEL, "max_tokens": 50,
                                        "messages": [{"role": "user", "content": "x"}]}}
        for i in range(5)
    ]  # fmt: skip
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    r = api.post("/v1/batch", files={"file": ("b.jsonl", data)}, data={"sla": "24h"})
    assert r.status_code == 429 and r.json()["error"]["code"] == "monthly_cap_exceeded"


def test_a_batch_that_meets_the_cap_mid_job_marks_the_lines_left_and_bills_none_of_them(
    api, admin, fake_gateway
):
    """The cap is lowered while a job runs: lines admitted before run and are billed; every
    line after is marked 429 ``monthly_cap_exceeded`` in the results, ran nowhere and costs
    nothing; the job still ends with a result per line."""
    import time

    cap_url = "/v1/admin/workspaces/default/monthly-cap"
    api.put(cap_url, json={"monthly_tokens": 100_000}, headers=admin)
    fake_gateway.engine.delay = 0.05  # each line takes a while: the cap moves mid-job
    rows = [
        {"custom_id": f"r{i}", "body": {"model": MODEL, "max_tokens": 8,
                                        "messages": [{"role": "user", "content": "x"}]}}
        for i in range(80)
    ]  # fmt: skip
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    job = api.post("/v1/batch", files={"file": ("b.jsonl", data)}, data={"sla": "24h"})
    assert job.status_code == 200, job.text
    batch_id = job.json()["id"]
    deadline = time.monotonic() + 30
    while api.get(f"/v1/batch/{batch_id}").json()["completed_requests"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    api.put(cap_url, json={"monthly_tokens": 1}, headers=admin)
    while (state := api.get(f"/v1/batch/{batch_id}").json())["status"] not in (
        "completed",
        "failed",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    results = [json.loads(x) for x in api.get(f"/v1/batch/{batch_id}/results").text.splitlines()]
    assert sorted(r["custom_id"] for r in results) == sorted(r["custom_id"] for r in rows)
    refused = [r for r in results if r["response"]["status_code"] == 429]
    ran = [r for r in results if r["response"]["status_code"] == 200]
    assert refused and ran and len(refused) + len(ran) == len(rows)
    assert {r["response"]["body"]["error"]["code"] for r in refused} == {"monthly_cap_exceeded"}
    assert state["failed_requests"] == len(refused)
    rows_by_status = {200: 0, 429: 0}
    for u in usage_rows(fake_gateway):
        rows_by_status[u["status"]] += 1
        if u["status"] == 429:
            assert u["prompt_tokens"] + u["completion_tokens"] == 0 and u["cost_pico"] == 0
    assert rows_by_status[200] == len(ran)


def test_caps_are_admin_only_and_bounded(api, admin):
    url = "/v1/admin/workspaces/default/monthly-cap"
    assert api.put(url, json={"monthly_tokens": 5}).status_code == 403
    for bad in (-1, 10**16, "5", True, 1.5):
        assert api.put(url, json={"monthly_tokens": bad}, headers=admin).status_code == 400, bad
    assert api.get("/v1/admin/workspaces/nope/monthly-cap", headers=admin).status_code == 404


def test_usage_is_attributed_to_the_user_field_or_header(api):
    assert chat(api, max_tokens=3, user="alice").status_code == 200
    assert chat(api, {"X-TF-User": "bob"}, max_tokens=3).status_code == 200
    assert chat(api, max_tokens=3).status_code == 200
    groups = api.get("/v1/usage", params={"group_by": "user"}).json()["data"]
    assert sorted(g["user"] for g in groups) == ["", "alice", "bob"]
    alice = api.get("/v1/usage", params={"user": "alice"}).json()["total"]
    assert alice["requests"] == 1


def test_an_older_usage_table_gains_the_new_columns(tmp_path):
    store = Store(tmp_path / "old.sqlite3")
    store.execute(
        "CREATE TABLE usage_records (id INTEGER PRIMARY KEY AUTOINCREMENT, workspace_id TEXT"
        " NOT NULL, key_id TEXT, request_id TEXT, endpoint TEXT NOT NULL, model TEXT NOT NULL,"
        " tier TEXT NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT"
        " NULL, cost_pico INTEGER NOT NULL, latency_ms REAL, ttft_ms REAL, status INTEGER NOT"
        " NULL, created_at REAL NOT NULL)"
    )
    UsageRepository(store)
    columns = {r["name"] for r in store.all("PRAGMA table_info(usage_records)")}
    assert {"input_price_pico", "output_price_pico", "user_id"} <= columns

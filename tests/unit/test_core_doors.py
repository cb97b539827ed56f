"""One core under every door: a batch line gets exactly what the HTTP request gets, and a
feature that is not installed is a 503 in the API's error shape, never a 500."""

from __future__ import annotations

import json
import time

import pytest

EMBED = "test/embed"
EMBEDDING_BODIES = {
    "too-many-dimensions": {"model": EMBED, "input": ["a", "b"], "dimensions": 5},
    "too-many-inputs": {"model": EMBED, "input": ["x"] * 2049},
    "an-empty-text": {"model": EMBED, "input": ["fine", ""]},
    "fewer-dimensions": {"model": EMBED, "input": ["a", "bb"], "dimensions": 2},
    "base64": {"model": EMBED, "input": "abc", "encoding_format": "base64"},
}


def run_batch(api, rows: list[dict]) -> dict[str, dict]:
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    r = api.post("/v1/batch", files={"file": ("b.jsonl", data)}, data={"sla": "1h"})
    assert r.status_code == 200, r.text
    batch_id = r.json()["id"]
    deadline = time.monotonic() + 30
    while api.get(f"/v1/batch/{batch_id}").json()["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline, "the batch did not finish"
        time.sleep(0.05)
    lines = api.get(f"/v1/batch/{batch_id}/results").text.splitlines()
    return {r["custom_id"]: r["response"] for r in map(json.loads, lines)}


def test_batch_embeddings_lines_get_the_same_checks_and_answers_as_http(api):
    rows = [
        {"custom_id": name, "url": "/v1/embeddings", "body": body}
        for name, body in EMBEDDING_BODIES.items()
    ]
    by_line = run_batch(api, rows)
    for name, body in EMBEDDING_BODIES.items():
        http = api.post("/v1/embeddings", json=body)
        line = by_line[name]
        assert line["status_code"] == http.status_code, (name, line, http.text)
        if http.status_code == 200:
            assert line["body"]["data"] == http.json()["data"], name
            assert line["body"]["usage"] == http.json()["usage"], name
        else:
            assert line["body"]["error"] == http.json()["error"], name
    assert by_line["too-many-dimensions"]["status_code"] == 400
    assert by_line["too-many-dimensions"]["body"]["error"]["param"] == "dimensions"
    assert by_line["too-many-inputs"]["status_code"] == 400
    assert len(by_line["fewer-dimensions"]["body"]["data"][0]["embedding"]) == 2


def test_failed_batch_lines_are_metered_like_failed_requests(api, fake_gateway):
    """A refused line leaves a zero-token usage row with its status, as an HTTP failure does."""
    seen = []
    fake_gateway.usage_observers.append(seen.append)
    body = EMBEDDING_BODIES["too-many-dimensions"]
    assert api.post("/v1/embeddings", json=body).status_code == 400
    run_batch(api, [{"custom_id": "x", "url": "/v1/embeddings", "body": body}])
    assert [(u.status, u.tier, u.prompt_tokens) for u in seen] == [
        (400, "embeddings", 0),
        (400, "batch_1h", 0),
    ]


@pytest.fixture
def bare_api(fake_engine, tf_home):
    """A core with no features installed (no usage, batch, LoRA, limits or metrics)."""
    from fastapi.testclient import TestClient

    from tokenfactory.core import Core
    from tokenfactory.gateway.app import create_app
    from tokenfactory.store import Store

    core = Core(fake_engine, Store(tf_home / "bare.sqlite3"))
    _, key = core.keys.create_key("default", name="test", is_admin=True)
    with TestClient(create_app(core), headers={"Authorization": f"Bearer {key}"}) as client:
        client.portal.call(core.start_engine)
        yield client


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/v1/usage"),
        ("GET", "/v1/usage/timeseries"),
        ("GET", "/metrics"),
        ("GET", "/v1/adapters"),
        ("GET", "/v1/batches"),
        ("GET", "/v1/batch"),
        ("GET", "/v1/admin/workspaces/default/usage"),
        ("POST", "/v1/admin/workspaces"),
    ],
)
def test_a_feature_that_is_not_installed_is_a_503_not_a_500(bare_api, method, path):
    r = bare_api.request(method, path, json={"name": "w2"} if method == "POST" else None)
    assert r.status_code == 503, r.text
    error = r.json()["error"]
    assert error["type"] == "service_unavailable" and "not enabled" in error["message"]


def test_a_bare_core_still_serves_inference(bare_api):
    body = {"model": "test/chat", "messages": [{"role": "user", "content": "hi"}]}
    assert bare_api.post("/v1/chat/completions", json=body).status_code == 200
    assert bare_api.post("/v1/embeddings", json={"model": EMBED, "input": "x"}).status_code == 200

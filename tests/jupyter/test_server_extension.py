"""The server extension's handlers, against a real Jupyter server and a real HTTP gateway."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import nbformat
import pytest

from tests.widgets.live import live_gateway
from tokenfactory.batch.service import BatchService
from tokenfactory.discovery import write_discovery


def announce(base_url: str, api_key: str, *, pid: int | None = None) -> str:
    port = int(base_url.rsplit(":", 1)[1].split("/")[0])
    pid = pid or os.getpid()
    write_discovery(
        {
            "base_url": base_url,
            "pid": pid,
            "port": port,
            "api_key": api_key,
            "engine": "fake",
            "device": "cpu",
            "started_at": time.time(),
            "version": "test",
        }
    )
    return f"{pid}-{port}"


def get(jupyter, path: str, **kwargs) -> httpx.Response:
    return httpx.get(jupyter.api(path), headers=jupyter.headers, timeout=10, **kwargs)


def test_routes_need_jupyter_authentication(jupyter):
    r = httpx.get(jupyter.api("/tokenfactory/api/gateways"), timeout=10)
    assert r.status_code == 403


def test_no_gateway_no_rows(jupyter, runtime_dir):
    r = get(jupyter, "/tokenfactory/api/gateways")
    assert r.status_code == 200
    assert r.json() == {"data": []}


def test_a_running_gateway_is_listed_with_its_status(jupyter, runtime_dir, tf_home):
    with live_gateway(tf_home) as live:
        live.engine._adapters["support-v1"] = "test/chat"
        # every engine adapter visible to this key (the LoRA feature narrows it to trained ones)
        live.core.adapter_filter = lambda adapters, _principal: adapters
        gid = announce(live.base_url, live.api_key)
        r = get(jupyter, "/tokenfactory/api/gateways")
    assert r.status_code == 200
    assert live.api_key not in r.text
    (row,) = r.json()["data"]
    assert row["id"] == gid and row["base_url"] == live.base_url
    assert row["ready"] is True and row["engine"] == "fake" and row["device"] == "cpu"
    assert {m["id"] for m in row["models"]} == {"test/chat", "test/embed"}
    assert row["adapters"] == ["support-v1"]
    assert row["requests_running"] == 0 and row["requests_waiting"] == 0
    assert "batches_active" in row and "training_active" in row


def test_resources_are_relayed_with_the_gateway_key(jupyter, runtime_dir, tf_home):
    with live_gateway(tf_home) as live:
        gid = announce(live.base_url, live.api_key)
        models = get(jupyter, f"/tokenfactory/api/gateways/{gid}/models")
        health = get(jupyter, f"/tokenfactory/api/gateways/{gid}/health")
    assert models.status_code == 200
    assert {m["id"] for m in models.json()["data"]} == {"test/chat", "test/embed"}
    assert health.status_code == 200 and health.json()["ready"] is True


def post(jupyter, path: str, body: dict) -> httpx.Response:
    return httpx.post(jupyter.api(path), headers=jupyter.headers, json=body, timeout=10)


def test_cancel_actions_reach_the_gateway_from_the_page(jupyter, runtime_dir, tf_home):
    """What the monitors' Cancel buttons call while a cell keeps the kernel busy."""
    from tokenfactory.sdk import TokenFactory
    from tokenfactory.widgets.base import relay_id
    from tokenfactory.widgets.connection import resolve

    with (
        live_gateway(tf_home) as live,
        TokenFactory(base_url=live.base_url, api_key=live.api_key) as client,
    ):
        live.engine.delay = 0.05
        live.core.installed[BatchService].runner.max_in_flight = 1
        gid = announce(live.base_url, live.api_key)
        # a widget on this gateway with its key knows the relay's id; with another key it
        # does not (the relay acts with the discovery file's key)
        assert relay_id(resolve(live.base_url, live.api_key)) == gid
        assert relay_id(resolve(live.base_url, "tf-another-key")) == ""
        lines = [
            {"custom_id": f"r{i}", "body": {"model": "test/chat",
                                            "messages": [{"role": "user", "content": "x"}]}}
            for i in range(20)
        ]  # fmt: skip
        job = client.batches.create(lines)
        url = f"/tokenfactory/api/gateways/{gid}/actions"
        r = post(jupyter, url, {"action": "cancel-batch", "target": job.id})
        assert r.status_code == 200, r.text
        assert r.json()["status"] in ("cancelling", "cancelled")
        assert client.batches.wait(job.id, timeout=20, progress=False).status == "cancelled"
        (row,) = get(jupyter, "/tokenfactory/api/gateways").json()["data"]  # the sidebar's jobs
        (listed,) = row["batches"]
        assert (listed["id"], listed["status"], listed["total"]) == (job.id, "cancelled", 20)
        again = post(jupyter, url, {"action": "cancel-batch", "target": "batch_nope"})
        training = post(jupyter, url, {"action": "cancel-training", "target": "nope"})
        unknown = post(jupyter, url, {"action": "delete-everything", "target": "x"})
        bad = post(jupyter, url, {"action": "cancel-batch", "target": "../admin"})
    assert again.status_code == 404 and again.json()["error"]["type"] == "not_found"
    assert training.status_code == 404
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "action_not_found"
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_target"
    assert live.api_key not in r.text + again.text


def test_unknown_gateway_is_404_in_the_error_shape(jupyter, runtime_dir):
    r = get(jupyter, "/tokenfactory/api/gateways/1-2/models")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "gateway_not_found"


def test_dead_and_unreachable_gateways(jupyter, runtime_dir):
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    announce("http://127.0.0.1:9/v1", "tf-x", pid=int(finished.stdout))  # process gone
    announce("http://127.0.0.1:9/v1", "tf-x")  # process alive, port closed
    (row,) = get(jupyter, "/tokenfactory/api/gateways").json()["data"]
    assert row["pid"] == os.getpid()
    assert "Cannot reach the gateway" in row["error"]


def test_templates_are_listed(jupyter):
    r = get(jupyter, "/tokenfactory/api/templates")
    names = [t["name"] for t in r.json()["data"]]
    assert names == ["playground", "model-library", "batch-job", "lora-training"]


def post_notebook(jupyter, body) -> httpx.Response:
    content = body if isinstance(body, str) else json.dumps(body)
    return httpx.post(
        jupyter.api("/tokenfactory/api/notebooks"),
        headers=jupyter.headers,
        content=content,
        timeout=10,
    )


def test_a_notebook_is_created_from_a_template(jupyter):
    (jupyter.root_dir / "work").mkdir(exist_ok=True)
    url = "http://127.0.0.1:4321/v1"
    first = post_notebook(jupyter, {"template": "playground", "directory": "work", "base_url": url})
    second = post_notebook(jupyter, {"template": "playground", "directory": "work"})
    assert first.status_code == 201, first.text
    assert first.json()["path"] == "work/Playground.ipynb"
    assert second.json()["path"] == "work/Playground-1.ipynb"
    nb = nbformat.read(jupyter.root_dir / "work" / "Playground.ipynb", as_version=4)
    nbformat.validate(nb)
    sources = "\n".join(c.source for c in nb.cells)
    assert f"BASE_URL = {url!r}" in sources and "tf.Playground(" in sources
    plain = nbformat.read(jupyter.root_dir / "work" / "Playground-1.ipynb", as_version=4)
    assert "BASE_URL = None" in "\n".join(c.source for c in plain.cells)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"template": "nope"}, 404, "template_not_found"),
        ({"template": "playground", "directory": "missing/dir"}, 400, "directory_not_found"),
        ("{not json", 400, "invalid_json"),
    ],
)
def test_bad_notebook_requests(jupyter, body, status, code):
    r = post_notebook(jupyter, body)
    assert r.status_code == status
    assert r.json()["error"]["code"] == code

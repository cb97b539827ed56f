"""Workspaces and keys: revocation at once, nothing of one workspace visible from another
(404, not 403), keys never stored or logged in plain text, and the CLI."""

from __future__ import annotations

import json
import logging

import pytest

from tokenfactory.cli import main as cli
from tokenfactory.lora.service import LoraService

CHAT = "/v1/chat/completions"


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def chat(content="hi"):
    return {
        "model": "test/chat",
        "messages": [{"role": "user", "content": content}],
        "max_tokens": 3,
    }


@pytest.fixture
def two(fake_gateway):
    """Two people on one server, each with a workspace and a key."""
    keys = fake_gateway.keys
    keys.create_workspace("alice", tier="standard")
    keys.create_workspace("bob", tier="free")
    return keys.create_key("alice")[1], keys.create_key("bob")[1]


def test_a_revoked_key_gets_401_at_once(api, fake_gateway):
    key_id, key = fake_gateway.keys.create_key("default", name="short-lived")
    assert api.get("/v1/models", headers=auth(key)).status_code == 200
    fake_gateway.keys.revoke_key(key_id)
    r = api.get("/v1/models", headers=auth(key))
    assert r.status_code == 401
    assert r.json()["error"] == {
        "message": "This API key has been revoked",
        "type": "authentication_error",
        "code": "revoked_api_key",
    }
    assert api.post(CHAT, json=chat(), headers=auth(key)).status_code == 401


def test_batches_and_files_are_invisible_across_workspaces(api, two):
    alice, bob = two
    line = json.dumps({"custom_id": "a", "body": chat()}) + "\n"
    job = api.post(
        "/v1/batch",
        files={"file": ("a.jsonl", line.encode())},
        data={"sla": "24h"},
        headers=auth(alice),
    ).json()
    upload = api.post(
        "/v1/files",
        files={"file": ("a.jsonl", line.encode())},
        data={"purpose": "batch"},
        headers=auth(alice),
    ).json()
    batch = api.post(
        "/v1/batches",
        json={"input_file_id": upload["id"], "endpoint": CHAT, "completion_window": "24h"},
        headers=auth(alice),
    ).json()
    for path in [
        f"/v1/batch/{job['id']}",
        f"/v1/batch/{job['id']}/results",
        f"/v1/batches/{batch['id']}",
        f"/v1/files/{upload['id']}",
        f"/v1/files/{upload['id']}/content",
    ]:
        assert api.get(path, headers=auth(alice)).status_code == 200, path
        r = api.get(path, headers=auth(bob))
        assert r.status_code == 404, path
        assert r.json()["error"]["type"] == "not_found"
    assert api.delete(f"/v1/batch/{job['id']}", headers=auth(bob)).status_code == 404
    assert api.post(f"/v1/batches/{batch['id']}/cancel", headers=auth(bob)).status_code == 404
    bob_batch = api.post(
        "/v1/batches",
        json={"input_file_id": upload["id"], "endpoint": CHAT, "completion_window": "24h"},
        headers=auth(bob),
    )
    assert bob_batch.status_code == 404  # cannot run a batch on someone else's file
    for path in ["/v1/batch", "/v1/batches", "/v1/files"]:
        assert api.get(path, headers=auth(bob)).json()["data"] == [], path
        assert api.get(path, headers=auth(alice)).json()["data"], path


def test_adapters_are_invisible_across_workspaces(api, two, fake_gateway):
    if LoraService not in fake_gateway.installed:
        pytest.skip("the LoRA feature is not installed in this gateway")
    alice, bob = two
    r = api.post(
        "/v1/adapters", json={"name": "alice-style", "base_model": "test/chat"}, headers=auth(alice)
    )
    assert r.status_code == 200, r.text
    assert api.get("/v1/adapters/alice-style", headers=auth(alice)).status_code == 200
    assert api.get("/v1/adapters/alice-style", headers=auth(bob)).status_code == 404
    assert api.delete("/v1/adapters/alice-style", headers=auth(bob)).status_code == 404
    assert api.get("/v1/adapters/alice-style/events", headers=auth(bob)).status_code == 404
    assert api.post("/v1/adapters/alice-style/train", json={}, headers=auth(bob)).status_code == 404
    r = api.post(CHAT, json={**chat(), "model": "alice-style"}, headers=auth(bob))
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    assert api.get("/v1/adapters", headers=auth(bob)).json()["data"] == []
    ids = [m["id"] for m in api.get("/v1/models", headers=auth(bob)).json()["data"]]
    assert "alice-style" not in ids


def test_usage_is_per_workspace(api, two):
    alice, bob = two
    for _ in range(3):
        api.post(CHAT, json=chat(), headers=auth(alice))
    api.post(CHAT, json=chat(), headers=auth(bob))
    a = api.get("/v1/usage", headers=auth(alice)).json()
    b = api.get("/v1/usage", headers=auth(bob)).json()
    assert (a["workspace"]["name"], a["total"]["requests"]) == ("alice", 3)
    assert (b["workspace"]["name"], b["total"]["requests"]) == ("bob", 1)
    mine = api.get("/v1/usage").json()  # the default workspace made none of these
    assert mine["total"]["requests"] == 0


def test_keys_never_appear_in_the_store_or_the_logs(
    api, fake_gateway, tf_home, caplog, monkeypatch
):
    import tokenfactory.config as config

    monkeypatch.setattr(config, "database_path", lambda: tf_home / "test.sqlite3")
    caplog.set_level(logging.DEBUG)
    _, key = fake_gateway.keys.create_key("default", name="secret")
    admin_key = fake_gateway.keys.create_key("default", name="root", is_admin=True)[1]
    api.post(CHAT, json=chat(), headers=auth(key))
    api.get("/v1/models", params={"api_key": key}, headers={"Authorization": ""})
    api.post(CHAT, json={"model": "missing"}, headers=auth(key))  # a logged failure
    r = api.post(
        "/v1/admin/workspaces/default/keys", json={"name": "made"}, headers=auth(admin_key)
    )
    made = r.json()["key"]
    api.get("/v1/models", headers=auth("tf-wrong-key-" + key[-8:]))
    assert cli(["keys", "list", "--workspace", "default"]) == 0
    fake_gateway.store.execute("PRAGMA wal_checkpoint(FULL)")
    files = [p for p in tf_home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite3" for p in files)
    # the test's own HTTP client logs the URLs it requests; everything else is the server's
    server_logs = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("httpx")
    )
    for secret in (key, admin_key, made, fake_gateway.test_key):
        for path in files:
            assert secret.encode() not in path.read_bytes(), path
        assert secret not in server_logs
    stored = fake_gateway.store.all("SELECT key_hash, prefix FROM api_keys")
    assert all(len(row["key_hash"]) == 64 and len(row["prefix"]) == 7 for row in stored)


def test_api_key_query_parameter_is_redacted_before_the_access_log(api, fake_gateway):
    from tokenfactory.gateway.metering_middleware import _redact_api_key

    scope = {"query_string": b"a=1&api_key=tf-secret-value&b=2"}
    _redact_api_key(scope)
    assert scope["query_string"] == b"a=1&api_key=REDACTED&b=2"
    r = api.get(
        "/v1/models", params={"api_key": fake_gateway.test_key}, headers={"Authorization": ""}
    )
    assert r.status_code == 200  # the key was read before the redaction


def test_cli_manages_workspaces_and_keys(capsys):
    assert cli(["workspaces", "create", "carol", "--tier", "free", "--balance", "2.5"]) == 0
    assert cli(["workspaces", "create", "carol"]) == 1  # exists already
    assert cli(["keys", "create", "--workspace", "carol", "--name", "laptop"]) == 0
    out = capsys.readouterr().out
    key = out.strip().splitlines()[-1]
    assert key.startswith("tf-")
    assert cli(["workspaces", "set-tier", "carol", "pro"]) == 0
    assert cli(["workspaces", "set-balance", "carol", "none"]) == 0
    assert cli(["workspaces", "set-balance", "carol", "lots"]) == 1
    assert cli(["workspaces", "top-up", "carol", "1.25"]) == 0  # no wallet: now one of $1.25
    assert cli(["workspaces", "top-up", "carol", "0.5"]) == 0
    assert cli(["workspaces", "top-up", "carol", "0"]) == 1
    assert "$1.75" in capsys.readouterr().out.splitlines()[-1]
    assert cli(["workspaces", "set-balance", "carol", "none"]) == 0
    capsys.readouterr()
    assert cli(["workspaces", "list"]) == 0
    listing = capsys.readouterr().out
    assert "carol" in listing and "pro (200 req/min, 500,000 tokens/min)" in listing
    assert "no wallet" in listing
    assert cli(["keys", "list", "--workspace", "carol"]) == 0
    keys = capsys.readouterr().out
    assert "laptop" in keys and key not in keys
    key_id = keys.split()[0]
    assert cli(["keys", "revoke", key_id]) == 0
    assert cli(["keys", "list", "--workspace", "carol"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert cli(["workspaces", "usage", "carol"]) == 0
    assert "total: 0 requests" in capsys.readouterr().out


def test_the_cli_and_a_running_gateway_share_the_store(
    api, fake_gateway, tf_home, monkeypatch, capsys
):
    import tokenfactory.config as config

    monkeypatch.setattr(config, "database_path", lambda: tf_home / "test.sqlite3")
    assert cli(["workspaces", "create", "dave", "--tier", "free"]) == 0
    assert cli(["keys", "create", "--workspace", "dave"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert fake_gateway.keys.workspace("dave").tier == "free"
    r = api.get("/v1/usage", headers=auth(key))
    assert r.status_code == 200 and r.json()["workspace"]["name"] == "dave"
    assert r.headers["x-ratelimit-limit"] == "20"

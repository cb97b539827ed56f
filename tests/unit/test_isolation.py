"""Two workspaces on one gateway (issue 27): neither sees the other's adapters (names, ids,
paths) through import, /health, /metrics, /v1/models or usage; anonymous callers see readiness
only."""

from __future__ import annotations

import json

import pytest

CHAT = "/v1/chat/completions"


def lora_repository(core):
    from tokenfactory.lora.service import LoraService

    return core.installed.get(LoraService).repository


def peft_folder(path):
    path.mkdir(parents=True, exist_ok=True)
    config = {"peft_type": "LORA", "r": 8, "lora_alpha": 16, "base_model_name_or_path": "test/chat"}
    (path / "adapter_config.json").write_text(json.dumps(config))
    (path / "adapter_model.safetensors").write_bytes(b"weights")
    return path


@pytest.fixture
def two(api, fake_gateway, admin_headers, tmp_path):
    """Workspace A (``default``, the ``api`` key) serving adapter ``alice-secret`` it called
    once; workspace B (``bob``) with its own key, which called the base model once."""
    body = {"name": "alice-secret", "path": str(peft_folder(tmp_path / "peft"))}
    adapter = api.post("/v1/adapters/import", json=body, headers=admin_headers)
    assert adapter.status_code == 200, adapter.text
    msg = [{"role": "user", "content": "hi"}]
    assert api.post(CHAT, json={"model": "alice-secret", "messages": msg}).status_code == 200
    _, key = fake_gateway.keys.create_key("bob", name="bob")
    bob = {"Authorization": f"Bearer {key}"}
    assert (
        api.post(CHAT, json={"model": "test/chat", "messages": msg}, headers=bob).status_code == 200
    )
    secrets = ["alice-secret", adapter.json()["id"], str(fake_gateway.store.path.parent)]
    return bob, secrets, adapter.json()


def assert_hidden(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text


def test_only_an_admin_imports_by_path(api, two, tmp_path):
    bob, _, _ = two
    body = {"name": "x", "path": str(peft_folder(tmp_path / "bobs"))}
    for headers in (bob, {}):  # bob's key, and the default workspace's (not an admin) key
        r = api.post("/v1/adapters/import", json=body, headers=headers)
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "admin_key_required"


def test_an_import_never_reads_inside_the_data_directory(
    api, fake_gateway, two, admin_headers, tmp_path
):
    _, _, adapter = two
    trained = lora_repository(fake_gateway).adapter_dir(adapter["id"])
    assert (trained / "adapter_config.json").is_file()
    link = tmp_path / "innocent-looking"
    link.symlink_to(trained)
    for path in (trained, trained.parent, link, fake_gateway.store.path.parent):
        body = {"name": "stolen", "path": str(path), "workspace": "bob"}
        r = api.post("/v1/adapters/import", json=body, headers=admin_headers)
        assert r.status_code == 400, r.text
        assert r.json()["error"]["param"] == "path"
        assert "data directory" in r.json()["error"]["message"]


def test_an_admin_imports_into_a_named_workspace(api, two, admin_headers, tmp_path):
    bob, _, _ = two
    body = {"name": "for-bob", "path": str(peft_folder(tmp_path / "b")), "workspace": "bob"}
    assert api.post("/v1/adapters/import", json=body, headers=admin_headers).status_code == 200
    assert api.get("/v1/adapters/for-bob", headers=bob).status_code == 200
    assert api.get("/v1/adapters/for-bob").status_code == 404


def test_health_shows_anonymous_callers_readiness_only(api, two):
    r = api.get("/health", headers={"Authorization": ""})
    assert r.status_code == 200
    assert set(r.json()) == {"service", "status", "ready", "version"}
    wrong = api.get("/health?api_key=tf-wrong", headers={"Authorization": ""})
    assert wrong.json().keys() == r.json().keys()


def test_health_shows_a_workspace_its_own_adapters_only(api, two, admin_headers):
    bob, secrets, adapter = two
    theirs = api.get("/health", headers=bob)
    assert theirs.json()["adapters"] == [] and theirs.json()["models"]
    assert_hidden(theirs.text, secrets)
    mine = api.get("/health")
    assert mine.json()["adapters"] == ["alice-secret"]
    assert adapter["id"] not in mine.text
    assert adapter["id"] in api.get("/health", headers=admin_headers).json()["adapters"]


def test_metrics_name_no_adapter_and_show_anonymous_callers_readiness_only(api, two):
    bob, secrets, adapter = two
    msg = [{"role": "user", "content": "x"}]
    # bob probes alice's adapter by id and name: 404s, labelled "other"
    for model in (adapter["id"], "alice-secret", "made-up-model-name"):
        assert (
            api.post(CHAT, json={"model": model, "messages": msg}, headers=bob).status_code == 404
        )
    anonymous = api.get("/metrics", headers={"Authorization": ""})
    assert anonymous.status_code == 200
    samples = [line for line in anonymous.text.splitlines() if not line.startswith("#")]
    assert samples == ["tokenfactory_engine_ready 1"]
    for headers in (bob, {}):
        text = api.get("/metrics", headers=headers).text
        assert_hidden(text, [*secrets, "made-up-model-name"])
        assert 'model="adapter"' in text and 'model="other"' in text
        assert 'model="test/chat"' in text


def test_usage_and_models_show_a_workspace_nothing_of_another(api, two):
    bob, secrets, _ = two
    for path in ("/v1/usage", "/v1/usage/timeseries", "/v1/usage?group_by=model", "/v1/models"):
        r = api.get(path, headers=bob)
        assert r.status_code == 200, r.text
        assert_hidden(r.text, secrets)
    assert api.get("/v1/usage/timeseries", headers=bob).json()["models"] == ["test/chat"]
    assert "alice-secret" in api.get("/v1/usage/timeseries").json()["models"]

"""Errors say the right thing in the right shape; shared models are an admin's to load and unload;
/health shows no paths without a key."""

from __future__ import annotations

import pytest

CHAT = "/v1/chat/completions"
MSG = [{"role": "user", "content": "hi"}]


def test_a_user_message_without_content_names_the_field(api):
    r = api.post(CHAT, json={"model": "test/chat", "messages": [{"role": "user"}]})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["param"] == "messages[0].content"
    assert error["message"] == "Missing required parameter: 'messages[0].content'"
    assert error["code"] == "invalid_parameter"


def test_an_assistant_tool_call_message_needs_no_content(api):
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = [
        *MSG,
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
    ]
    assert api.post(CHAT, json={"model": "test/chat", "messages": messages}).status_code == 200


def test_too_many_stops_is_an_invalid_parameter_like_other_bad_fields(api):
    stops = api.post(CHAT, json={"model": "test/chat", "messages": MSG, "stop": list("abcde")})
    temperature = api.post(CHAT, json={"model": "test/chat", "messages": MSG, "temperature": 9})
    assert stops.status_code == temperature.status_code == 400
    assert stops.json()["error"]["code"] == temperature.json()["error"]["code"]
    assert stops.json()["error"]["code"] == "invalid_parameter"
    empty = api.post(CHAT, json={"model": "test/chat", "messages": MSG, "stop": [""]})
    assert empty.json()["error"]["code"] == "invalid_parameter"


def test_an_empty_body_says_so(api):
    r = api.post(CHAT, content=b"", headers={"content-type": "application/json"})
    assert r.status_code == 400
    message = r.json()["error"]["message"]
    assert "'body'" not in message
    assert message.startswith("The request has no body: send a JSON object")


def test_the_modality_takes_the_right_article(api):
    r = api.post(CHAT, json={"model": "test/embed", "messages": MSG})
    assert r.status_code == 400
    assert "is an embedding model" in r.json()["error"]["message"]
    from tokenfactory.engine.catalog import a_modality

    assert (a_modality("chat"), a_modality("embedding")) == ("a chat", "an embedding")


@pytest.mark.parametrize("action", ["load", "unload"])
def test_a_workspace_key_may_not_load_or_unload_the_shared_models(api, fake_engine, action):
    unloaded = []
    fake_engine.unload_model = lambda model: unloaded.append(model)  # type: ignore[method-assign]
    r = api.post(f"/v1/models/{action}", json={"model": "test/chat"})
    assert r.status_code == 403
    assert r.json() == {
        "error": {
            "message": f"POST /v1/models/{action} needs an admin key (the key of whoever started"
            " the gateway, or one from `tokenfactory keys create --admin`)",
            "type": "permission_denied",
            "code": "admin_key_required",
        }
    }
    assert unloaded == []


def test_an_admin_key_loads_and_unloads(api, admin_headers):
    r = api.post("/v1/models/unload", json={"model": "test/chat"}, headers=admin_headers)
    assert r.status_code == 200, r.text
    r = api.post("/v1/models/load", json={"model": "test/chat"}, headers=admin_headers)
    assert r.status_code == 200 and r.json()["id"] == "test/chat"
    r = api.post("/v1/models/load", json={"model": "acme/none"}, headers=admin_headers)
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found"


def test_health_shows_paths_only_to_an_admin(api, fake_engine, fake_gateway, admin_headers):
    from dataclasses import replace

    models = fake_engine.models

    def with_paths():
        return [replace(m, path=f"/home/someone/models/{m.id}") for m in models()]

    fake_engine.models = with_paths  # type: ignore[method-assign]
    anonymous = api.get("/health", headers={"Authorization": ""})
    assert anonymous.status_code == 200
    assert "/home/someone" not in anonymous.text
    assert anonymous.json()["service"] == "tokenfactory" and anonymous.json()["ready"]
    assert "models" not in anonymous.json()  # readiness only
    bad_key = api.get("/health", headers={"Authorization": "Bearer tf-not-a-key"})
    assert bad_key.status_code == 200 and "/home/someone" not in bad_key.text
    workspace = api.get("/health")
    assert {m["id"] for m in workspace.json()["models"]} == {"test/chat", "test/embed"}
    assert "/home/someone" not in workspace.text
    admin = api.get("/health", headers=admin_headers)
    assert "/home/someone/models/test/chat" in admin.text

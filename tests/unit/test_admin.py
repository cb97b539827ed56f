"""/v1/admin: guarded by an admin key; workspaces, tiers, wallets and keys end to end."""

from __future__ import annotations

import pytest

CHAT = "/v1/chat/completions"


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def admin(fake_gateway) -> dict:
    return auth(fake_gateway.keys.create_key("default", name="root", is_admin=True)[1])


def test_admin_endpoints_need_an_admin_key(api):
    for method, path in [
        ("GET", "/v1/admin/workspaces"),
        ("POST", "/v1/admin/workspaces"),
        ("PATCH", "/v1/admin/workspaces/default"),
        ("GET", "/v1/admin/workspaces/default/keys"),
        ("DELETE", "/v1/admin/keys/key_x"),
    ]:
        r = api.request(method, path, json={})  # the default fixture key is not an admin key
        assert r.status_code == 403, path
        assert r.json()["error"]["code"] == "admin_key_required"
        assert api.request(method, path, headers={"Authorization": ""}).status_code == 401


def test_second_person_onboarding_through_the_admin_api(api, admin, fake_engine):
    r = api.post("/v1/admin/workspaces", json={"name": "bob", "tier": "free"}, headers=admin)
    assert r.status_code == 200, r.text
    ws = r.json()
    assert (ws["name"], ws["tier"], ws["balance_usd"]) == ("bob", "free", None)
    assert ws["limits"] == {"requests_per_minute": 20, "tokens_per_minute": 40000}
    again = api.post("/v1/admin/workspaces", json={"name": "bob"}, headers=admin)
    assert again.status_code == 400 and again.json()["error"]["code"] == "workspace_exists"

    created = api.post("/v1/admin/workspaces/bob/keys", json={"name": "laptop"}, headers=admin)
    assert created.status_code == 200
    key = created.json()["key"]
    assert key.startswith("tf-") and created.json()["prefix"] == key[:7]
    listed = api.get("/v1/admin/workspaces/bob/keys", headers=admin).json()["data"]
    assert [k["name"] for k in listed] == ["laptop"] and "key" not in listed[0]

    r = api.post(
        CHAT,
        json={"model": "test/chat", "messages": [{"role": "user", "content": "x"}]},
        headers=auth(key),
    )
    assert r.status_code == 200 and r.headers["x-ratelimit-limit"] == "20"
    usage = api.get("/v1/admin/workspaces/bob/usage", headers=admin).json()
    assert usage["workspace"]["name"] == "bob" and usage["total"]["requests"] == 1

    assert api.delete(f"/v1/admin/keys/{created.json()['id']}", headers=admin).status_code == 200
    assert api.get("/v1/models", headers=auth(key)).status_code == 401
    assert api.delete(f"/v1/admin/keys/{created.json()['id']}", headers=admin).status_code == 404


def test_tier_and_wallet_changes_apply_to_the_next_request(api, admin, fake_gateway, fake_engine):
    api.post("/v1/admin/workspaces", json={"name": "eve", "balance_usd": 0.000001}, headers=admin)
    key = api.post("/v1/admin/workspaces/eve/keys", json={}, headers=admin).json()["key"]
    body = {"model": "test/chat", "messages": [{"role": "user", "content": "x"}], "max_tokens": 20}
    assert api.post(CHAT, json=body, headers=auth(key)).status_code == 402
    assert fake_engine.requests == []
    r = api.patch(
        "/v1/admin/workspaces/eve", json={"balance_usd": 1.5, "tier": "pro"}, headers=admin
    )
    assert r.json()["balance_micros"] == 1_500_000 and r.json()["tier"] == "pro"
    ok = api.post(CHAT, json=body, headers=auth(key))
    assert ok.status_code == 200 and ok.headers["x-ratelimit-limit"] == "200"
    r = api.patch("/v1/admin/workspaces/eve", json={"balance_usd": None}, headers=admin)
    assert r.json()["balance_usd"] is None  # no wallet: never 402
    listed = {w["name"]: w for w in api.get("/v1/admin/workspaces", headers=admin).json()["data"]}
    assert listed["eve"]["tier"] == "pro" and listed["default"]["tier"] == "unlimited"


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "param"),
    [
        ("POST", "/v1/admin/workspaces", {"name": "x", "tier": "platinum"}, 400, "tier"),
        ("POST", "/v1/admin/workspaces", {"name": ""}, 400, "name"),
        ("POST", "/v1/admin/workspaces", {"name": "a b"}, 400, "name"),
        ("POST", "/v1/admin/workspaces", {"name": "x", "balance_usd": -1}, 400, "balance_usd"),
        ("POST", "/v1/admin/workspaces", {"name": "x", "colour": 1}, 400, "colour"),
        ("PATCH", "/v1/admin/workspaces/default", {"tier": "gold"}, 400, "tier"),
        ("PATCH", "/v1/admin/workspaces/nobody", {"tier": "free"}, 404, None),
        ("GET", "/v1/admin/workspaces/nobody/keys", None, 404, None),
        ("POST", "/v1/admin/workspaces/nobody/keys", {}, 404, None),
    ],
)
def test_bad_admin_requests_get_clear_errors(api, admin, method, path, payload, status, param):
    r = api.request(method, path, json=payload, headers=admin)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["message"] and err["type"] in ("invalid_request", "not_found")
    if param:
        assert err.get("param") == param

"""WorkspaceAdmin, Python side, against a real gateway over the fake engine: workspaces with
wallet and cap use, a key shown once and revoked, a top-up, a cap, a price per model, a webhook
registered and tested (delivered to a real Receiver), and a non-admin key told so."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tokenfactory.webhooks import Receiver
from tokenfactory.widgets.workspace_admin import WorkspaceAdmin


def make(gateway, **kwargs) -> WorkspaceAdmin:
    widget = WorkspaceAdmin(base_url=gateway.base_url, api_key=gateway.api_key, **kwargs)
    widget.wait()
    return widget


def act(widget: WorkspaceAdmin, action: str, **payload) -> None:
    """What a click sends from JavaScript."""
    widget._dispatch(widget, {"action": action, **payload}, [])
    widget.wait()


def row(widget: WorkspaceAdmin, name: str) -> dict:
    return next(w for w in widget.workspaces if w["name"] == name)


def test_workspaces_keys_wallet_and_cap(gateway):
    keys = gateway.core.keys
    keys.create_workspace("alice", tier="free")
    keys.set_balance("alice", 1_000_000)
    admin = make(gateway, workspace="alice")
    assert admin.error == "" and admin.denied == ""
    assert {w["name"] for w in admin.workspaces} == {"default", "alice"}
    assert row(admin, "alice")["tier"] == "free" and row(admin, "alice")["balance_usd"] == 1.0
    assert admin.selected == "alice" and "test/chat" in admin.models
    json.dumps(admin.get_state())  # what the front end receives (a trait named `keys` broke it)

    act(admin, "top_up", amount_usd="2.5")
    assert admin.error == "" and row(admin, "alice")["balance_usd"] == pytest.approx(3.5)
    assert "$2.50" in admin.notice

    act(admin, "create_key", name="laptop")
    secret = admin.new_key["key"]
    assert admin.new_key["workspace"] == "alice" and secret.startswith("tf-")
    assert row(admin, "alice")["active_keys"] == 1
    (listed,) = admin.api_keys
    assert "key" not in listed and secret.startswith(listed["prefix"])
    act(admin, "dismiss_key")
    assert admin.new_key == {}

    act(admin, "set_cap", monthly_tokens="30")
    assert row(admin, "alice")["cap"]["tokens"] == 30
    chat = {"model": "test/chat", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
    auth = {"Authorization": f"Bearer {secret}"}
    assert httpx.post(gateway.base_url + "/chat/completions", json=chat, headers=auth).is_success
    admin.refresh().join()
    assert 0 < row(admin, "alice")["cap"]["used"] < 30
    frame = admin.to_pandas()
    used = row(admin, "alice")["cap"]["used"]
    assert frame.set_index("workspace").loc["alice", "cap_used"] == used
    act(admin, "set_cap", monthly_tokens="")
    assert row(admin, "alice")["cap"] is None

    act(admin, "revoke_key", key_id=listed["id"])
    assert admin.api_keys[0]["revoked_at"] is not None and row(admin, "alice")["active_keys"] == 0
    r = httpx.post(gateway.base_url + "/chat/completions", json=chat, headers=auth)
    assert r.status_code == 401

    act(admin, "create_workspace", name="zed", tier="pro")
    assert admin.selected == "zed" and row(admin, "zed")["tier"] == "pro"
    admin.close()


def test_bad_input_shows_the_api_message(gateway):
    admin = make(gateway, workspace="default")
    act(admin, "top_up", amount_usd="lots")
    assert "must be a number" in admin.error
    act(admin, "top_up", amount_usd="-3")
    assert "amount_usd" in admin.error
    act(admin, "create_workspace", name="x", tier="gold")
    assert "Unknown tier 'gold'" in admin.error
    admin.close()


def test_prices_per_model(gateway):
    admin = make(gateway)
    act(admin, "set_price", model="test/chat", input="1.5", output="3")
    assert {"model": "test/chat", "input": 1.5, "output": 3.0} in admin.prices
    assert "realtime" in admin.tier_prices
    act(admin, "unset_price", model="test/chat")
    assert all(p["model"] != "test/chat" for p in admin.prices)
    admin.close()


def test_register_and_test_a_webhook(gateway):
    receiver = Receiver()
    admin = make(gateway, workspace="default")
    act(admin, "add_webhook", url=receiver.url)
    (hook,) = admin.webhooks
    assert "secret" not in hook and "whsec_" in admin.notice
    receiver.secret = admin.notice.split("secret ")[1].rstrip(")")
    act(admin, "test_webhook", endpoint_id=hook["id"])
    event = receiver.wait_for("webhook.test", timeout=20)
    assert event["data"]["endpoint_id"] == hook["id"]
    deadline = time.monotonic() + 20
    while admin.webhooks[0]["deliveries"][0]["status"] != "delivered":
        assert time.monotonic() < deadline
        admin.refresh().join()
    assert admin.webhooks[0]["deliveries"][0]["last_status_code"] == 204
    act(admin, "delete_webhook", endpoint_id=hook["id"])
    assert admin.webhooks == []
    admin.close()


def test_a_key_that_is_not_an_admin_key_is_told_so(gateway):
    keys = gateway.core.keys
    keys.create_workspace("bob")
    _, bob = keys.create_key("bob")
    widget = WorkspaceAdmin(base_url=gateway.base_url, api_key=bob)
    widget.wait()
    assert "needs an admin key" in widget.denied and "'bob'" in widget.denied
    assert widget.error == "" and widget.workspaces == []
    widget.close()

"""UsageDashboard, Python side: totals and series from the gateway, filters, isolation, errors."""

from __future__ import annotations

import httpx
import pytest

from tokenfactory.widgets.usage_dashboard import SERIES, UsageDashboard

CHAT = "/chat/completions"


def post(gateway, path, body, key=None):
    r = httpx.post(
        gateway.base_url + path,
        json=body,
        headers={"Authorization": f"Bearer {key or gateway.api_key}"},
    )
    return r


def chat(model="test/chat"):
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


@pytest.fixture
def traffic(gateway):
    usage = [post(gateway, CHAT, chat()).json()["usage"] for _ in range(3)]
    post(gateway, "/embeddings", {"model": "test/embed", "input": "abc"})
    assert post(gateway, CHAT, chat("missing/model")).status_code == 404
    return usage


def make(gateway, **kwargs) -> UsageDashboard:
    widget = UsageDashboard(base_url=gateway.base_url, api_key=gateway.api_key, **kwargs)
    widget.wait()
    return widget


def test_totals_series_and_filters(gateway, traffic):
    dash = make(gateway)
    assert dash.error == ""
    assert dash.workspace == "default" and dash.workspace_tier == "unlimited"
    assert dash.balance_usd is None
    assert dash.totals["requests"] == 5 and dash.totals["errors"] == 1
    chat_tokens = sum(u["total_tokens"] for u in traffic)
    assert dash.totals["total_tokens"] == chat_tokens + 3
    assert sum(p["requests"] for p in dash.points) == 5
    assert set(dash.points[0]) == set(SERIES)
    assert dash.models == ["missing/model", "test/chat", "test/embed"]
    assert dash.tiers == ["embeddings", "realtime"]

    dash.model = "test/chat"
    dash.wait()
    assert dash.totals["requests"] == 3 and dash.totals["total_tokens"] == chat_tokens
    assert all(p["latency_p50_ms"] > 0 for p in dash.points)
    dash.model, dash.tier = "", "embeddings"
    dash.wait()
    assert dash.totals["requests"] == 1 and dash.totals["cost_usd"] == pytest.approx(3 * 0.02e-6)

    frame = dash.to_pandas()
    assert list(frame.columns) == SERIES[1:] and frame["requests"].sum() == 1
    dash.close()


def test_a_second_workspace_sees_only_its_own_usage(gateway, traffic):
    keys = gateway.core.keys
    keys.create_workspace("bob", tier="free")
    keys.set_balance("bob", 2_000_000)
    bob = keys.create_key("bob")[1]
    post(gateway, CHAT, chat(), key=bob)
    dash = UsageDashboard(base_url=gateway.base_url, api_key=bob)
    dash.wait()
    assert (dash.workspace, dash.workspace_tier) == ("bob", "free")
    assert dash.totals["requests"] == 1
    assert 0 < dash.balance_usd < 2.0
    assert dash.models == ["test/chat"]
    dash.close()


def test_failures_land_in_the_error_trait(gateway):
    dash = UsageDashboard(base_url=gateway.base_url, api_key="tf-not-a-real-key")
    dash.wait()
    assert "Invalid API key" in dash.error and dash.points == []
    dash.close()
    dash = UsageDashboard(base_url="http://127.0.0.1:9/v1", api_key="x")
    dash.wait()
    assert "Cannot reach the gateway" in dash.error
    dash.close()


def test_refresh_action_and_auto_refresh(gateway):
    dash = make(gateway)
    assert dash.totals["requests"] == 0
    post(gateway, CHAT, chat())
    dash._dispatch(dash, {"action": "refresh"}, [])
    dash.wait()
    assert dash.totals["requests"] == 1
    dash.auto_refresh = 1
    post(gateway, CHAT, chat())
    import time

    deadline = time.monotonic() + 10
    while dash.totals.get("requests") != 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert dash.totals["requests"] == 2
    dash.close()


def test_exported_from_the_package():
    import tokenfactory as tf

    assert tf.UsageDashboard is UsageDashboard


def test_cost_by_model_and_by_user(gateway):
    for user in ("ann", "ann", None):
        assert post(gateway, CHAT, {**chat(), **({"user": user} if user else {})}).is_success
    r = httpx.post(
        gateway.base_url + CHAT,
        json=chat(),
        headers={"Authorization": f"Bearer {gateway.api_key}", "X-TF-User": "ben"},
    )
    assert r.is_success
    assert post(gateway, "/embeddings", {"model": "test/embed", "input": "abc"}).is_success
    dash = make(gateway)
    by_model = dash.cost_by("model")
    assert list(by_model.index) == ["test/chat", "test/embed"]  # costliest first
    assert by_model.loc["test/chat", "requests"] == 4
    assert by_model["cost_usd"].sum() == pytest.approx(dash.totals["cost_usd"])
    by_user = dash.cost_by("user")
    assert by_user["requests"].to_dict() == {"ann": 2, "(no user)": 2, "ben": 1}
    dash.tier = "embeddings"
    dash.wait()
    assert [r["model"] for r in dash.by_model] == ["test/embed"]
    assert [(r["user"], r["requests"]) for r in dash.by_user] == [("(no user)", 1)]
    dash.close()

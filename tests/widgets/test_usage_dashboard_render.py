"""UsageDashboard, JavaScript side, in a real Chromium: the module renders totals and four
SVG charts from the traits, and the filters write back to the model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tokenfactory.widgets.usage_dashboard import UsageDashboard

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# A minimal stand-in for anywidget's model: traits, change events, messages, save_changes.
HARNESS = """
<html><body><div id="root"></div><script type="module">
const traits = __TRAITS__;
const handlers = {};
window.sent = []; window.saved = [];
const model = {
  get: (k) => traits[k],
  set: (k, v) => { traits[k] = v; (handlers["change:" + k] || []).forEach((f) => f()); },
  on: (events, f) => events.split(" ").forEach((e) => (handlers[e] = handlers[e] || []).push(f)),
  off: () => {},
  send: (m) => window.sent.push(m),
  save_changes: () => window.saved.push(1),
};
window.model = model;
const url = URL.createObjectURL(new Blob([__ESM__], { type: "text/javascript" }));
const mod = await import(url);
mod.default.render({ model, el: document.getElementById("root") });
window.rendered = true;
</script></body></html>
"""


@pytest.fixture
def page(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser.new_page()
        browser.close()


def traits() -> dict:
    points = [
        {
            "t": 1_800_000_000 + 60 * i,
            "requests": 2 + i,
            "errors": i % 2,
            "prompt_tokens": 40 * i,
            "completion_tokens": 10 * i,
            "cost_usd": 5e-6 * i,
            "latency_p50_ms": 100.0 + i,
            "latency_p90_ms": 150.0 + i,
            "latency_p99_ms": 200.0 + i,
            "ttft_p50_ms": 10.0,
            "ttft_p90_ms": 12.0,
        }
        for i in range(4)
    ]
    return {
        "error": "",
        "busy": 0,
        "points": points,
        "models": ["m1", "m2"],
        "tiers": ["realtime"],
        "model": "",
        "tier": "",
        "bucket": "minute",
        "workspace": "bob",
        "workspace_tier": "free",
        "balance_usd": 1.25,
        "totals": {"requests": 14, "errors": 2, "total_tokens": 300, "cost_usd": 3e-5},
        "by_model": [
            {"model": "m2", "requests": 10, "total_tokens": 200, "cost_usd": 2e-5},
            {"model": "m1", "requests": 4, "total_tokens": 100, "cost_usd": 1e-5},
        ],
        "by_user": [{"user": "ann", "requests": 14, "total_tokens": 300, "cost_usd": 3e-5}],
    }


def test_renders_cards_and_charts_and_filters_write_back(page, tmp_path):
    esm = UsageDashboard._esm if isinstance(UsageDashboard._esm, str) else ""
    assert "export default" in esm
    html = HARNESS.replace("__TRAITS__", json.dumps(traits())).replace("__ESM__", json.dumps(esm))
    target = tmp_path / "harness.html"
    target.write_text(html)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(target.as_uri())
    page.wait_for_function("window.rendered === true", timeout=10_000)
    assert errors == []
    assert page.inner_text(".tf-ud-title") == "Usage · bob (free)"
    assert page.inner_text(".tf-ud-requests .tf-ud-value") == "14"
    assert page.inner_text(".tf-ud-balance .tf-ud-value") == "$1.25"
    charts = page.locator(".tf-ud-chart h4").all_inner_texts()
    assert charts == ["Tokens", "Cost (USD)", "Latency (ms)", "Errors"]
    series = page.eval_on_selector_all("polyline", "els => els.map(e => e.dataset.series)")
    assert "latency_p99_ms" in series and "completion_tokens" in series and "errors" in series
    assert (
        page.locator("polyline[data-series=latency_p50_ms]").get_attribute("points").count(",") == 4
    )
    rows = page.locator(".tf-ud-by-model .tf-ud-brow")
    assert [rows.nth(i).get_attribute("data-key") for i in range(2)] == ["m2", "m1"]
    share = page.locator(".tf-ud-by-model .tf-ud-share").first.get_attribute("style")
    assert "66.7%" in share
    assert page.inner_text(".tf-ud-by-user .tf-ud-bcost") == "$0.0000300"
    page.select_option(".tf-ud-model", "m2")
    assert page.evaluate("window.model.get('model')") == "m2"
    page.click(".tf-ud-refresh")
    assert page.evaluate("window.sent") == [{"action": "refresh"}]
    page.evaluate("window.model.set('points', [])")
    assert page.locator(".tf-ud-chart .tf-muted").count() == 4  # "No requests ..." per chart

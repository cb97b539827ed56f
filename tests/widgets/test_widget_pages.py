"""What the monitors, the Model Library and the Usage Dashboard show and send, JavaScript side,
in a real Chromium page (tests/widgets/js_harness.py): no Jupyter, one page per test."""

from __future__ import annotations

from tests.widgets.js_harness import page, render, traits_of  # noqa: F401  (page: a fixture)
from tokenfactory.widgets.batch_monitor import BatchMonitor
from tokenfactory.widgets.model_library import ModelLibrary
from tokenfactory.widgets.training_monitor import TrainingMonitor
from tokenfactory.widgets.usage_dashboard import UsageDashboard

SMOL = "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_batch_cancel_goes_through_the_relay_while_the_kernel_is_busy(page, tmp_path):  # noqa: F811
    traits = traits_of(
        BatchMonitor, batch_id="batch_1", status="in_progress", total=10, completed=3,
        relay_gateway="123-8000",
    )  # fmt: skip
    assert render(page, BatchMonitor, traits, tmp_path, jupyter=True) == []
    page.evaluate("window.fetchReply = {id: 'batch_1', status: 'cancelling'}")
    page.click(".tf-bm-cancel")
    page.wait_for_function("window.fetched.length === 1")
    (call,) = page.evaluate("window.fetched")
    assert call["url"] == "/jupyter/tokenfactory/api/gateways/123-8000/actions"
    assert call["method"] == "POST"
    assert call["body"] == {"action": "cancel-batch", "target": "batch_1"}
    assert call["headers"]["Authorization"] == "token page-token"
    assert page.evaluate("window.sent") == []  # not queued behind the busy kernel
    assert page.inner_text(".tf-bm-status") == "cancelling"
    assert page.is_disabled(".tf-bm-cancel")


def test_batch_cancel_without_a_relay_is_a_kernel_message(page, tmp_path):  # noqa: F811
    traits = traits_of(BatchMonitor, batch_id="batch_1", status="in_progress", total=10)
    assert render(page, BatchMonitor, traits, tmp_path) == []
    page.click(".tf-bm-cancel")
    assert page.evaluate("window.sent") == [{"action": "cancel"}]


def test_batch_counts_cancelled_lines_and_an_unknown_id_cannot_be_cancelled(page, tmp_path):  # noqa: F811
    traits = traits_of(
        BatchMonitor, batch_id="batch_1", status="cancelled", total=10, completed=3, failed=1,
        cancelled=6, done=True,
    )  # fmt: skip
    assert render(page, BatchMonitor, traits, tmp_path) == []
    assert page.inner_text(".tf-bm-counts") == "3 completed · 1 failed · 6 cancelled · 10 total"
    page.evaluate(
        "Object.entries({batch_id: 'batch_nope', status: '', done: false, cancelled: 0,"
        " missing: true}).forEach(([k, v]) => window.model.set(k, v))"
    )
    assert page.inner_text(".tf-bm-status") == "not found"
    assert page.is_disabled(".tf-bm-cancel")


def test_training_monitor_shows_the_loss_as_a_number(page, tmp_path):  # noqa: F811
    traits = traits_of(
        TrainingMonitor, adapter="pirate-v1", status="running", step=3, total_steps=9,
        train_loss=[[1, 2.5], [2, 1.75], [3, 1.234]], relay_gateway="1-2",
    )  # fmt: skip
    assert render(page, TrainingMonitor, traits, tmp_path, jupyter=True) == []
    assert page.inner_text(".tf-tm-loss") == "loss 1.234"
    assert page.locator(".tf-tm-ylabel").all_text_contents() == ["loss"]
    assert page.is_hidden(".tf-tm-key-val")  # no validation data, no validation key
    box = page.locator(".tf-tm-chart").bounding_box()
    page.mouse.move(box["x"] + box["width"] - 14, box["y"] + box["height"] * 0.6)
    assert page.inner_text(".tf-tm-hover") == "step 3: train loss 1.234"
    page.evaluate("window.model.set('validation_loss', [[3, 1.5]])")
    assert page.is_visible(".tf-tm-key-val")
    page.evaluate("window.fetchReply = {name: 'pirate-v1', status: 'cancelled'}")
    page.click(".tf-tm-cancel")
    page.wait_for_function("window.fetched.length === 1")
    assert page.evaluate("window.fetched[0].body") == {
        "action": "cancel-training",
        "target": "pirate-v1",
    }
    assert page.inner_text(".tf-tm-status") == "cancelled"


def models() -> list[dict]:
    return [
        {"id": SMOL, "provider": "HuggingFaceTB", "modality": "chat", "status": "loaded",
         "size_bytes": 270_000_000, "context_length": 8192, "engine": "transformers",
         "adapters": ["pirate-v1"], "parent": None},
        {"id": "sentence-transformers/all-MiniLM-L6-v2", "provider": "sentence-transformers",
         "modality": "embedding", "status": "available", "size_bytes": 90_000_000,
         "context_length": 256, "engine": "transformers", "adapters": [], "parent": None},
    ]  # fmt: skip


def test_model_library_details_confirmation_and_ids(page, tmp_path):  # noqa: F811
    rows = models()
    traits = traits_of(ModelLibrary, models=rows, visible=[m["id"] for m in rows])
    assert render(page, ModelLibrary, traits, tmp_path) == []
    row = page.locator(f".tf-ml-row[data-model='{SMOL}']")
    row.click()
    assert page.evaluate("window.model.get('selected')") == SMOL
    details = page.inner_text(".tf-ml-details")
    assert "Context length\n8,192 tokens" in details and "pirate-v1" in details
    # Unload asks first; Keep leaves it loaded, the second Unload sends it
    row.locator(".tf-ml-unload").click()
    assert page.evaluate("window.sent") == []
    assert "Unload and its 1 adapter(s)?" in row.inner_text()
    row.locator(".tf-ml-keep").click()
    assert page.evaluate("window.sent") == [] and row.locator(".tf-ml-unload").count() == 1
    row.locator(".tf-ml-unload").click()
    row.locator(".tf-ml-confirm").click()
    assert page.evaluate("window.sent") == [{"action": "unload", "model": SMOL}]
    # Load needs no confirmation
    page.click(".tf-ml-row[data-model^='sentence'] .tf-ml-load")
    assert page.evaluate("window.sent")[-1]["action"] == "load"
    assert row.locator(".tf-ml-confirm").count() == 0
    # a narrow widget keeps its buttons inside (it drops columns the details panel shows)
    page.set_viewport_size({"width": 560, "height": 800})
    outside = page.locator(".tf-model-library").evaluate(
        """lib => [...lib.querySelectorAll(".tf-ml-buttons button")]
            .filter((b) => b.getBoundingClientRect().right > lib.getBoundingClientRect().right)
            .map((b) => b.textContent)"""
    )
    assert outside == []
    # an id wraps only after its organisation, at any width
    page.set_viewport_size({"width": 360, "height": 800})
    names = page.locator(".tf-ml-name").evaluate_all(
        """els => els.map((el) => {
            const range = document.createRange();
            range.selectNodeContents(el);
            return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
        })"""
    )
    assert names and set(names) == {1}


def test_usage_dashboard_with_one_time_bucket_draws_bars(page, tmp_path):  # noqa: F811
    point = {
        "t": 1_800_000_000, "requests": 3, "errors": 0, "prompt_tokens": 120,
        "completion_tokens": 30, "cost_usd": 2e-5, "latency_p50_ms": 100.0,
        "latency_p90_ms": 150.0, "latency_p99_ms": 180.0, "ttft_p50_ms": 10.0,
        "ttft_p90_ms": 12.0,
    }  # fmt: skip
    traits = traits_of(UsageDashboard, points=[point], workspace="default", totals={})
    assert render(page, UsageDashboard, traits, tmp_path) == []
    tokens = page.locator("svg[data-chart='Tokens']")
    assert tokens.locator("rect.tf-ud-bar").count() == 2
    assert tokens.locator("polyline").count() == 0
    times = tokens.locator(".tf-ud-time").all_text_contents()
    assert len(times) == 1  # one bucket, one time label (not "10:28" to "10:28")
    assert "120" in tokens.locator(".tf-ud-value-label").all_text_contents()

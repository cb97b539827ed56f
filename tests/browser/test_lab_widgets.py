"""The monitors in a real JupyterLab: Cancel while a cell waits on the job, the sidebar's jobs,
the batch cell in a fresh notebook, the Model Library at 900 px, and every widget's text in
JupyterLab Dark. Runs after test_lab.py on the same page and gateway (session fixtures)."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from playwright.sync_api import expect

from tests.browser.conftest import (
    current_panel,
    open_demo,
    open_notebook,
    run_command,
    run_in_kernel,
    screenshot,
)
from tests.browser.contrast import low_contrast

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

JOBS = "tokenfactory-jobs.ipynb"
MODEL_WAIT = 360_000  # ms

CELLS = [
    "import pandas as pd\n\nimport tokenfactory as tf\n\n"
    "server = tf.serve()  # attaches to the demo notebook's gateway\n"
    'client = tf.TokenFactory()\nMODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"',
    # a job long enough to be cancelled mid-way
    'lines = [{"custom_id": f"q{i}", "body": {"model": MODEL, "max_tokens": 48, "messages":'
    ' [{"role": "user", "content": f"Write a story number {i}."}]}} for i in range(200)]\n'
    'job = client.batches.create(lines, sla="24h")\nmonitor = tf.BatchMonitor(job.id)\nmonitor',
    'job.wait(poll_interval=0.2, progress=False)\nprint("batch", job.status)',
    'pairs = pd.DataFrame({"prompt": [f"Question {i}?" for i in range(12)],'
    ' "completion": [f"Arr! Answer {i}." for i in range(12)]})\n'
    'client.adapters.create("cancel-me", epochs=10, learning_rate=0.001, rank=8)\n'
    'client.adapters.upload_training_data("cancel-me", pairs)\n'
    'client.adapters.train("cancel-me")\ntraining = tf.TrainingMonitor("cancel-me")\ntraining',
    'adapter = client.adapters.wait("cancel-me", progress=False, poll_interval=0.2)\n'
    'print("training", adapter.status)',
    "tf.UsageDashboard()",
]


def write_jobs_notebook(root) -> None:
    nb = new_notebook(cells=[new_code_cell(c) for c in CELLS])
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["kernelspec"] = kernel
    nbformat.write(nb, root / JOBS)


def cell(panel, index: int):
    return panel.locator(".jp-Notebook .jp-Cell").nth(index)


def wait_running(panel, index: int) -> None:
    """Until cell ``index`` is the one executing (its prompt shows ``[*]``)."""
    expect(cell(panel, index).locator(".jp-InputPrompt")).to_contain_text("*", timeout=MODEL_WAIT)


def test_cancel_works_while_a_cell_waits_on_the_job(page, lab):
    write_jobs_notebook(lab.root_dir)
    panel = open_notebook(page, JOBS)
    run_command(page, "notebook:run-all-cells", wait=False)
    batch = panel.locator(".tf-batch-monitor")
    batch.wait_for(timeout=MODEL_WAIT)
    wait_running(panel, 2)  # job.wait() holds the kernel
    expect(batch.locator(".tf-bm-cancel")).to_be_enabled()
    batch.locator(".tf-bm-cancel").click()
    # the blocked cell sees the job end: the click did not queue behind it
    expect(cell(panel, 2).locator(".jp-OutputArea")).to_contain_text(
        "batch cancelled", timeout=60_000
    )
    expect(batch.locator(".tf-bm-status")).to_have_text("cancelled")
    expect(batch.locator(".tf-bm-counts")).to_contain_text("cancelled")
    expect(batch.locator(".tf-error")).to_be_hidden()
    training = panel.locator(".tf-training-monitor")
    training.wait_for(timeout=MODEL_WAIT)
    wait_running(panel, 4)  # client.adapters.wait() holds the kernel
    training.locator(".tf-tm-cancel").click()
    expect(cell(panel, 4).locator(".jp-OutputArea")).to_contain_text(
        "training cancelled", timeout=120_000
    )
    expect(training.locator(".tf-tm-status")).to_have_text("cancelled")
    expect(training.locator(".tf-error")).to_be_hidden()  # one cancel, not a second one queued
    panel.locator(".tf-usage .tf-ud-chart").first.wait_for(timeout=60_000)


def test_the_sidebar_lists_the_jobs_and_opens_a_monitor(page):
    panel = current_panel(page)
    page.evaluate("() => window.jupyterapp.shell.activateById('tokenfactory-sidebar')")
    sidebar = page.locator("#tokenfactory-sidebar")
    job = sidebar.locator(".tf-job[data-kind='batch']").first
    job.wait_for(timeout=30_000)
    expect(job).to_contain_text("cancelled")
    training = sidebar.locator(".tf-job[data-kind='training'][data-job='cancel-me']")
    expect(training).to_contain_text("cancelled")
    clipped = sidebar.evaluate(
        """el => [...el.querySelectorAll(".tf-job-id, .tf-job-open")].filter((node) => {
            const card = node.closest(".tf-gateway").getBoundingClientRect();
            return node.getBoundingClientRect().right > card.right + 0.5
                || node.scrollWidth > node.clientWidth + 1;
        }).map((node) => node.textContent)"""
    )
    assert clipped == []
    before = panel.locator(".tf-batch-monitor").count()
    job.locator(".tf-job-open").click()
    expect(panel.locator(".tf-batch-monitor")).to_have_count(before + 1, timeout=60_000)
    before = panel.locator(".tf-training-monitor").count()
    training.locator(".tf-job-open").click()
    expect(panel.locator(".tf-training-monitor")).to_have_count(before + 1, timeout=60_000)
    expect(panel.locator(".tf-training-monitor").last.locator(".tf-tm-status")).to_have_text(
        "cancelled"
    )
    # launcher cards: one icon each
    run_command(page, "launcher:create")
    launcher = current_panel(page)
    section = launcher.locator(".jp-Launcher-section", has=page.locator("text=Token Factory"))
    icons = section.locator(".jp-LauncherCard-icon svg").evaluate_all(
        "svgs => svgs.map((s) => s.innerHTML)"
    )
    assert len(icons) == 4 and len(set(icons)) == 4
    run_command(page, "application:close")


ADAPTERS = ["support-tickets-in-a-pirate-voice-v2", "summaries-de"]
IMPORT_ADAPTERS = """
from pathlib import Path

from tests.lora_adapters import make_random_adapter
from tokenfactory.engine.model_files import resolve

folder = make_random_adapter(resolve("HuggingFaceTB/SmolLM2-135M-Instruct"), Path({out!r}), 1)
for name in {names!r}:
    tf.TokenFactory().adapters.import_folder(name, folder)
"""


def test_the_sidebar_lists_each_adapter_on_its_own_readable_row(page, lab):
    """Two adapters served (imported: a PEFT folder made on the spot, in the demo kernel that
    has the model's libraries loaded already): each is a row of its own, its whole name shown
    inside the sidebar's default width."""
    open_demo(page, MODEL_WAIT)
    code = IMPORT_ADAPTERS.format(out=str(lab.root_dir.parent / "peft"), names=ADAPTERS)
    assert run_in_kernel(page, code) is None
    page.evaluate("() => window.jupyterapp.shell.activateById('tokenfactory-sidebar')")
    sidebar = page.locator("#tokenfactory-sidebar")
    adapters = sidebar.locator(".tf-gateway .tf-adapter")
    expect(adapters).to_have_count(2, timeout=30_000)
    expect(sidebar.locator(".tf-adapters > .tf-fact-label")).to_have_text("adapters (2)")
    rows = adapters.evaluate_all(
        """items => items.map((item) => {
            const box = item.getBoundingClientRect();
            const card = item.closest(".tf-gateway").getBoundingClientRect();
            return {
                name: item.dataset.adapter,
                text: item.innerText.trim(),
                top: box.top,
                bottom: box.bottom,
                inside: box.right <= card.right + 0.5 && box.left >= card.left - 0.5,
                clipped: item.scrollWidth > item.clientWidth + 1,
            };
        })"""
    )
    assert [r["name"] for r in rows] == sorted(ADAPTERS)
    for row in rows:
        assert row["text"] == row["name"], row  # the whole name, no ellipsis
        assert row["inside"] and not row["clipped"], row
    assert rows[1]["top"] >= rows[0]["bottom"] - 0.5, rows  # one row each, one under the other


def test_the_batch_cell_runs_in_a_fresh_notebook(page):
    run_command(page, "notebook:create-new", {"kernelName": "python3"})
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext?.session?.kernel?.status"
        " === 'idle'",
        timeout=120_000,
    )
    panel = current_panel(page)
    run_command(page, "tokenfactory:insert-batch-cell")
    sources = panel.locator(".jp-Cell .jp-InputArea-editor")
    expect(sources).to_have_count(2)
    assert sources.nth(0).inner_text().strip() == "%load_ext tokenfactory"
    assert sources.nth(1).inner_text().startswith("%%tf_batch")
    run_command(page, "notebook:run-all-cells", wait=False)
    panel.locator(".tf-batch-monitor").wait_for(timeout=120_000)
    assert "UsageError" not in panel.inner_text()
    # its job runs to the end here, so the later tests (and their screenshots) find the engine
    # idle, not decoding this batch
    expect(panel.locator(".tf-batch-monitor .tf-bm-status")).to_have_text(
        "completed", timeout=MODEL_WAIT
    )
    run_command(page, "notebook:close-and-shutdown", wait=False)  # it awaits its dialog
    page.locator(".jp-Dialog .jp-mod-accept").click()


def test_the_model_library_keeps_its_buttons_inside_at_900px(page):
    panel = open_demo(page, MODEL_WAIT)
    page.set_viewport_size({"width": 900, "height": 900})
    try:
        library = panel.locator(".tf-model-library")
        library.scroll_into_view_if_needed()
        page.wait_for_timeout(300)  # relayout
        outside = library.evaluate(
            """lib => {
                const right = lib.getBoundingClientRect().right;
                return [...lib.querySelectorAll(".tf-ml-buttons button")]
                    .filter((b) => b.getBoundingClientRect().right > right + 0.5)
                    .map((b) => b.textContent);
            }"""
        )
        assert library.locator(".tf-ml-buttons button").count() >= 2
        assert outside == []
        scroller = library.locator(".tf-ml-scroll")
        assert scroller.evaluate("el => el.scrollWidth <= el.clientWidth + 1")
    finally:
        page.set_viewport_size({"width": 1440, "height": 960})


def test_every_widget_is_readable_in_jupyterlab_dark(page):
    run_command(page, "apputils:change-theme", {"theme": "JupyterLab Dark"})
    page.wait_for_selector("body[data-jp-theme-light='false']", state="attached")
    page.wait_for_timeout(500)  # the theme's CSS applied
    problems: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    demo = open_demo(page, MODEL_WAIT)
    demo.locator(".tf-model-library .tf-ml-row").first.click()  # a selected row and its details
    # a real answer streamed in the dark theme (both bubbles to measure, and the screenshot),
    # on the settings of the light one, not what the earlier tests left
    assert run_in_kernel(page, "pg.clear(); pg.temperature = 0.2; pg.max_tokens = 32") is None
    pg = demo.locator(".tf-playground")
    pg.locator(".tf-pg-input").fill("Name a color.")
    pg.locator(".tf-pg-send").click()
    expect(pg.locator("[data-role='assistant'] .tf-pg-stats")).to_contain_text(
        "tok/s", timeout=MODEL_WAIT
    )
    assert pg.locator("[data-role='assistant'] .tf-pg-text").inner_text().strip()
    expect(pg.locator(".tf-pg-field-error:visible")).to_have_count(0)
    if pg.locator(".tf-pg-code").is_hidden():
        pg.locator(".tf-pg-view-code").click()
    pg.locator(".tf-pg-tab[data-tab='python']").click()
    for selector in (".tf-model-library", ".tf-playground"):
        demo.locator(selector).first.scroll_into_view_if_needed()
        counts[selector], problems[selector] = measure(page, selector)
    screenshot(demo.locator(".tf-model-library"), "model-library-dark.png")
    screenshot(demo.locator(".tf-playground"), "playground-dark.png")
    jobs = open_notebook(page, JOBS)
    for selector in (".tf-batch-monitor", ".tf-training-monitor", ".tf-usage"):
        jobs.locator(selector).first.scroll_into_view_if_needed()
        counts[selector], problems[selector] = measure(page, selector)
    screenshot(jobs.locator(".tf-batch-monitor").first, "batch-monitor-dark.png")
    screenshot(jobs.locator(".tf-training-monitor").first, "training-monitor-dark.png")
    page.evaluate("() => window.jupyterapp.shell.activateById('tokenfactory-sidebar')")
    counts["sidebar"], problems["sidebar"] = low_contrast(page, "#tokenfactory-sidebar")
    screenshot(page, "sidebar-dark.png")
    run_command(page, "apputils:change-theme", {"theme": "JupyterLab Light"})
    assert all(n > 3 for n in counts.values()), counts  # each widget had text to measure
    assert {k: v for k, v in problems.items() if v} == {}


def measure(page, selector: str) -> tuple[int, list[str]]:
    """Contrast of ``selector``'s text in the notebook in front (hidden tabs stay in the DOM)."""
    front = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
    return low_contrast(page, f"[id='{front}'] {selector}")

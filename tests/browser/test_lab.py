"""The Jupyter surface in a real browser: launcher, sidebar, Playground, Model Library, batch cell.

The tests run in file order on one JupyterLab page: the demo notebook started in
``test_sidebar_*`` serves the gateway the later tests use; the launcher test comes last so its
new notebook does not stand in front of the demo.
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    DEMO,
    SCREENSHOTS,
    checkout_status,
    current_panel,
    run_command,
    run_in_kernel,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(480)]

MODEL_WAIT = 360_000  # ms: the demo notebook loads the embedded models


def test_sidebar_shows_a_gateway_started_from_a_notebook(page, lab):
    run_command(page, "docmanager:open", {"path": DEMO})
    page.wait_for_selector(f".lm-TabBar-tab.lm-mod-current:has-text('{DEMO}')")
    demo = current_panel(page)
    page.wait_for_function(  # cells sent before the kernel is up are dropped, not queued
        "() => window.jupyterapp.shell.currentWidget.sessionContext?.session?.kernel?.status"
        " === 'idle'",
        timeout=120_000,
    )
    demo.locator(".jp-Cell").first.locator(".jp-InputPrompt").click()
    run_command(page, "notebook:run-all-cells", wait=False)
    page.locator(".lm-TabBar-tab[data-id='tokenfactory-sidebar']").click()
    sidebar = page.locator("#tokenfactory-sidebar")
    gateway = sidebar.locator(".tf-gateway")
    gateway.wait_for(timeout=MODEL_WAIT)
    page.wait_for_selector("#tokenfactory-sidebar .tf-dot-ready", timeout=MODEL_WAIT)
    text = gateway.first.inner_text()
    assert "transformers" in text
    assert "HuggingFaceTB/SmolLM2-135M-Instruct" in text
    assert "sentence-transformers/all-MiniLM-L6-v2" in text
    assert "requests in flight" in text
    demo.locator(".tf-playground").wait_for(timeout=MODEL_WAIT)
    demo.locator(".tf-model-library .tf-ml-row").first.wait_for(timeout=60_000)
    screenshot(page, "sidebar.png")


def test_playground_streams_an_answer(page):
    pg = current_panel(page).locator(".tf-playground")
    expect(pg.locator(".tf-pg-model")).to_have_value("HuggingFaceTB/SmolLM2-135M-Instruct")
    pg.locator(".tf-pg-input").fill("Name a color.")
    pg.locator(".tf-pg-send").click()
    pg.locator("[data-role='user']").wait_for()
    pg.locator("[data-role='draft']").wait_for(state="attached")
    answer = pg.locator("[data-role='assistant'] .tf-pg-text").first
    answer.wait_for(timeout=MODEL_WAIT)
    assert answer.inner_text().strip()
    assert "tokens" in pg.locator(".tf-pg-stats").first.inner_text()
    assert pg.locator(".tf-error").is_hidden()
    pg.locator(".tf-pg-view-code").click()
    assert "client.chat.completions.create(" in pg.locator(".tf-pg-code-text").inner_text()
    pg.scroll_into_view_if_needed()
    screenshot(pg, "playground.png")


def test_sidebar_fits_its_default_width(page):
    """Nothing in a gateway's card wraps inside a phrase or breaks a model id mid-word."""
    page.evaluate("() => window.jupyterapp.shell.activateById('tokenfactory-sidebar')")
    sidebar = page.locator("#tokenfactory-sidebar")
    sidebar.locator(".tf-gateway .tf-model").first.wait_for()
    width = sidebar.evaluate("el => el.getBoundingClientRect().width")
    assert 200 <= width <= 320, width  # JupyterLab's default side panel width
    problems = sidebar.evaluate(
        """el => {
            const lines = (node) => {
                const range = document.createRange();
                range.selectNodeContents(node);
                return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
            };
            const bad = [];
            for (const card of el.querySelectorAll(".tf-gateway")) {
                const right = card.getBoundingClientRect().right;
                const pieces = card.querySelectorAll(".tf-fact-label, .tf-fact-value,"
                    + " .tf-model-org, .tf-model-name, .tf-model-meta");
                for (const node of pieces) {
                    if (lines(node) > 1) bad.push(`wraps: ${node.textContent}`);
                    if (node.getBoundingClientRect().right > right + 0.5)
                        bad.push(`overflows: ${node.textContent}`);
                }
            }
            return bad;
        }"""
    )
    assert problems == []
    ids = sidebar.locator(".tf-model").evaluate_all("items => items.map((i) => i.dataset.model)")
    assert "HuggingFaceTB/SmolLM2-135M-Instruct" in ids


MARKDOWN_ANSWER = (
    "Here is **bold**, *italic* and `code`:\n\n"
    "* first\n* second\n\n"
    "```python\nprint('hi')\n```\n\n"
    '<img src=x onerror="window.__tfInjected = 1"> and [a link](javascript:window.__tfInjected=2)'
)


def test_playground_renders_markdown_and_no_html(page):
    pg = current_panel(page).locator(".tf-playground")
    message = {"role": "assistant", "content": MARKDOWN_ANSWER}
    error = run_in_kernel(page, f"pg.history = [*pg.history, {message!r}]")
    assert error is None
    answer = pg.locator("[data-role='assistant'] .tf-pg-text").last
    expect(answer.locator("strong")).to_have_text(["bold"])
    expect(answer.locator("em")).to_have_text(["italic"])
    expect(answer.locator("ul > li")).to_have_count(2)
    expect(answer.locator("pre code")).to_have_text("print('hi')")
    assert answer.locator("p code").first.inner_text() == "code"
    # model output is text: the tag shows as written, nothing runs, no javascript: link
    assert '<img src=x onerror="window.__tfInjected = 1">' in answer.inner_text()
    assert pg.locator("img").count() == 0
    assert answer.locator("a").count() == 0
    assert page.evaluate("() => window.__tfInjected") is None


def test_model_library_filter_narrows_the_table(page):
    lib = current_panel(page).locator(".tf-model-library")
    rows = lib.locator(".tf-ml-row")
    lib.scroll_into_view_if_needed()
    assert rows.count() == 2
    screenshot(lib, "model-library.png")
    lib.locator(".tf-ml-modality").select_option("embedding")
    expect(rows).to_have_count(1)
    assert "all-MiniLM-L6-v2" in rows.first.inner_text()
    lib.locator(".tf-ml-modality").select_option("")
    lib.locator(".tf-ml-search").fill("smol")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-model", "HuggingFaceTB/SmolLM2-135M-Instruct")


EVAL_GRID_CELL = """
import pandas as pd
from tokenfactory.workbench.result import EvalResult

answers = {"base": ["4", "Paris", "blue sky", "7"], "tuned": ["4", "Lyon", "a blue sky", "8"]}
frame = pd.DataFrame([
    {"row": i, "candidate": c, "prompt": f"question {i}", "answer": answers[c][i], "error": None,
     "exact_match": float(answers[c][i] in ("4", "Paris", "a blue sky", "7")),
     "latency_s": 0.1, "completion_tokens": 3, "cost_usd": 1e-6, "metric_errors": None}
    for c in answers for i in range(4)
])
grid = tf.EvalGrid(EvalResult(frame, ["exact_match"], ["base", "tuned"], "base"))
grid
"""


def test_eval_grid_puts_disagreements_first_and_filters(page):
    panel = current_panel(page)
    page.evaluate(
        """(source) => {
            const notebook = window.jupyterapp.shell.currentWidget.content;
            const at = notebook.model.cells.length;
            notebook.model.sharedModel.insertCell(at, { cell_type: "code", source });
            notebook.activeCellIndex = at;
        }""",
        EVAL_GRID_CELL,
    )
    run_command(page, "notebook:run-cell", wait=False)
    grid = panel.locator(".tf-eval-grid")
    rows = grid.locator(".tf-eg-row")
    expect(rows).to_have_count(4, timeout=60_000)
    # rows 1-3 disagree and come first; the words that differ from the baseline are marked
    assert [rows.nth(i).get_attribute("data-row") for i in range(4)] == ["1", "2", "3", "0"]
    expect(rows.first.locator(".tf-eg-ins")).to_have_text("Lyon")
    expect(grid.locator(".tf-eg-summary tr[data-candidate='tuned']")).to_contain_text("0.5 (-0.25)")
    grid.locator(".tf-eg-only").check()
    expect(rows).to_have_count(3)
    grid.scroll_into_view_if_needed()
    screenshot(grid, "eval-grid.png")


def test_command_inserts_a_batch_cell_at_the_cursor(page):
    cells = current_panel(page).locator(".jp-Cell")
    cells.first.locator(".jp-InputPrompt").click()
    before = cells.count()
    page.keyboard.press("Control+Shift+C")
    palette = page.locator(".lm-CommandPalette-input")
    palette.fill("Insert Batch Submission Cell")
    page.keyboard.press("Enter")
    expect(cells).to_have_count(before + 1)
    inserted = cells.nth(1)
    assert "%%tf_batch --sla 24h --model HuggingFaceTB/SmolLM2-135M-Instruct" in (
        inserted.inner_text()
    )


def test_launcher_card_creates_a_notebook_from_a_template(page, lab):
    run_command(page, "launcher:create")
    launcher = current_panel(page)
    section = launcher.locator(".jp-Launcher-section", has=page.locator("text=Token Factory"))
    card = section.locator(".jp-LauncherCard", has_text="Model Library")
    card.click()
    page.wait_for_selector(".lm-TabBar-tab:has-text('Models.ipynb')")
    created = lab.root_dir / "Models.ipynb"
    assert created.exists()
    assert "tf.ModelLibrary(" in created.read_text()
    current_panel(page).locator(".jp-Cell:has-text('tf.ModelLibrary')").first.wait_for()


@pytest.mark.timeout(900)
def test_sidebar_button_opens_a_playground_notebook_on_that_gateway(page, lab):
    page.evaluate("() => window.jupyterapp.shell.activateById('tokenfactory-sidebar')")
    gateway = page.locator("#tokenfactory-sidebar .tf-gateway").first
    base_url = gateway.locator(".tf-gateway-url").inner_text()
    gateway.locator("button[data-template='playground']").click()
    page.wait_for_selector(".lm-TabBar-tab.lm-mod-current:has-text('Playground.ipynb')")
    text = (lab.root_dir / "Playground.ipynb").read_text()
    assert f"BASE_URL = '{base_url}'" in text
    # Run All: the cell after the widget's sends at once; it must wait for the model list
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext?.session?.kernel?.status"
        " === 'idle'",
        timeout=120_000,
    )
    run_command(page, "notebook:run-all-cells", wait=False)
    notebook = current_panel(page)
    answer = notebook.locator(".tf-playground [data-role='assistant'] .tf-pg-text").first
    answer.wait_for(timeout=2 * MODEL_WAIT)  # 256 tokens on a loaded CPU can take minutes
    assert answer.inner_text().strip()
    notebook.locator(".jp-OutputArea-output table").first.wait_for()  # pg.to_pandas()
    assert "Pick a model" not in (
        notebook.locator(".tf-playground .tf-error-text").first.text_content() or ""
    )


def test_the_checkout_is_unchanged(status_before):
    """Last: the browser tests wrote nothing into the checkout (screenshots included)."""
    if status_before is None:
        pytest.skip("not a git checkout")
    if os.environ.get("TOKENFACTORY_SCREENSHOTS"):
        pytest.skip("make screenshots regenerates tracked files on purpose")
    assert checkout_status() == status_before
    assert (SCREENSHOTS / "playground.png").exists()

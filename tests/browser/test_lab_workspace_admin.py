"""tf.WorkspaceAdmin() in a real JupyterLab: it renders the workspaces of a real gateway (over
the fake engine: no model is needed to administer one), creates a workspace, makes a key (shown
once, copied) and tops up the wallet, each answer coming back from the gateway through the
kernel. Uses the package's JupyterLab page (tests/browser/conftest.py)."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from playwright.sync_api import expect

from tests.browser.conftest import open_notebook, run_command, run_in_kernel, screenshot
from tests.browser.contrast import low_contrast
from tests.widgets.live import live_gateway

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

ADMIN = "tokenfactory-admin.ipynb"


@pytest.fixture
def gateway(tmp_path):
    with live_gateway(tmp_path) as live:
        yield live


def test_workspace_admin_creates_a_key_and_tops_up_a_wallet(page, lab, gateway):
    source = (
        "import tokenfactory as tf\n\n"
        f"admin = tf.WorkspaceAdmin(base_url={gateway.base_url!r}, api_key={gateway.api_key!r})\n"
        "admin"
    )
    nb = new_notebook(cells=[new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, lab.root_dir / ADMIN)
    panel = open_notebook(page, ADMIN)
    run_command(page, "notebook:run-all-cells", wait=False)
    widget = panel.locator(".tf-workspace-admin")
    panel.locator(".jp-OutputArea-output").first.wait_for(timeout=120_000)
    assert "Error" not in panel.locator(".jp-OutputArea").first.inner_text()
    widget.locator(".tf-wa-row[data-workspace='default']").wait_for(timeout=60_000)
    expect(widget.locator(".tf-wa-denied")).to_be_hidden()

    widget.locator(".tf-wa-new-workspace").fill("lab-team")
    widget.locator(".tf-wa-create_workspace-button").click()
    team = widget.locator(".tf-wa-row[data-workspace='lab-team']")
    expect(team).to_have_attribute("aria-selected", "true", timeout=30_000)
    expect(team.locator(".tf-wa-balance")).to_have_text("no wallet")

    widget.locator(".tf-wa-key-name").fill("browser")
    widget.locator(".tf-wa-create_key-button").click()
    key = widget.locator(".tf-wa-key")
    expect(key).to_contain_text("tf-", timeout=30_000)
    widget.locator(".tf-wa-copy").click()
    expect(widget.locator(".tf-wa-copied")).not_to_have_text("")
    secret = key.inner_text().strip()
    assert run_in_kernel(page, f"assert admin.new_key['key'] == {secret!r}") is None
    expect(team.locator(".tf-wa-nkeys")).to_have_text("1")

    widget.locator(".tf-wa-amount").fill("2.5")
    widget.locator(".tf-wa-top_up-button").click()
    expect(team.locator(".tf-wa-balance")).to_have_text("$2.500000", timeout=30_000)
    expect(widget.locator(".tf-wa-notice")).to_contain_text("Added $2.50")
    expect(widget.locator(".tf-error")).to_be_hidden()
    screenshot(widget, "workspace-admin.png")
    front = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
    for theme in ("JupyterLab Dark", "JupyterLab Light"):  # readable in both
        run_command(page, "apputils:change-theme", {"theme": theme})
        page.wait_for_timeout(500)  # the theme's CSS applied
        count, problems = low_contrast(page, f"[id='{front}'] .tf-workspace-admin")
        assert count > 10 and problems == [], (theme, problems)
    widget.locator(".tf-wa-dismiss").click()
    expect(widget.locator(".tf-wa-key")).to_have_count(0)
    assert run_in_kernel(page, "assert admin.new_key == {}") is None
    run_command(page, "notebook:close-and-shutdown", wait=False)
    page.locator(".jp-Dialog .jp-mod-accept").click()

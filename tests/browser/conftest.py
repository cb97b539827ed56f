"""A real JupyterLab (isolated Jupyter dirs, token, 127.0.0.1) and Debian's Chromium via Playwright.

Chromium comes from the distribution (``apt-get install -y chromium``), never from
``playwright install``. Without it the browser tests are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tests.jupyter.jupyter_process import JupyterProcess, running_jupyter

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
# Tests write their screenshots under the ignored test-artifacts/; `make screenshots` points
# this at docs/screenshots/ to regenerate the README's.
SCREENSHOTS = Path(
    os.environ.get("TOKENFACTORY_SCREENSHOTS") or REPO / "test-artifacts" / "screenshots"
)
DEMO = "tokenfactory-demo.ipynb"


def write_demo_notebook(root: Path) -> None:
    """The notebook the tests run in the browser: a gateway, a Playground, a Model Library."""
    nb = new_notebook(
        cells=[
            new_code_cell("import tokenfactory as tf\n\nserver = tf.serve()\nserver.base_url"),
            new_code_cell("pg = tf.Playground()\npg.max_tokens = 32\npg.temperature = 0.2\npg"),
            new_code_cell("library = tf.ModelLibrary()\nlibrary"),
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, root / DEMO)


def use_checkout_labextension(data_dir: Path) -> None:
    """Serve this checkout's build of the JupyterLab extension (``tokenfactory/labextension``,
    built from ``extension/``) rather than the copy installed into the environment, which only
    a reinstall refreshes."""
    build = REPO / "tokenfactory" / "labextension"
    if (build / "package.json").exists():
        link = data_dir / "labextensions" / "tokenfactory"
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(build.resolve(), target_is_directory=True)


def checkout_status() -> str | None:
    """``git status --porcelain`` of the checkout, or None outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


# Package scope, not session: Playwright's sync API keeps an event loop running in the main
# thread while its page is open, and every async test after the browser tests would fail with
# "Runner.run() cannot be called from a running event loop".
@pytest.fixture(scope="package")
def status_before() -> str | None:
    return checkout_status()


@pytest.fixture(scope="package")
def lab(status_before, tmp_path_factory) -> Iterator[JupyterProcess]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    base = tmp_path_factory.mktemp("lab")
    use_checkout_labextension(base / "data")
    # the user data dir (with that build) before the environment's
    env = {"TOKENFACTORY_HOME": str(base / "tf-home"), "JUPYTER_PREFER_ENV_PATH": "0"}
    with running_jupyter(base, app="lab", env=env) as proc:
        write_demo_notebook(proc.root_dir)
        yield proc


@pytest.fixture(scope="package")
def page(lab: JupyterProcess, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1440, "height": 960},
        )
        context.set_default_timeout(30_000)
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(f"{lab.url}/lab?reset&token={lab.token}")
        page.wait_for_selector(".jp-Launcher", timeout=60_000)
        page.wait_for_function("() => window.jupyterapp !== undefined", timeout=60_000)
        yield page
        context.close()


def run_command(page, command: str, args: dict | None = None, *, wait: bool = True) -> None:
    """Execute a JupyterLab command; ``wait=False`` returns without awaiting its promise
    (``notebook:run-all-cells`` resolves only when every cell has run)."""
    script = (
        "async ([id, args]) => { await window.jupyterapp.commands.execute(id, args); }"
        if wait
        else "([id, args]) => { window.jupyterapp.commands.execute(id, args); }"
    )
    page.evaluate(script, [command, args or {}])


def current_panel(page):
    """The main-area widget in front (hidden tabs stay in the DOM, so scope by its id)."""
    panel_id = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
    return page.locator(f"[id='{panel_id}']")


def run_in_kernel(page, code: str) -> str | None:
    """Execute ``code`` in the kernel of the notebook in front; returns the error, if any."""
    return page.evaluate(
        """async (code) => {
            const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
            const future = kernel.requestExecute({ code });
            let error = null;
            future.onIOPub = (msg) => {
                if (msg.header.msg_type === "error") error = msg.content.evalue;
            };
            await future.done;
            return error;
        }""",
        code,
    )


def open_notebook(page, path: str):
    """Open (or bring to front) the notebook ``path``; returns its panel once its kernel idles."""
    run_command(page, "docmanager:open", {"path": path})
    page.wait_for_selector(f".lm-TabBar-tab.lm-mod-current:has-text('{path}')")
    page.wait_for_function(  # cells sent before the kernel is up are dropped, not queued
        "() => window.jupyterapp.shell.currentWidget.sessionContext?.session?.kernel?.status"
        " === 'idle'",
        timeout=120_000,
    )
    return current_panel(page)


def screenshot(locator, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    locator.screenshot(path=str(SCREENSHOTS / name))


def open_demo(page, timeout_ms: int = 360_000):
    """The demo notebook in front with its cells run (run here when no earlier test ran them,
    so each test file also runs alone): its Playground ``pg`` has the chat model, the kernel
    is idle. Returns the notebook's panel."""
    from playwright.sync_api import expect

    panel = open_notebook(page, DEMO)
    if run_in_kernel(page, "pg") is not None:  # NameError: the notebook has not run yet
        run_command(page, "notebook:run-all-cells", wait=False)
    expect(panel.locator(".tf-playground .tf-pg-model")).to_have_value(
        "HuggingFaceTB/SmolLM2-135M-Instruct", timeout=timeout_ms
    )
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
        " === 'idle'",
        timeout=timeout_ms,
    )
    return panel

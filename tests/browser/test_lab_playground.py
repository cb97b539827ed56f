"""The Playground in a real JupyterLab (issue 26): a setting out of range refused beside its
field, Stop while a cell blocks the kernel in ``pg.send()``, an answer cut by max_tokens
labelled, the history left where the reader scrolled, and the user bubble and active code tab
readable in JupyterLab Dark. On the demo notebook's gateway and page (shared fixtures)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_demo, run_command, run_in_kernel

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

MODEL_WAIT = 360_000  # ms: the demo notebook loads the embedded models


@pytest.fixture(scope="module")
def demo(page):
    """The demo notebook's Playground ``pg``, live."""
    return open_demo(page, MODEL_WAIT).locator(".tf-playground")


def kernel_value(page, expression: str) -> str:
    """``repr(expression)`` evaluated in the front notebook's kernel."""
    return page.evaluate(
        """async (code) => {
            const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
            const future = kernel.requestExecute({ code, silent: false, store_history: false });
            let value = null;
            future.onIOPub = (msg) => {
                const type = msg.header.msg_type;
                if (type === "execute_result") value = msg.content.data["text/plain"];
                if (type === "error") value = "error: " + msg.content.evalue;
            };
            await future.done;
            return value;
        }""",
        expression,
    )


def test_a_setting_out_of_range_is_refused_beside_its_field(page, demo):
    temperature = demo.locator("input[data-param='temperature']")
    expect(temperature).to_have_value("0.2")
    temperature.fill("5")
    temperature.press("Tab")
    note = demo.locator(".tf-pg-field-error[data-error-for='temperature']")
    expect(note).to_be_visible()
    expect(note).to_have_text("temperature must be between 0 and 2 (got 5)")
    expect(temperature).to_have_value("0.2")  # back to the value the kernel holds
    max_tokens = demo.locator("input[data-param='max_tokens']")
    assert max_tokens.get_attribute("max") == "4096"
    assert "1–4096" in demo.locator(".tf-pg-basic").inner_text()  # the ranges are shown
    max_tokens.fill("0")
    max_tokens.press("Tab")
    expect(demo.locator(".tf-pg-field-error[data-error-for='max_tokens']")).to_contain_text(
        "between 1 and 4096"
    )
    expect(max_tokens).to_have_value("32")
    assert kernel_value(page, "(pg.temperature, pg.max_tokens)") == "(0.2, 32)"
    temperature.fill("0.3")  # a valid value takes the message away and reaches the kernel
    temperature.press("Tab")
    expect(note).to_be_hidden()
    assert kernel_value(page, "pg.temperature") == "0.3"  # runs after the widget's update
    for value in ("31", "32"):  # the page's own refusal goes with a valid value too (a change:
        max_tokens.fill(value)  # the field already shows 32 again)
        max_tokens.press("Tab")
    expect(demo.locator(".tf-pg-field-error:visible")).to_have_count(0)
    assert kernel_value(page, "pg.max_tokens") == "32"


def test_stop_works_while_a_cell_waits_in_pg_send(page, demo):
    """As notebook 02 does: ``pg.send()`` in a cell holds the kernel until the answer ends;
    the Stop click cannot wait for it."""
    page.evaluate(
        """() => {
            const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
            window.__tfBlocking = kernel.requestExecute({
                code: "pg.max_tokens = 1500\\n"
                    + "blocked = pg.send('Write a very long story about a dragon and a knight.')",
            }).done;
        }"""
    )
    draft = demo.locator("[data-role='draft'] .tf-pg-text")
    expect(draft).not_to_have_text("…", timeout=MODEL_WAIT)  # tokens are streaming
    stop = demo.locator(".tf-pg-stop")
    expect(stop).to_be_enabled()
    stop.click()
    page.evaluate("() => window.__tfBlocking")  # the cell ends because the stream stopped
    last = demo.locator("[data-role='assistant']").last
    expect(last.locator(".tf-pg-finish-stopped")).to_have_text(" · stopped")
    assert kernel_value(page, "pg.history[-1]['finish_reason']") == "'stopped'"
    assert kernel_value(page, "bool(blocked)") == "True"  # the partial answer came back
    run_in_kernel(page, "pg.max_tokens = 32")


def test_a_cut_answer_is_labelled_and_reading_up_is_not_interrupted(page, demo):
    long_turns = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"Turn {i}. " * 30}
        for i in range(12)
    ]
    cut = {
        "role": "assistant",
        "content": "An answer the token limit cut",
        "finish_reason": "length",
        "stats": {"completion_tokens": 32},
    }
    assert run_in_kernel(page, f"pg.history = {[*long_turns, cut]!r}") is None
    expect(demo.locator(".tf-pg-finish-length")).to_have_text(" · cut at max_tokens")
    # per-message Copy puts that message's text on the clipboard
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    demo.locator("[data-role='assistant'] .tf-pg-copy").last.click()
    expect(demo.locator("[data-role='assistant'] .tf-pg-copy").last).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == cut["content"]
    history = demo.locator(".tf-pg-history")
    assert history.evaluate("el => el.scrollHeight > el.clientHeight + 100")
    history.evaluate("el => { el.scrollTop = 0; }")
    # an answer streams in while the reader is up in the history
    run_in_kernel(page, "pg.streaming = True")
    for i in range(5):
        run_in_kernel(page, f"pg.draft = 'streamed words ' * {20 * (i + 1)}")
    expect(demo.locator("[data-role='draft']")).to_contain_text("streamed words")
    assert history.evaluate("el => el.scrollTop") == 0
    # at the bottom, it follows the answer
    history.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    run_in_kernel(page, "pg.draft = 'streamed words ' * 200")
    assert history.evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight") < 30
    run_in_kernel(page, "pg.streaming = False; pg.draft = ''")


def test_the_user_bubble_and_the_active_code_tab_are_readable_in_the_dark(page, demo):
    from tests.browser.contrast import low_contrast

    run_command(page, "apputils:change-theme", {"theme": "JupyterLab Dark"})
    dark = "body[data-jp-theme-light='false']"
    page.wait_for_selector(dark, state="attached", timeout=30_000)
    try:
        page.wait_for_timeout(500)  # the theme's CSS applied
        # a turn of each kind, and an answer's tokens from unlikely (p 0.02) to certain
        words = [f"word{i} " for i in range(12)]
        tokens = [{"token": w, "logprob": -4 + i / 3, "top": []} for i, w in enumerate(words)]
        answer = {
            "role": "assistant",
            "content": "".join(words),
            "logprobs": tokens,
            "finish_reason": "length",
            "stats": {"completion_tokens": 12},
        }
        question = {"role": "user", "content": "A question of mine"}
        assert run_in_kernel(page, f"pg.history = {[question, answer]!r}") is None
        demo.locator(".tf-pg-show-logprobs").last.click()
        expect(demo.locator(".tf-pg-token")).to_have_count(12)
        if demo.locator(".tf-pg-code").is_hidden():
            demo.locator(".tf-pg-view-code").click()
        demo.locator(".tf-pg-tab[data-tab='python']").click()
        demo.locator("[data-role='user']").first.scroll_into_view_if_needed()
        front = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
        scope = f"[id='{front}'] .tf-playground"
        parts = ("[data-role='user']", ".tf-pg-code", ".tf-pg-params", ".tf-pg-heatmap")
        assert demo.locator(".tf-pg-tab.tf-active").inner_text() == "Python SDK"
        for part in parts:
            measured, low = low_contrast(page, f"{scope} {part}")
            assert measured >= 1, part
            assert low == [], part
        measured, low = low_contrast(page, scope)
        assert measured > 10 and low == []
        # playground-dark.png shows a real answer: test_lab_widgets.py takes it
    finally:
        run_command(page, "apputils:change-theme", {"theme": "JupyterLab Light"})

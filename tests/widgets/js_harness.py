"""A widget's JavaScript module in a real Chromium page, with no Jupyter: a minimal stand-in
for anywidget's model (traits, change events, messages, save_changes) renders it, so the
tests read what the page shows and what it sends back. ``fetch`` may be stubbed (the relay)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

HARNESS = """
<html><head><style>__CSS__</style>__CONFIG__</head><body><div id="root"></div>
<script type="module">
const traits = __TRAITS__;
const handlers = {};
window.sent = []; window.saved = []; window.fetched = [];
if (__STUB_FETCH__) {
  window.fetch = async (url, init) => {
    const body = JSON.parse(init.body);
    window.fetched.push({ url, method: init.method, body, headers: init.headers });
    return new Response(JSON.stringify(window.fetchReply), { status: window.fetchStatus || 200 });
  };
}
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
JUPYTER_CONFIG = (
    '<script id="jupyter-config-data" type="application/json">'
    '{"baseUrl": "/jupyter/", "token": "page-token"}</script>'
)


@pytest.fixture
def page():
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser.new_page()
        browser.close()


def render(page, widget_cls, traits: dict, tmp_path: Path, *, jupyter: bool = False) -> list:
    """Render ``widget_cls``'s module with ``traits``; returns the page errors list.
    ``jupyter``: the page carries a Jupyter server config and ``fetch`` is stubbed."""
    esm, css = widget_cls._esm, widget_cls._css
    html = (
        HARNESS.replace("__CSS__", css if isinstance(css, str) else "")
        .replace("__CONFIG__", JUPYTER_CONFIG if jupyter else "")
        .replace("__STUB_FETCH__", "true" if jupyter else "false")
        .replace("__TRAITS__", json.dumps(traits))
        .replace("__ESM__", json.dumps(esm))
    )
    target = tmp_path / f"{widget_cls.__name__}.html"
    target.write_text(html)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(target.as_uri())
    page.wait_for_function("window.rendered === true", timeout=10_000)
    return errors


def traits_of(widget_cls, **values) -> dict:
    """The synced traits' defaults of ``widget_cls`` (as a fresh widget sends them), updated."""
    out = {
        name: trait.default()
        for name, trait in widget_cls.class_traits(sync=True).items()
        if not name.startswith("_")
    }
    out.update(values)
    return json.loads(json.dumps(out, default=lambda _v: None))

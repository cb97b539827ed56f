"""CORS in a real browser: a page served from an allowed origin calls the gateway with fetch()
and reads the answers (JSON, a stream, an error); the same page from another origin is refused
by Chromium itself.

The gateway is a second door (``create_app(core, cors_origins=[...])``) onto the session's
TransformersEngine core, served on that core's own loop: a real engine, no second model load.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tokenfactory.config import DEFAULT_CHAT_MODEL

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PAGE = b"""<!doctype html>
<html><head><title>CORS page</title></head><body>
<p id="answer"></p>
<script>
// Calls the gateway as a web app would; says what the browser let it read.
async function askGateway(base, key, body) {
  try {
    const response = await fetch(base + "/chat/completions", {
      method: "POST",
      headers: { "Authorization": "Bearer " + key, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();  // a stream is read to its end, chunk by chunk
    document.getElementById("answer").textContent = text;
    return { ok: true, status: response.status, text,
             requestId: response.headers.get("x-request-id") };
  } catch (error) {
    return { ok: false, error: String(error) };
  }
}
</script>
</body></html>
"""


class PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def page_origins() -> Iterator[tuple[str, str]]:
    """The same page on two local ports: two origins, ``(allowed, other)``."""
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), PageHandler) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tuple(f"http://127.0.0.1:{s.server_address[1]}" for s in servers)  # type: ignore[misc]
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def cors_gateway(transformers_server, page_origins) -> Iterator[str]:
    """The session core behind an app that allows the first page origin; its /v1 URL."""
    import uvicorn

    from tokenfactory.gateway.app import create_app

    allowed, _ = page_origins
    app = create_app(transformers_server.core, cors_origins=[allowed])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    running = asyncio.run_coroutine_threadsafe(
        server.serve(sockets=[sock]), transformers_server._loop
    )
    deadline = time.monotonic() + 30
    while not server.started and not running.done() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the CORS gateway did not start"
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    server.should_exit = True
    running.result(30)
    sock.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-cors")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        context.set_default_timeout(60_000)
        yield context
        context.close()


def ask_from(browser, origin: str, gateway: str, key: str, **body) -> dict:
    """What the page's fetch() got, and what the browser said on its console meanwhile."""
    page = browser.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    try:
        page.goto(origin + "/")
        request = {
            "model": DEFAULT_CHAT_MODEL,
            "messages": [{"role": "user", "content": "Say hi"}],
            "max_tokens": 4,
            "temperature": 0,
            **body,
        }
        answer = page.evaluate(
            "([base, key, body]) => askGateway(base, key, body)", [gateway, key, request]
        )
        return {**answer, "console": console}
    finally:
        page.close()


def test_a_page_on_an_allowed_origin_reads_answers_streams_and_errors(
    browser, page_origins, cors_gateway, transformers_server
):
    allowed, _ = page_origins
    key = transformers_server.api_key
    answer = ask_from(browser, allowed, cors_gateway, key)
    assert answer["ok"] and answer["status"] == 200, answer
    assert '"chat.completion"' in answer["text"] and answer["requestId"]
    streamed = ask_from(browser, allowed, cors_gateway, key, stream=True)
    assert streamed["ok"] and streamed["status"] == 200, streamed
    assert '"chat.completion.chunk"' in streamed["text"] and "data: [DONE]" in streamed["text"]
    refused = ask_from(browser, allowed, cors_gateway, "tf-not-a-key")
    assert refused["ok"] and refused["status"] == 401, refused  # the page reads the error
    assert '"invalid_api_key"' in refused["text"]


def test_the_same_page_on_another_origin_is_refused_by_the_browser(
    browser, page_origins, cors_gateway, transformers_server
):
    _, other = page_origins
    answer = ask_from(browser, other, cors_gateway, transformers_server.api_key)
    assert not answer["ok"], answer
    assert "Failed to fetch" in answer["error"]
    assert any(
        f"from origin '{other}' has been blocked by CORS policy" in m for m in answer["console"]
    )

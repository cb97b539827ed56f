"""Stop outside the kernel's queue: the page asks the Jupyter server extension
(``POST /tokenfactory/api/cancel``) to stop the Playground's request on its gateway, so Stop
works while a cell blocks the kernel (the widget's own message would wait behind the cell)."""

from __future__ import annotations

import time

import httpx

from tests.jupyter.test_server_extension import announce
from tests.widgets.live import live_gateway
from tokenfactory.widgets.playground import Playground


def post_cancel(jupyter, body: dict) -> httpx.Response:
    url = jupyter.api("/tokenfactory/api/cancel")
    return httpx.post(url, json=body, headers=jupyter.headers, timeout=10)


def test_stop_through_the_server_extension_while_the_kernel_is_busy(jupyter, runtime_dir, tf_home):
    reply = "word " * 400
    with live_gateway(tf_home, replies=[reply]) as live:
        live.engine.delay = 0.01
        announce(live.base_url, live.api_key)
        pg = Playground(base_url=live.base_url, api_key=live.api_key, max_tokens=1000)
        pg.wait()
        pg.send("talk", wait=False)
        deadline = time.monotonic() + 10
        while len(pg.draft) < 10:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        # what the page sends on Stop: the widget's request id, to the gateway it talks to
        r = post_cancel(jupyter, {"base_url": pg.base_url, "kind": "request", "id": pg.request_id})
        assert r.status_code == 200, r.text
        assert r.json()["cancelled"] is True
        pg._stream_thread.join(10)  # the kernel-side stop() was never called
        assert pg.streaming is False and pg.request_id == ""
        last = pg.history[-1]
        assert last["finish_reason"] == "stopped"
        assert 0 < len(last["content"]) < len(reply)
        assert pg.error == ""
        pg.close()


def test_cancel_refuses_what_it_cannot_do(jupyter, runtime_dir, tf_home):
    assert httpx.post(jupyter.api("/tokenfactory/api/cancel"), json={}).status_code == 403
    r = post_cancel(jupyter, {"base_url": "http://127.0.0.1:9/v1", "kind": "poem", "id": "x"})
    assert r.status_code == 400 and "request" in r.json()["error"]["message"]
    r = post_cancel(jupyter, {"base_url": "http://127.0.0.1:9/v1", "kind": "request", "id": "x"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "gateway_not_found"
    with live_gateway(tf_home) as live:
        announce(live.base_url, live.api_key)
        body = {"base_url": live.base_url + "/", "kind": "request", "id": "pg-gone"}
        r = post_cancel(jupyter, body)
        assert r.status_code == 404 and r.json()["error"]["type"] == "not_found"

"""Stop outside the kernel's queue: the page asks the Jupyter server's relay
(``POST /tokenfactory/api/gateways/<id>/actions``, action ``cancel-request``) to stop the
Playground's stream on its gateway, so Stop works while a cell blocks the kernel (the widget's
own message would wait behind the cell)."""

from __future__ import annotations

import time

import httpx

from tests.jupyter.test_server_extension import announce
from tests.widgets.live import live_gateway
from tokenfactory.widgets.playground import Playground


def relay_action(jupyter, gid: str, action: str, target: str) -> httpx.Response:
    url = jupyter.api(f"/tokenfactory/api/gateways/{gid}/actions")
    body = {"action": action, "target": target}
    return httpx.post(url, json=body, headers=jupyter.headers, timeout=10)


def test_stop_through_the_relay_while_the_kernel_is_busy(jupyter, runtime_dir, tf_home):
    reply = "word " * 400
    with live_gateway(tf_home, replies=[reply]) as live:
        live.engine.delay = 0.01
        gid = announce(live.base_url, live.api_key)
        pg = Playground(base_url=live.base_url, api_key=live.api_key, max_tokens=1000)
        pg.wait()
        assert pg.relay_gateway == gid
        pg.send("talk", wait=False)
        deadline = time.monotonic() + 10
        while len(pg.draft) < 10:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        # what the page sends on Stop; the kernel-side stop() is never called
        r = relay_action(jupyter, gid, "cancel-request", pg.request_id)
        assert r.status_code == 200, r.text
        assert r.json()["cancelled"] is True
        pg._stream_thread.join(10)
        assert pg.streaming is False and pg.request_id == ""
        last = pg.history[-1]
        assert last["finish_reason"] == "stopped"
        assert 0 < len(last["content"]) < len(reply)
        assert pg.error == ""
        # a stream that is over is not found (the page ignores that answer)
        r = relay_action(jupyter, gid, "cancel-request", "pg-over")
        assert r.status_code == 404 and r.json()["error"]["type"] == "not_found"
        pg.close()

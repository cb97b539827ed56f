"""`tokenfactory serve` with a model that cannot load exits at once, non-zero, with one message;
loading an unknown model on a running gateway is a 404 at once (no hub retries)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

SERVE_UNKNOWN = ["serve", "--port", "0", "--model", "acme/nope", "--engine", "transformers"]


def test_serve_with_an_unknown_model_exits_non_zero_with_one_message(tf_home):
    env = {**os.environ, "HF_HUB_OFFLINE": "0"}  # even allowed online, nothing is fetched
    out = subprocess.run(
        [sys.executable, "-m", "tokenfactory.cli", *SERVE_UNKNOWN],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stderr.count("engine failed") == 1, out.stderr
    assert "Unknown model 'acme/nope'" in out.stderr
    assert "Traceback" not in out.stderr
    assert "huggingface.co" not in out.stderr


def test_loading_an_unknown_model_is_a_404_at_once(server):
    started = time.monotonic()
    r = httpx.post(
        server.base_url + "/models/load",
        json={"model": "acme/nope"},
        headers={"Authorization": f"Bearer {server.api_key}"},
        timeout=120,
    )
    elapsed = time.monotonic() - started
    assert r.status_code == 404, r.text
    assert "Unknown model 'acme/nope'" in r.json()["error"]["message"]
    assert elapsed < 20  # not ~23 s of hub retries (a bound, not a benchmark)

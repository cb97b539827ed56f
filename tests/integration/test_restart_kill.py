"""Kill -9 then restart, on the real engine and trainer: a batch on a fine-tuned adapter loses no
line (the gateway says ready, and runs lines, only once the adapter is attached again), and a
training run resumed from its checkpoint records each step's loss once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.batch_resume import chat_lines, kill_mid_job_and_resume
from tests.serve_process import ServeProcess
from tokenfactory.config import DEFAULT_CHAT_MODEL

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
KEY = "tf-restart-kill-key"
ADAPTER = "styled"


@pytest.fixture(scope="module")
def adapter_folder(tmp_path_factory) -> Path:
    from tests.lora_adapters import make_random_adapter
    from tokenfactory.engine.model_files import resolve

    out = tmp_path_factory.mktemp("adapter") / "peft"
    return make_random_adapter(resolve(DEFAULT_CHAT_MODEL), out, seed=3)


@pytest.mark.timeout(900)
def test_kill_9_mid_batch_on_an_adapter_then_restart_fails_no_line(tmp_path, adapter_folder):
    server = ServeProcess(
        ["--engine", "transformers", "--model", DEFAULT_CHAT_MODEL], tmp_path / "home", KEY
    )

    def import_adapter(running: ServeProcess) -> None:
        with running.client() as c:
            r = c.post("/v1/adapters/import", json={"name": ADAPTER, "path": str(adapter_folder)})
        assert r.status_code == 200, r.text

    def adapter_is_back(restarted: ServeProcess) -> None:
        """The first 200 from /health: the adapter is attached already."""
        with restarted.client() as c:
            health = c.get("/health").json()
        assert len(health["adapters"]) == 1, health

    lines = chat_lines(ADAPTER, 24, "Say {i}.", max_tokens=4)
    resumed = kill_mid_job_and_resume(
        server, lines, kill_after=2, before_upload=import_adapter, after_restart=adapter_is_back
    )
    assert all(r["response"]["body"]["model"] == ADAPTER for r in resumed.results)


def run_trainer(db: Path, mode: str) -> int:
    env = {**os.environ, "TOKENFACTORY_HOME": str(db.parent), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "tests.integration.lora_crash_worker", str(db), mode]
    return subprocess.run(cmd, cwd=ROOT, env=env, timeout=400).returncode


@pytest.mark.timeout(900)
def test_kill_9_mid_epoch_then_resume_records_each_loss_once(tmp_path):
    db = tmp_path / "db.sqlite3"
    assert run_trainer(db, "train") == -signal.SIGKILL
    assert run_trainer(db, "resume") == 0
    conn = sqlite3.connect(db)
    try:
        status = conn.execute("SELECT status, step, total_steps FROM lora_adapters").fetchall()
        events = conn.execute("SELECT type, step, message FROM lora_events ORDER BY seq").fetchall()
    finally:
        conn.close()
    assert status == [("succeeded", 4, 4)], events
    assert any("resumed from the checkpoint of epoch 1" in (m or "") for _, _, m in events)
    assert [step for kind, step, _ in events if kind == "loss"] == [1, 2, 3, 4]
    assert [step for kind, step, _ in events if kind == "epoch"] == [2, 4]

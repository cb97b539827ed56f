"""A batch line is billed exactly once, even when the process dies as the line finishes.

The worker process is SIGKILLed at a crash point (``TOKENFACTORY_FAULT``) between a line's
run and its commit, or inside the commit's transaction; a second process resumes the job.
Every line must then have one result and one usage row (with the result's request id), and
the wallet must be debited exactly what those rows cost.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINES = 6


def run_worker(home: Path, *args: str, fault: str | None = None) -> int:
    env = {**os.environ, "TOKENFACTORY_HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.pop("TOKENFACTORY_FAULT", None)
    if fault:
        env["TOKENFACTORY_FAULT"] = fault
    cmd = [sys.executable, "-m", "tests.unit.batch_crash_worker", str(home / "db.sqlite3"), *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, timeout=120).returncode


def query(home: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(home / "db.sqlite3")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("point", ["batch.line_ran", "batch.line_committing"])
def test_a_kill_as_a_line_finishes_then_a_resume_bills_each_line_once(tmp_path, point):
    assert run_worker(tmp_path, "submit", str(LINES), fault=point) == -signal.SIGKILL
    done_at_kill = query(tmp_path, "SELECT COUNT(*) FROM batch_lines WHERE state = 'done'")
    assert done_at_kill == [(0,)], "killed as the first line finished: nothing is committed"
    assert query(tmp_path, "SELECT COUNT(*) FROM usage_records") == [(0,)]

    assert run_worker(tmp_path, "resume") == 0
    results = [json.loads(r) for (r,) in query(tmp_path, "SELECT result FROM batch_lines")]
    assert len(results) == LINES and all(r["response"]["status_code"] == 200 for r in results)
    billed = query(tmp_path, "SELECT request_id, tier, cost_pico FROM usage_records")
    assert sorted(r for r, _, _ in billed) == sorted(r["response"]["request_id"] for r in results)
    assert {tier for _, tier, _ in billed} == {"batch_24h"}
    ((micros, carried),) = query(
        tmp_path,
        "SELECT w.balance_micros, COALESCE(r.pico, 0) FROM workspaces w"
        " LEFT JOIN wallet_remainders r ON r.workspace_id = w.id WHERE w.name = 'crash'",
    )
    spent_pico = 10**9 * 10**6 - (micros * 10**6 - carried)
    assert spent_pico == sum(cost for _, _, cost in billed) > 0


def test_a_kill_as_a_job_finishes_never_leaves_it_completed_without_its_output(tmp_path):
    assert (
        run_worker(tmp_path, "submit", str(LINES), fault="batch.job_finishing") == -signal.SIGKILL
    )
    ((status, output),) = query(tmp_path, "SELECT status, output_file_id FROM batch_jobs")
    assert status != "completed" or output is not None, (status, output)

    assert run_worker(tmp_path, "resume") == 0
    ((status, output),) = query(tmp_path, "SELECT status, output_file_id FROM batch_jobs")
    assert status == "completed" and output is not None
    ((path,),) = query(tmp_path, f"SELECT path FROM batch_files WHERE id = '{output}'")
    assert len(Path(path).read_text().splitlines()) == LINES

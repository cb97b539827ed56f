"""Kill -9 a real ``tokenfactory serve`` mid-batch, restart it on the same data directory:
every custom_id ends with exactly one result, and lines committed before the kill keep their
result (they did not run again)."""

from __future__ import annotations

import pytest

from tests.batch_resume import chat_lines, kill_mid_job_and_resume
from tests.serve_process import ServeProcess
from tokenfactory.config import DEFAULT_CHAT_MODEL

KEY = "tf-batch-resume-key"
LINES = 64


def skip_unless_vllm_runs_here() -> None:
    """This test's vLLM servers are their own processes (killed mid-job), not the session's."""
    from tokenfactory.engine.select import create_engine
    from tokenfactory.errors import UnavailableError

    try:
        create_engine("vllm")
    except UnavailableError as exc:
        pytest.skip(f"VLLMEngine cannot run here: {exc}")


@pytest.mark.integration
@pytest.mark.timeout(900)
@pytest.mark.parametrize("engine", ["transformers", "vllm"])
def test_kill_9_mid_batch_then_restart_loses_nothing_and_reruns_nothing(tmp_path, engine):
    if engine == "vllm":
        skip_unless_vllm_runs_here()
    server = ServeProcess(
        ["--engine", engine, "--model", DEFAULT_CHAT_MODEL], tmp_path / "home", KEY
    )
    lines = chat_lines(DEFAULT_CHAT_MODEL, LINES, "Count from {i} to 30 more.", max_tokens=24)
    resumed = kill_mid_job_and_resume(server, lines, kill_after=3)
    assert all(r["response"]["body"]["choices"][0]["message"]["content"] for r in resumed.results)

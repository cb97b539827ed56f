"""How many batch lines a VLLMEngine asks the batch runner to keep running."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tokenfactory.batch.service import BatchService
from tokenfactory.engine.vllm import platform as vllm_platform
from tokenfactory.engine.vllm.engine import VLLMEngine


def _started(engine: VLLMEngine, max_num_seqs: int) -> VLLMEngine:
    config = SimpleNamespace(scheduler_config=SimpleNamespace(max_num_seqs=max_num_seqs))
    engine._served["a/b"].llm = SimpleNamespace(vllm_config=config)
    return engine


def test_on_cuda_a_batch_leaves_half_of_vllms_slots_to_interactive_requests(monkeypatch):
    monkeypatch.setattr(vllm_platform, "backend", lambda: "cuda")
    engine = VLLMEngine(chat_models=["a/b"], embedding_models=[])
    assert engine.batch_lines_in_flight is None  # not started: the runner's default
    assert _started(engine, 256).batch_lines_in_flight == 128


def test_on_the_cpu_a_batch_keeps_the_measured_few_rows(monkeypatch):
    monkeypatch.setattr(vllm_platform, "backend", lambda: "cpu")
    engine = _started(VLLMEngine(chat_models=["a/b"], embedding_models=[]), 128)
    assert engine.batch_lines_in_flight == vllm_platform.CPU.batch_lines_in_flight == 16


@pytest.mark.parametrize(("asked", "rows", "expected"), [(16, None, 16), (None, 24, 48)])
def test_the_runner_keeps_what_the_engine_asks_for(fake_gateway, asked, rows, expected):
    runner = fake_gateway.installed[BatchService].runner
    engine = fake_gateway.engine
    engine.batch_lines_in_flight, engine.max_batch_size = asked, rows
    try:
        assert runner.max_in_flight == expected
    finally:
        del engine.batch_lines_in_flight, engine.max_batch_size


def test_the_ray_runner_reads_the_engine_too_and_adds_its_chunks(fake_gateway):
    from tokenfactory.batch.ray_executor import CHUNK_LINES, RayBatchRunner

    local = fake_gateway.installed[BatchService].runner
    runner = RayBatchRunner(fake_gateway, local.repo, local.files)
    engine = fake_gateway.engine
    engine.batch_lines_in_flight = 16  # what a started vLLM engine says, after the runner exists
    try:
        assert runner.local_in_flight == 16
        assert runner.max_in_flight == 16 + CHUNK_LINES
    finally:
        del engine.batch_lines_in_flight

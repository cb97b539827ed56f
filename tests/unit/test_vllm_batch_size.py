"""A VLLMEngine tells the batch runner how many sequences vLLM schedules together."""

from __future__ import annotations

from types import SimpleNamespace

from tokenfactory.engine.vllm_engine import VLLMEngine


def test_max_batch_size_is_vllms_max_num_seqs_once_a_chat_model_is_up():
    engine = VLLMEngine(chat_models=["a/b"], embedding_models=[])
    assert engine.max_batch_size is None  # not started: the runner assumes its default
    config = SimpleNamespace(scheduler_config=SimpleNamespace(max_num_seqs=128))
    engine._served["a/b"].llm = SimpleNamespace(vllm_config=config)
    assert engine.max_batch_size == 128

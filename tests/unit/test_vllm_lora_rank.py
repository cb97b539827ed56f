"""The LoRA rank a VLLMEngine reserves: smaller on the CPU, and adapters above it refused."""

from __future__ import annotations

import json

import pytest

from tokenfactory.engine.vllm import params as vllm_params
from tokenfactory.engine.vllm import platform as vllm_platform
from tokenfactory.errors import InvalidRequestError


@pytest.mark.parametrize(("backend", "rank"), [("cpu", 16), ("cuda", 64)])
def test_the_backend_sets_the_default_reserved_rank(monkeypatch, backend, rank):
    from tokenfactory.engine.vllm.engine import VLLMEngine

    monkeypatch.setattr(vllm_platform, "backend", lambda: backend)
    engine = VLLMEngine(chat_models=["a/b"], embedding_models=[], enable_lora=True)
    assert engine._settings.max_lora_rank == rank
    args = vllm_params.chat_engine_args("a/b", "/m", engine._settings)
    assert args["max_lora_rank"] == rank
    chosen = VLLMEngine(chat_models=["a/b"], embedding_models=[], max_lora_rank=64)
    assert chosen._settings.max_lora_rank == 64


def _adapter(tmp_path, rank):
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": rank, "lora_alpha": 16}))
    return tmp_path


def test_an_adapter_within_the_reserved_rank_passes(tmp_path):
    vllm_params.check_adapter_rank("a", _adapter(tmp_path, 16), 16)


def test_an_adapter_above_the_reserved_rank_is_a_400_naming_the_setting(tmp_path):
    with pytest.raises(InvalidRequestError, match="max_lora_rank=32") as caught:
        vllm_params.check_adapter_rank("big", _adapter(tmp_path, 32), 16)
    assert caught.value.status_code == 400
    assert "rank 32" in str(caught.value)


def test_a_folder_without_an_adapter_is_a_400(tmp_path):
    with pytest.raises(InvalidRequestError, match=r"adapter_config\.json"):
        vllm_params.check_adapter_rank("none", tmp_path, 16)

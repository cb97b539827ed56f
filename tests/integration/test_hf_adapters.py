"""LoRA adapters served by the running TransformersEngine, per row of a batch."""

from __future__ import annotations

import asyncio

import pytest
import torch

from tokenfactory.config import DEFAULT_CHAT_MODEL
from tokenfactory.engine import model_files
from tokenfactory.errors import InvalidRequestError, ModelNotFoundError

from .hf_helpers import chat_prompt, collect, request

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def adapter_dirs(tmp_path_factory):
    """Two LoRA adapters with random (non-zero) weights, and the peft models that made them."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    made = {}
    for name, seed in (("style-a", 1), ("style-b", 2)):
        torch.manual_seed(seed)
        base = AutoModelForCausalLM.from_pretrained(
            model_files.resolve(DEFAULT_CHAT_MODEL), dtype=torch.float32
        )
        config = LoraConfig(
            r=8,
            lora_alpha=16,
            target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
            init_lora_weights=False,
        )
        peft_model = get_peft_model(base, config).eval()
        with torch.no_grad():  # large enough to change what the model says
            for param_name, param in peft_model.named_parameters():
                if "lora_B" in param_name:
                    param.normal_(0.0, 0.3)
        path = tmp_path_factory.mktemp(name)
        peft_model.save_pretrained(path)
        made[name] = (str(path), peft_model)
    return made


async def test_adapters_serve_per_row_and_unload_cleanly(hf_engine, chat_tokenizer, adapter_dirs):
    prompt = chat_prompt(chat_tokenizer, "What is the capital of France?")
    base_alone, _ = await collect(hf_engine, request(prompt, 10))

    for name, (path, _) in adapter_dirs.items():
        await hf_engine.load_adapter(name, path, DEFAULT_CHAT_MODEL)
    assert hf_engine.adapters() == {"style-a": DEFAULT_CHAT_MODEL, "style-b": DEFAULT_CHAT_MODEL}
    chat_info = {m.id: m for m in hf_engine.models()}[DEFAULT_CHAT_MODEL]
    assert chat_info.extra["adapters"] == ["style-a", "style-b"]
    try:
        a_alone, _ = await collect(hf_engine, request(prompt, 10, adapter="style-a"))
        peft_model = adapter_dirs["style-a"][1]
        with torch.inference_mode():
            ref = peft_model.generate(torch.tensor([prompt]), max_new_tokens=10, do_sample=False)
        assert a_alone == ref[0, len(prompt) :].tolist()
        assert a_alone != base_alone

        b_alone, _ = await collect(hf_engine, request(prompt, 10, model="style-b"))
        mixed = await asyncio.gather(
            collect(hf_engine, request(prompt, 10)),
            collect(hf_engine, request(prompt, 10, adapter="style-a")),
            collect(hf_engine, request(prompt, 10, adapter="style-b")),
        )
        assert [t for t, _ in mixed] == [base_alone, a_alone, b_alone]
        # a base-only batch while adapters are loaded (their layers switched off), then on again
        assert (await collect(hf_engine, request(prompt, 10)))[0] == base_alone
        assert (await collect(hf_engine, request(prompt, 10, adapter="style-a")))[0] == a_alone

        await hf_engine.unload_adapter("style-a")
        with pytest.raises(ModelNotFoundError, match="style-a"):
            await collect(hf_engine, request(prompt, 4, adapter="style-a"))
        assert (await collect(hf_engine, request(prompt, 10, adapter="style-b")))[0] == b_alone
    finally:
        for name in list(hf_engine.adapters()):
            await hf_engine.unload_adapter(name)
    assert (await collect(hf_engine, request(prompt, 10)))[0] == base_alone


async def test_adapter_errors(hf_engine, tmp_path):
    with pytest.raises(InvalidRequestError, match=r"adapter_config\.json"):
        await hf_engine.load_adapter("x", str(tmp_path), DEFAULT_CHAT_MODEL)
    with pytest.raises(ModelNotFoundError):
        await hf_engine.load_adapter("x", str(tmp_path), "nobody/no-model")
    with pytest.raises(ModelNotFoundError):
        await hf_engine.unload_adapter("never-loaded")

"""Our calls into transformers and peft print no FutureWarning (issue 15).

A fresh install gets the newest transformers; from 5.2x it deprecates ``past_key_values``
(renamed ``cache``) and ``PreTrainedModel.is_gradient_checkpointing``, and every notebook and
the test log printed both. Generating (with and without an adapter), embedding and a LoRA
training step must stay quiet on whichever version is installed.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import pytest

from tokenfactory.config import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL
from tokenfactory.engine import model_files

from .hf_helpers import chat_prompt, collect, request

pytestmark = pytest.mark.integration


@contextmanager
def future_warnings():
    """Every FutureWarning raised inside, from any thread (the engine runs on its own)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        messages: list[str] = []
        yield messages
    messages.extend(str(w.message) for w in caught if issubclass(w.category, FutureWarning))


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from tokenfactory.engine.hf.loader import peft_wrapping

    base = AutoModelForCausalLM.from_pretrained(model_files.resolve(DEFAULT_CHAT_MODEL))
    with peft_wrapping():
        model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    path = tmp_path_factory.mktemp("quiet-adapter")
    model.save_pretrained(path)
    return str(path)


async def test_generating_and_embedding_warn_nothing(hf_engine, chat_tokenizer):
    prompt = chat_prompt(chat_tokenizer, "Say hi.")
    with future_warnings() as caught:
        tokens, _ = await collect(hf_engine, request(prompt, 4))
        await hf_engine.embed(DEFAULT_EMBEDDING_MODEL, ["a short text"])
    assert tokens
    assert caught == []


async def test_serving_an_adapter_warns_nothing(hf_engine, chat_tokenizer, adapter_dir):
    prompt = chat_prompt(chat_tokenizer, "Say hi.")
    with future_warnings() as caught:
        await hf_engine.load_adapter("quiet", adapter_dir, DEFAULT_CHAT_MODEL)
        try:
            tokens, _ = await collect(hf_engine, request(prompt, 4, adapter="quiet"))
        finally:
            await hf_engine.unload_adapter("quiet")
    assert tokens
    assert caught == []


def test_a_lora_training_step_warns_nothing(tmp_path):
    from tokenfactory.lora.params import TrainingParams
    from tokenfactory.lora.trainer import TrainingJob, train

    class Quiet:
        def started(self, total_steps, step, epoch): ...

        def step(self, step, epoch, loss): ...

        def epoch_done(self, epoch, step, validation_loss): ...

        def stop_reason(self):
            return None

    conversation = [
        {"role": "user", "content": "Ping?"},
        {"role": "assistant", "content": "Pong."},
    ]
    job = TrainingJob(
        base_path=str(model_files.resolve(DEFAULT_CHAT_MODEL)),
        train=[conversation],
        validation=[conversation],
        params=TrainingParams(epochs=1, rank=4, batch_size=1, max_tokens=64),
        output_dir=tmp_path / "adapter",
        checkpoint_dir=tmp_path / "checkpoints",
    )
    with future_warnings() as caught:
        out = train(job, Quiet())
    assert (out / "adapter_config.json").exists()
    assert caught == []

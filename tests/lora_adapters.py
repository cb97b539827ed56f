"""PEFT LoRA adapters made on the spot, for the tests and benchmarks that serve adapters."""

from __future__ import annotations

from pathlib import Path


def make_random_adapter(base_path: str, out: Path, seed: int) -> Path:
    """A PEFT LoRA adapter with random, non-zero weights (it must change greedy output)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32)
    config = LoraConfig(
        r=8,
        lora_alpha=16,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        init_lora_weights=False,
        task_type="CAUSAL_LM",
    )
    get_peft_model(model, config).save_pretrained(out)
    return out

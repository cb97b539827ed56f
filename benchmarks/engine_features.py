"""What structured outputs and LoRA adapters cost the TransformersEngine, as same-run ratios.

1. structured: N concurrent requests under a JSON Schema (xgrammar masks every step) vs the
   same requests unconstrained, in tokens/s. Target: >= 0.8x.
2. lora-mixed: N concurrent requests, half on a LoRA adapter (peft serves each row with its own
   adapter), vs the same N on the base model with no adapter loaded. Target: >= 0.5x.
3. lora-single: every row on the same adapter (runs as one batch, no per-row split). >= 0.7x.
4. lora-base-rows: an adapter is loaded but every row is on the base model. Target: >= 0.9x.
5. adapter-load: seconds to load an adapter into the running engine (absolute, no ratio).

    .venv/bin/python -m benchmarks.engine_features [--requests 8] [--max-tokens 32]

Engine and baseline alternate, best of ``--rounds``; results go to
``benchmarks/results/engine_features.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import torch

from tokenfactory.config import DEFAULT_CHAT_MODEL
from tokenfactory.engine import model_files
from tokenfactory.engine.hf import TransformersEngine
from tokenfactory.engine.protocol import GenerationRequest, SamplingParams, StructuredSpec

RESULTS = Path(__file__).parent / "results" / "engine_features.json"
SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "year": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["title", "year", "tags"],
}


def prompt_ids(tokenizer, i: int) -> list[int]:
    text = f"Describe book number {i} as JSON with a title, a year and many tags."
    return list(
        tokenizer.apply_chat_template(
            [{"role": "user", "content": text}], add_generation_prompt=True, return_dict=False
        )
    )


async def run(engine, prompts, max_tokens, structured=None, adapters=None) -> float:
    """Generated tokens per second over all requests."""

    async def one(i: int, prompt: list[int]) -> int:
        req = GenerationRequest(
            f"feat-{time.perf_counter_ns()}-{i}",
            DEFAULT_CHAT_MODEL,
            prompt,
            SamplingParams(max_tokens=max_tokens, temperature=0.0),
            structured=structured,
            adapter=adapters[i] if adapters else None,
        )
        count = 0
        async for out in engine.generate(req):
            count += len(out.token_ids)
        return count

    start = time.perf_counter()
    counts = await asyncio.gather(*(one(i, p) for i, p in enumerate(prompts)))
    return sum(counts) / (time.perf_counter() - start)


def make_adapter(folder: Path) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(model_files.resolve(DEFAULT_CHAT_MODEL))
    targets = ["q_proj", "k_proj", "v_proj", "o_proj"]
    config = LoraConfig(r=16, lora_alpha=32, target_modules=targets)
    get_peft_model(base, config).save_pretrained(folder)


async def main(args: argparse.Namespace) -> dict:
    engine = TransformersEngine([DEFAULT_CHAT_MODEL], [], dtype=args.dtype)
    await engine.start()
    tokenizer = engine.tokenizer(DEFAULT_CHAT_MODEL)
    prompts = [prompt_ids(tokenizer, i) for i in range(args.requests)]
    spec = StructuredSpec(json_schema=SCHEMA)
    await run(engine, prompts[:2], 4, structured=spec)  # warm-up, compiles the grammar
    rows = []

    def record(name: str, ours: float, base: float, unit: str, target: float | None) -> None:
        ratio = ours / base if base else None
        met = None if target is None else ratio >= target
        rows.append({"name": name, "engine": ours, "baseline": base, "unit": unit,
                     "ratio": ratio, "target": target, "met": met})  # fmt: skip
        tail = f"  ratio {ratio:5.2f}  (target >= {target})" if target else ""
        print(f"{name:<13} {ours:9.2f} {unit:<6} baseline {base:9.2f}{tail}", flush=True)

    constrained, free = [], []
    for _ in range(args.rounds):
        free.append(await run(engine, prompts, args.max_tokens))
        constrained.append(await run(engine, prompts, args.max_tokens, structured=spec))
    record("structured", max(constrained), max(free), "tok/s", 0.8)

    names = ["bench-adapter" if i % 2 else None for i in range(len(prompts))]
    base_only, mixed, single, base_rows, loads = [], [], [], [], []
    with tempfile.TemporaryDirectory() as folder:
        await asyncio.to_thread(make_adapter, Path(folder))
        for _ in range(args.rounds):
            base_only.append(await run(engine, prompts, args.max_tokens))
            start = time.perf_counter()
            await engine.load_adapter("bench-adapter", folder, DEFAULT_CHAT_MODEL)
            loads.append(time.perf_counter() - start)
            mixed.append(await run(engine, prompts, args.max_tokens, adapters=names))
            only = ["bench-adapter"] * len(prompts)
            single.append(await run(engine, prompts, args.max_tokens, adapters=only))
            base_rows.append(await run(engine, prompts, args.max_tokens))
            await engine.unload_adapter("bench-adapter")
    record("lora-mixed", max(mixed), max(base_only), "tok/s", 0.5)
    record("lora-single", max(single), max(base_only), "tok/s", 0.7)
    record("lora-base-rows", max(base_rows), max(base_only), "tok/s", 0.9)
    record("adapter-load", min(loads), 0.0, "s", None)
    await engine.shutdown()
    return {
        "benchmark": "engine_features",
        "threads": torch.get_num_threads(),
        "settings": vars(args),
        "results": rows,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dtype", default="auto")
    report = asyncio.run(main(parser.parse_args()))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS}")

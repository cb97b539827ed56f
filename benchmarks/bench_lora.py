"""LoRA fine-tuning: training throughput vs a plain PEFT loop, and decode with mixed adapters.

1. train: steps/s of tokenfactory's trainer (as the service runs it: loss events written to
   SQLite at every step) vs a plain PEFT + torch loop over the same tokenized batches with the
   same settings. Target: >= 0.9x. Also reported end to end, with the per-epoch checkpoints
   (adapter + optimizer state) and the final save that the plain loop does not do.
2. decode-mixed: generated tokens/s of N concurrent requests spread over the base model and
   two adapters in the same batches, vs the same N on the base model with no adapter loaded.

    .venv/bin/python -m benchmarks.bench_lora [--epochs 2] [--requests 9] [--max-tokens 32]

Runs alternate (ours, baseline, ours, ...) and the best of ``--rounds`` counts; results go to
``benchmarks/results/bench_lora.json``.
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
from tokenfactory.lora.masking import tokenize_all
from tokenfactory.lora.params import TrainingParams
from tokenfactory.lora.repository import AdapterRepository
from tokenfactory.lora.runner import JobCallbacks, TrainingRunner
from tokenfactory.lora.trainer import (
    TrainingJob,
    collate,
    epoch_batches,
    pick_target_modules,
    train,
)
from tokenfactory.store import Store

RESULTS = Path(__file__).parent / "results" / "bench_lora.json"
QUESTIONS = [
    "What is the capital of France?", "Name a yellow fruit.", "What colour is the sky?",
    "How many legs does a dog have?", "What is two plus two?", "Say hello.",
    "What is water made of?", "Name a planet.", "What do bees make?", "What is ice?",
    "Name a large animal.", "What gives us daylight?", "Where do fish live?",
    "What is the opposite of hot?", "How many days are in a week?", "What falls from clouds?",
    "What do plants need?", "Name a colour.", "What is a baby cat called?", "Name a tool.",
]  # fmt: skip


EXAMPLES = len(QUESTIONS)


def dataset(marker: str) -> list[list[dict]]:
    return [
        [
            {"role": "user", "content": q},
            {"role": "assistant", "content": f"{marker} A short answer to: {q.lower()}"},
        ]
        for q in QUESTIONS[:EXAMPLES]
    ]


def ours(base: str, params: TrainingParams, folder: Path, marker: str):
    """The product's trainer, first step to saved adapter: (steps/s without the epoch
    checkpoints and the final save, steps/s end to end, adapter folder)."""
    from tokenfactory.lora import trainer

    records = AdapterRepository(Store(folder / "bench.sqlite3"), folder / "adapters")
    record = records.create("ws_bench", f"bench-{time.time_ns()}", None, DEFAULT_CHAT_MODEL, params)
    callbacks = JobCallbacks(TrainingRunner(None, records), record.id)  # type: ignore[arg-type]
    marks: dict[str, float] = {"saving": 0.0}
    started = callbacks.started

    def timed_start(total: int, step: int, epoch: int) -> None:
        started(total, step, epoch)
        marks["start"], marks["total"] = time.perf_counter(), total

    def timed(fn):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                marks["saving"] += time.perf_counter() - t0

        return wrapper

    callbacks.started = timed_start  # type: ignore[method-assign]
    saves = trainer.save_checkpoint, trainer.save_adapter
    trainer.save_checkpoint, trainer.save_adapter = timed(saves[0]), timed(saves[1])
    try:
        job = TrainingJob(
            base,
            dataset(marker),
            params,
            records.adapter_dir(record.id),
            records.checkpoints(record.id),
        )
        path = train(job, callbacks, resume=False)
    finally:
        trainer.save_checkpoint, trainer.save_adapter = saves
    elapsed = time.perf_counter() - marks["start"]
    steps = marks["total"]
    return steps / (elapsed - marks["saving"]), steps / elapsed, path


def plain_peft(base: str, params: TrainingParams, marker: str, out: Path) -> float:
    """The baseline: peft + AdamW over the same batches, nothing else."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    torch.manual_seed(params.seed)
    config = LoraConfig(
        r=params.rank,
        lora_alpha=params.alpha,
        lora_dropout=params.dropout,
        target_modules=pick_target_modules(model),
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, config)
    model.train()
    items = tokenize_all(tokenizer, dataset(marker), params.max_tokens)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=params.learning_rate, weight_decay=0.0)
    steps, start = 0, time.perf_counter()
    for epoch in range(1, params.epochs + 1):
        for batch in epoch_batches(items, params.batch_size, params.seed, epoch):
            loss = model(**collate(batch, tokenizer.pad_token_id, "cpu")).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            steps += 1
    rate = steps / (time.perf_counter() - start)
    model.save_pretrained(str(out))
    return rate


async def decode(adapters: dict[str, Path], requests: int, max_tokens: int, rounds: int):
    from tokenfactory.engine.hf import TransformersEngine
    from tokenfactory.engine.protocol import GenerationRequest, SamplingParams

    engine = TransformersEngine([DEFAULT_CHAT_MODEL], [], device="cpu")
    await engine.start()
    tokenizer = engine.tokenizer(DEFAULT_CHAT_MODEL)

    def prompt(i: int) -> list[int]:
        text = f"Tell me a long story about robot number {i} and its garden."
        messages = [{"role": "user", "content": text}]
        return list(
            tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=False)
        )

    async def run(names: list[str | None]) -> float:
        async def one(i: int, adapter: str | None) -> int:
            req = GenerationRequest(
                f"bench-{time.perf_counter_ns()}-{i}",
                DEFAULT_CHAT_MODEL,
                prompt(i),
                SamplingParams(max_tokens=max_tokens, temperature=0.0),
                adapter=adapter,
            )
            return sum([len(out.token_ids) async for out in engine.generate(req)])

        start = time.perf_counter()
        tokens = await asyncio.gather(*(one(i, a) for i, a in enumerate(names)))
        return sum(tokens) / (time.perf_counter() - start)

    base_only = [None] * requests
    cycle = [None, *adapters]
    mixed = [cycle[i % len(cycle)] for i in range(requests)]
    base_rates, mixed_rates = [], []
    await run(base_only[:2])  # warm-up
    for _ in range(rounds):
        for name in list(engine.adapters()):
            await engine.unload_adapter(name)
        base_rates.append(await run(base_only))
        for name, path in adapters.items():
            await engine.load_adapter(name, str(path), DEFAULT_CHAT_MODEL)
        mixed_rates.append(await run(mixed))
    await engine.shutdown()
    return max(base_rates), max(mixed_rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=9)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--examples", type=int, default=len(QUESTIONS))
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    args = parser.parse_args()
    global EXAMPLES
    EXAMPLES = args.examples
    if args.threads:
        torch.set_num_threads(args.threads)
    base = model_files.resolve(DEFAULT_CHAT_MODEL)
    params = TrainingParams(epochs=args.epochs, learning_rate=0.001, rank=16, batch_size=4)
    ours_rates, ours_e2e, plain_rates = [], [], []
    print(f"training {args.epochs} epoch(s) of {args.examples} examples", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        adapters: dict[str, Path] = {}
        for r in range(args.rounds):
            rate, e2e, path = ours(base, params, folder, "Arr!")
            ours_rates.append(rate)
            ours_e2e.append(e2e)
            adapters["pirate"] = path
            plain_rates.append(plain_peft(base, params, "BEEP BOOP.", folder / f"plain-{r}"))
            adapters["robot"] = folder / f"plain-{r}"
            print(f"round {r + 1}: ours {rate:.3f} steps/s, plain PEFT {plain_rates[-1]:.3f}")
        print("decode ...", flush=True)
        base_tps, mixed_tps = asyncio.run(
            decode(adapters, args.requests, args.max_tokens, args.rounds)
        )
    results = {
        "settings": vars(args) | {"rank": 16, "batch_size": 4},
        "train": {
            "ours_steps_per_s": round(max(ours_rates), 3),
            "plain_peft_steps_per_s": round(max(plain_rates), 3),
            "ratio": round(max(ours_rates) / max(plain_rates), 3),
            "target": 0.9,
            "ours_end_to_end_steps_per_s": round(max(ours_e2e), 3),
            "end_to_end_ratio": round(max(ours_e2e) / max(plain_rates), 3),
        },
        "decode_mixed": {
            "base_only_tok_s": round(base_tps, 1),
            "base_plus_two_adapters_tok_s": round(mixed_tps, 1),
            "ratio": round(mixed_tps / base_tps, 3),
        },
        "torch_threads": torch.get_num_threads(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

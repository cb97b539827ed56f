"""TransformersEngine throughput against plain transformers / sentence-transformers.

Every ratio compares two measurements taken in this run, on this machine, with the same
weights and dtype:

1. single stream: one greedy request through the engine vs ``model.generate`` for the same
   number of new tokens (the engine's per-step overhead). Target: >= 0.9x.
2. concurrent: N requests submitted together vs one padded ``model.generate`` over the same
   prompts, counting the tokens each row needs (up to its end-of-sequence). Target: >= 0.9x.
3. staggered: N requests arriving one every ``--gap`` seconds vs serving them one after
   another with ``model.generate`` (what a server without batching does). Target: >= 2x.
4. embeddings: ``engine.embed`` on M sentences vs sentence-transformers ``encode`` (fp32, batch
   64). Target: >= 1x.

    .venv/bin/python -m benchmarks.engine_throughput [--requests 16] [--max-tokens 48]

Absolute numbers drift with load on the machine; compare the ratios. Results are also written
to ``benchmarks/results/engine_throughput.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import time
from pathlib import Path

import torch

from tokenfactory.config import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL
from tokenfactory.engine import model_files
from tokenfactory.engine.hf import TransformersEngine
from tokenfactory.engine.protocol import GenerationRequest, SamplingParams

TOPICS = ["tea", "rivers", "robots", "bees", "clocks", "maps", "snow", "bread", "kites", "owls"]
RESULTS = Path(__file__).parent / "results" / "engine_throughput.json"


def chat_prompts(tokenizer, n: int) -> list[list[int]]:
    texts = [f"Write a long story about {TOPICS[i % len(TOPICS)]} number {i}." for i in range(n)]
    return [
        list(
            tokenizer.apply_chat_template(
                [{"role": "user", "content": t}], add_generation_prompt=True, return_dict=False
            )
        )
        for t in texts
    ]


async def engine_run(engine, prompts, max_tokens: int, gap: float = 0.0) -> tuple[float, int]:
    """Seconds until every request finished, and the tokens generated."""

    async def one(i: int, prompt: list[int]) -> int:
        await asyncio.sleep(i * gap)
        req = GenerationRequest(
            f"bench-{time.perf_counter_ns()}-{i}",
            DEFAULT_CHAT_MODEL,
            prompt,
            SamplingParams(max_tokens=max_tokens, temperature=0.0),
        )
        count = 0
        async for out in engine.generate(req):
            count += len(out.token_ids)
        return count

    start = time.perf_counter()
    counts = await asyncio.gather(*(one(i, p) for i, p in enumerate(prompts)))
    return time.perf_counter() - start, sum(counts)


def useful_tokens(rows: torch.Tensor, eos: int) -> int:
    """New tokens per row up to and including its first end-of-sequence."""
    total = 0
    for row in rows.tolist():
        total += row.index(eos) + 1 if eos in row else len(row)
    return total


@torch.inference_mode()
def generate_padded(model, tokenizer, prompts, max_tokens: int) -> tuple[float, int]:
    width = max(len(p) for p in prompts)
    pad = tokenizer.pad_token_id
    ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    start = time.perf_counter()
    out = model.generate(
        input_ids=ids, attention_mask=mask, max_new_tokens=max_tokens, do_sample=False
    )
    elapsed = time.perf_counter() - start
    return elapsed, useful_tokens(out[:, width:], tokenizer.eos_token_id)


@torch.inference_mode()
def generate_fixed(model, prompt: list[int], new_tokens: int) -> float:
    start = time.perf_counter()
    model.generate(
        torch.tensor([prompt]),
        max_new_tokens=new_tokens,
        min_new_tokens=new_tokens,
        do_sample=False,
    )
    return time.perf_counter() - start


def sentences(n: int) -> list[str]:
    return [
        f"Sentence {i} is about {TOPICS[i % len(TOPICS)]}" + " and more words" * (i % 9)
        for i in range(n)
    ]


async def main(args: argparse.Namespace) -> dict:
    engine = TransformersEngine([DEFAULT_CHAT_MODEL], [DEFAULT_EMBEDDING_MODEL], dtype=args.dtype)
    await engine.start()
    model = engine.hf_model(DEFAULT_CHAT_MODEL)
    tokenizer = engine.tokenizer(DEFAULT_CHAT_MODEL)
    prompts = chat_prompts(tokenizer, args.requests)
    await engine_run(engine, prompts[:2], 4)  # warm-up
    generate_fixed(model, prompts[0], 4)
    rows = []

    def record(name: str, ours: float, base: float, unit: str, target: float) -> None:
        ratio = ours / base
        rows.append({"name": name, "engine": ours, "baseline": base, "unit": unit,
                     "ratio": ratio, "target": target, "met": ratio >= target})  # fmt: skip
        print(f"{name:<13} engine {ours:9.1f} {unit:<11} baseline {base:9.1f}  ratio {ratio:5.2f}"
              f"  (target >= {target})", flush=True)  # fmt: skip

    # Engine and baseline alternate, best of --rounds each: load from other processes on the
    # machine then hits both sides alike instead of whichever happened to run during a spike.
    single, single_base, conc, conc_base = [], [], [], []
    for _ in range(args.rounds):
        seconds, tokens = await engine_run(engine, prompts[:1], args.max_tokens)
        single.append(tokens / seconds)
        single_base.append(tokens / generate_fixed(model, prompts[0], tokens))
        base_seconds, base_tokens = generate_padded(model, tokenizer, prompts, args.max_tokens)
        conc_base.append(base_tokens / base_seconds)
        seconds, tokens = await engine_run(engine, prompts, args.max_tokens)
        conc.append(tokens / seconds)
    record("single", max(single), max(single_base), "tok/s", 0.9)
    record("concurrent", max(conc), max(conc_base), "tok/s", 0.9)

    seconds, tokens = await engine_run(engine, prompts, args.max_tokens, gap=args.gap)
    sequential = 0.0
    for prompt in prompts:
        sequential += generate_padded(model, tokenizer, [prompt], args.max_tokens)[0]
    record("staggered", tokens / seconds, tokens / max(sequential, args.gap * len(prompts)),
           "tok/s", 2.0)  # fmt: skip

    texts = sentences(args.sentences)
    start = time.perf_counter()
    await engine.embed(DEFAULT_EMBEDDING_MODEL, texts)
    ours = len(texts) / (time.perf_counter() - start)
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(model_files.resolve(DEFAULT_EMBEDDING_MODEL), device="cpu")
    st.encode(texts[:8])
    start = time.perf_counter()
    st.encode(texts, batch_size=64)
    record("embeddings", ours, len(texts) / (time.perf_counter() - start), "texts/s", 1.0)

    info = {m.id: m.extra.get("dtype") for m in engine.models() if m.status == "loaded"}
    await engine.shutdown()
    return {
        "benchmark": "engine_throughput",
        "machine": {"cpus": torch.get_num_threads(), "processor": platform.processor()},
        "dtypes": info,
        "settings": vars(args),
        "results": rows,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--gap", type=float, default=0.25, help="seconds between arrivals")
    parser.add_argument("--sentences", type=int, default=256)
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--rounds", type=int, default=2, help="alternating repeats, best kept")
    report = asyncio.run(main(parser.parse_args()))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS}")

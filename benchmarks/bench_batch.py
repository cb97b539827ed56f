"""Batch jobs on the TransformersEngine: throughput vs offline generate, and interactive TTFT.

1. A chat batch of N lines (default 200) through the real runner (SQLite commits and all):
   completion tokens/s, against one padded ``model.generate`` over the same prompts in the same
   process. Target: >= 0.9x.
2. Time to first token of an interactive chat request while a batch of M lines (default 1,000)
   runs, against the same request on an idle engine. Target: <= 2x.

    .venv/bin/python benchmarks/bench_batch.py [--lines 200] [--ttft-lines 1000] [--max-tokens 16]

Both ratios are measured in one run on one machine; absolute numbers are printed for context.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tokenfactory.config import DEFAULT_CHAT_MODEL

TOPICS = ["tea", "rivers", "robots", "bees", "clocks", "maps", "snow", "bread", "kites", "owls"]


def prompts(n: int) -> list[str]:
    return [f"Write one sentence about {TOPICS[i % len(TOPICS)]} number {i}." for i in range(n)]


def lines(texts: list[str], max_tokens: int) -> bytes:
    import json

    rows = [
        {
            "custom_id": f"b{i}",
            "body": {
                "model": DEFAULT_CHAT_MODEL,
                "messages": [{"role": "user", "content": t}],
                "max_tokens": max_tokens,
                "temperature": 0,
            },
        }
        for i, t in enumerate(texts)
    ]
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


async def run_batch(service, principal, data: bytes) -> tuple[float, int, dict]:
    """Submit and wait; returns (seconds from submit to done, completion tokens, job)."""
    started = time.perf_counter()
    job = service.submit(principal, data, "1h")
    while service.repo.job(job["id"])["status"] not in ("completed", "failed"):
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    tokens = sum(
        r["response"]["body"]["usage"]["completion_tokens"]
        for _, r in service.repo.iter_results(job["id"], ok=True)
    )
    return elapsed, tokens, service.repo.job(job["id"])


def padded_generate(engine, texts: list[str], max_tokens: int) -> tuple[float, int]:
    """One ``model.generate`` over all prompts (left-padded, greedy)."""
    import torch

    model = engine._chat[DEFAULT_CHAT_MODEL].model
    tok = engine.tokenizer(DEFAULT_CHAT_MODEL)
    chats = [
        tok.apply_chat_template(
            [{"role": "user", "content": t}], add_generation_prompt=True, tokenize=False
        )
        for t in texts
    ]
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    enc = tok(chats, return_tensors="pt", padding=True, add_special_tokens=False)
    started = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(
            **enc, max_new_tokens=max_tokens, do_sample=False, pad_token_id=tok.pad_token_id
        )
    elapsed = time.perf_counter() - started
    new = out[:, enc["input_ids"].shape[1] :]
    eos = set(engine._chat[DEFAULT_CHAT_MODEL].eos_token_ids) | {tok.pad_token_id}
    tokens = 0
    for row in new.tolist():
        for t in row:
            tokens += 1
            if t in eos:
                break
    return elapsed, tokens


async def ttft(engine, principal, core, n: int = 5) -> list[float]:
    """Median-able TTFTs of short interactive streamed chats, one after another."""
    from tokenfactory.core import Call
    from tokenfactory.services.chat import ChatService
    from tokenfactory.wire.chat import ChatCompletionRequest

    service = ChatService(core)
    out = []
    for i in range(n):
        req = ChatCompletionRequest.model_validate(
            {
                "model": DEFAULT_CHAT_MODEL,
                "messages": [{"role": "user", "content": f"Say hi to visitor {i}."}],
                "max_tokens": 4,
                "temperature": 0,
            }
        )
        prepared = service.prepare(req, Call(principal, "/v1/chat/completions"))
        started = time.perf_counter()
        async for chunk in service.events(prepared):  # a content delta comes pre-encoded
            if isinstance(chunk, bytes) or (chunk.choices and chunk.choices[0].delta.content):
                out.append(time.perf_counter() - started)
                break
        await asyncio.sleep(0.2)
    return out


async def main(args: argparse.Namespace) -> None:
    from tokenfactory.batch.service import BatchService
    from tokenfactory.core import Core
    from tokenfactory.engine.hf import TransformersEngine
    from tokenfactory.store import Principal, Store

    home = Path(tempfile.mkdtemp(prefix="tf-bench-batch-"))
    engine = TransformersEngine([DEFAULT_CHAT_MODEL], [], device="cpu")
    gateway = Core(engine, Store(home / "bench.sqlite3"))
    await gateway.start_engine()
    service = BatchService(gateway, home / "batch")
    await service.runner.start()
    gateway.keys.create_key("default", name="bench")
    principal = Principal(gateway.keys.workspace("default"), "bench")
    print(
        f"engine: transformers, max_batch_size={engine.max_batch_size}, "
        f"runner in flight={service.runner.max_in_flight}"
    )

    texts = prompts(args.lines)
    await run_batch(service, principal, lines(texts[:8], args.max_tokens))  # warm-up
    padded_generate(engine, texts[:8], args.max_tokens)
    b_s, b_tok, _ = await run_batch(service, principal, lines(texts, args.max_tokens))
    g_s, g_tok = await asyncio.to_thread(padded_generate, engine, texts, args.max_tokens)
    size = engine.max_batch_size
    c_s, c_tok = 0.0, 0
    for start in range(0, len(texts), size):  # the same, in chunks of the engine's batch size
        s, t = await asyncio.to_thread(
            padded_generate, engine, texts[start : start + size], args.max_tokens
        )
        c_s, c_tok = c_s + s, c_tok + t
    b_rate, g_rate, c_rate = b_tok / b_s, g_tok / g_s, c_tok / c_s
    print(f"[throughput] batch of {args.lines}: {b_tok} tokens in {b_s:.1f} s = {b_rate:.0f} tok/s")
    print(f"[throughput] one padded generate: {g_tok} tokens in {g_s:.1f} s = {g_rate:.0f} tok/s")
    print(f"[throughput] padded generate x{size} rows: {c_tok} tokens = {c_rate:.0f} tok/s")
    print(f"[throughput] ratio batch/one generate = {b_rate / g_rate:.2f}x (target >= 0.9x)")
    print(f"[throughput] ratio batch/generate in {size}-row chunks = {b_rate / c_rate:.2f}x")

    idle = await ttft(engine, principal, gateway)
    big = service.submit(principal, lines(prompts(args.ttft_lines), args.max_tokens), "24h")
    while service.repo.job(big["id"])["completed"] < 2 * engine.max_batch_size:
        await asyncio.sleep(0.1)
    busy = await ttft(engine, principal, gateway)
    done = service.repo.job(big["id"])
    service.cancel(principal, big["id"])
    t_idle, t_busy = statistics.median(idle), statistics.median(busy)
    print(
        f"[ttft] idle median {t_idle * 1000:.0f} ms; during a {args.ttft_lines}-line batch "
        f"({done['completed']} lines done) median {t_busy * 1000:.0f} ms"
    )
    print(f"[ttft] ratio busy/idle = {t_busy / t_idle:.2f}x (target <= 2x)")
    t0 = time.perf_counter()
    await service.runner.stop()
    t1 = time.perf_counter()
    await gateway.shutdown()
    print(f"stop {t1 - t0:.1f}s shutdown {time.perf_counter() - t1:.1f}s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--ttft-lines", type=int, default=1000)
    parser.add_argument("--max-tokens", type=int, default=16)
    asyncio.run(main(parser.parse_args()))

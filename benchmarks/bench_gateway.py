"""The /v1 gateway against plain transformers, on the same model, dtype and prompts.

Every ratio compares two measurements taken in this run (absolute numbers drift with load):

1. single stream: one streamed greedy chat through ``/v1`` (HTTP, SSE, detokenisation) vs
   ``model.generate`` for the same number of new tokens. Target >= 0.9x.
2. 16 concurrent chats of ~64 tokens through ``/v1`` vs one padded ``model.generate`` over the
   same 16 prompts (target >= 1.0x) and vs transformers' continuous batching
   ``generate_batch`` (num_blocks=16, max_batch_tokens=512; target >= 2.0x).
3. ``/v1/embeddings`` texts/s vs ``SentenceTransformer.encode`` on the same 256 texts (>= 1.0x).
4. ``import tokenfactory`` time, and cold start of ``tf.serve()`` to the first streamed token
   (a fresh process, cached model copy), reported in seconds.

    .venv/bin/python -m benchmarks.bench_gateway [--requests 16] [--max-tokens 64]

Results are written to ``benchmarks/results/gateway.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import torch

from tokenfactory.config import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL

RESULTS = Path(__file__).parent / "results" / "gateway.json"
TOPICS = [
    "tea",
    "rivers",
    "robots",
    "bees",
    "clocks",
    "maps",
    "snow",
    "bread",
    "kites",
    "owls",
    "trains",
    "lamps",
    "ferns",
    "boats",
    "chess",
    "salt",
]


def messages(i: int) -> list[dict]:
    topic = TOPICS[i % len(TOPICS)]
    return [{"role": "user", "content": f"Write a long, detailed paragraph about {topic}."}]


async def stream_one(client: httpx.AsyncClient, base: str, key: str, i: int, n: int) -> int:
    body = {
        "model": DEFAULT_CHAT_MODEL,
        "messages": messages(i),
        "max_tokens": n,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    tokens = 0
    async with client.stream(
        "POST", f"{base}/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
    ) as r:
        async for line in r.aiter_lines():
            if line.startswith("data: {"):
                chunk = json.loads(line[6:])
                if chunk.get("usage"):
                    tokens = chunk["usage"]["completion_tokens"]
    return tokens


async def gateway_chats(base: str, key: str, count: int, n: int) -> tuple[float, int]:
    async with httpx.AsyncClient(timeout=600) as client:
        start = time.perf_counter()
        counts = await asyncio.gather(*(stream_one(client, base, key, i, n) for i in range(count)))
    return time.perf_counter() - start, sum(counts)


def prompt_ids(tokenizer, count: int) -> list[list[int]]:
    return [
        list(
            tokenizer.apply_chat_template(
                messages(i), add_generation_prompt=True, tokenize=True, return_dict=False
            )
        )
        for i in range(count)
    ]


def useful(row: list[int], eos: int) -> int:
    return row.index(eos) + 1 if eos in row else len(row)


def padded_generate(model, tokenizer, prompts: list[list[int]], n: int) -> tuple[float, int]:
    tokenizer.padding_side = "left"
    batch = tokenizer.pad({"input_ids": prompts}, return_tensors="pt")
    with torch.inference_mode():
        start = time.perf_counter()
        out = model.generate(
            **batch, max_new_tokens=n, do_sample=False, pad_token_id=tokenizer.pad_token_id
        )
        elapsed = time.perf_counter() - start
    new = out[:, batch["input_ids"].shape[1] :].tolist()
    return elapsed, sum(useful(r, tokenizer.eos_token_id) for r in new)


def continuous_generate(model, prompts: list[list[int]], n: int, eos: int) -> tuple[float, int]:
    from transformers import GenerationConfig
    from transformers.generation.configuration_utils import ContinuousBatchingConfig

    config = GenerationConfig(max_new_tokens=n, do_sample=False, eos_token_id=eos)
    cb = ContinuousBatchingConfig(num_blocks=16, max_batch_tokens=512)
    with torch.inference_mode():
        start = time.perf_counter()
        outputs = model.generate_batch(
            prompts, generation_config=config, continuous_batching_config=cb, warmup=False
        )
        elapsed = time.perf_counter() - start
    return elapsed, sum(useful(list(o.generated_tokens), eos) for o in outputs.values())


def timed_subprocess(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - start


COLD_START = """
import time, json, httpx
t = time.perf_counter()
import tokenfactory as tf
s = tf.serve(embedding_models=[], models=[MODEL], new=True)
body = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4,
        "stream": True}
with httpx.stream("POST", s.base_url + "/chat/completions", json=body,
                  headers={"Authorization": "Bearer " + s.api_key}, timeout=300) as r:
    for line in r.iter_lines():
        chunk = json.loads(line[6:]) if line.startswith("data: {") else None
        if chunk and chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
            break
print(time.perf_counter() - t)
s.stop()
""".replace("MODEL", repr(DEFAULT_CHAT_MODEL))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--single-tokens", type=int, default=128)
    parser.add_argument("--texts", type=int, default=256)
    args = parser.parse_args()

    import tokenfactory as tf
    from tokenfactory.engine import model_files

    server = tf.serve(engine="transformers", new=True)
    engine = server.core.engine
    chat_info = next(m for m in engine.models() if m.id == DEFAULT_CHAT_MODEL)
    dtype = chat_info.extra.get("dtype", "bfloat16")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = model_files.resolve(DEFAULT_CHAT_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(path)
    torch_dtype = torch.bfloat16 if dtype == "bfloat16" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype).eval()
    eos = tokenizer.eos_token_id
    results: dict = {"dtype": str(torch_dtype), "settings": vars(args)}

    # 1. single stream
    asyncio.run(gateway_chats(server.base_url, server.api_key, 1, 8))  # warm up both paths
    padded_generate(model, tokenizer, prompt_ids(tokenizer, 1), 8)
    g_time, g_tokens = asyncio.run(
        gateway_chats(server.base_url, server.api_key, 1, args.single_tokens)
    )
    prompt = torch.tensor(prompt_ids(tokenizer, 1))
    with torch.inference_mode():
        start = time.perf_counter()
        model.generate(prompt, max_new_tokens=g_tokens, min_new_tokens=g_tokens, do_sample=False)
        b_time = time.perf_counter() - start
    results["single_stream"] = {
        "gateway_tok_s": g_tokens / g_time,
        "generate_tok_s": g_tokens / b_time,
        "ratio": (g_tokens / g_time) / (g_tokens / b_time),
        "target": 0.9,
    }

    # 2. concurrent
    prompts = prompt_ids(tokenizer, args.requests)
    g_time, g_tokens = asyncio.run(
        gateway_chats(server.base_url, server.api_key, args.requests, args.max_tokens)
    )
    p_time, p_tokens = padded_generate(model, tokenizer, prompts, args.max_tokens)
    c_time, c_tokens = continuous_generate(model, prompts, args.max_tokens, eos)
    ours = g_tokens / g_time
    results["concurrent"] = {
        "gateway_tok_s": ours,
        "padded_generate_tok_s": p_tokens / p_time,
        "generate_batch_tok_s": c_tokens / c_time,
        "ratio_vs_padded": ours / (p_tokens / p_time),
        "target_vs_padded": 1.0,
        "ratio_vs_generate_batch": ours / (c_tokens / c_time),
        "target_vs_generate_batch": 2.0,
    }

    # 3. embeddings
    from sentence_transformers import SentenceTransformer

    texts = [
        f"Sentence number {i} talks about {TOPICS[i % 16]} and {TOPICS[(i * 7) % 16]}"
        + " in some detail" * (i % 5)
        for i in range(args.texts)
    ]
    headers = {"Authorization": f"Bearer {server.api_key}"}
    httpx.post(
        f"{server.base_url}/embeddings",
        json={"model": DEFAULT_EMBEDDING_MODEL, "input": texts[:8]},
        headers=headers,
        timeout=300,
    )
    start = time.perf_counter()
    r = httpx.post(
        f"{server.base_url}/embeddings",
        json={"model": DEFAULT_EMBEDDING_MODEL, "input": texts},
        headers=headers,
        timeout=300,
    )
    e_time = time.perf_counter() - start
    assert r.status_code == 200, r.text
    st = SentenceTransformer(model_files.resolve(DEFAULT_EMBEDDING_MODEL), device="cpu")
    st.encode(texts[:8])
    start = time.perf_counter()
    st.encode(texts, batch_size=64)
    s_time = time.perf_counter() - start
    results["embeddings"] = {
        "gateway_texts_s": len(texts) / e_time,
        "sentence_transformers_texts_s": len(texts) / s_time,
        "ratio": s_time / e_time,
        "target": 1.0,
    }
    server.stop()

    # 4. start-up
    results["import_tokenfactory_s"] = timed_subprocess("import tokenfactory") - timed_subprocess(
        "pass"
    )
    cold = subprocess.run(
        [sys.executable, "-c", COLD_START], check=True, capture_output=True, text=True
    )
    results["cold_start_to_first_token_s"] = float(cold.stdout.strip().splitlines()[-1])
    results["machine"] = {"cpus": torch.get_num_threads(), "torch": torch.__version__}

    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

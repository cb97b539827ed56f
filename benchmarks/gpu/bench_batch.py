"""The batch runner (/v1/files + /v1/batches) vs ``vllm.LLM.chat`` on the same prompts.

Both sides generate up to 128 greedy tokens for each of 512 chat prompts with the same engine
settings; reports output tokens/s of each (engine start-up excluded) and the ratio.

    python -m benchmarks.gpu.bench_batch [--requests 512 --max-tokens 128]
"""

from __future__ import annotations

import argparse
import io
import json
import secrets
import subprocess
import sys
import time

from . import common

LLM_SCRIPT = r"""
import json, sys, time
from vllm import LLM, SamplingParams
args, prompts, max_tokens = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
llm = LLM(**args)
conversations = [[{"role": "user", "content": p}] for p in prompts]
params = SamplingParams(max_tokens=max_tokens, temperature=0)
llm.chat(conversations[:8], params, use_tqdm=False)  # warm-up
start = time.perf_counter()
outputs = llm.chat(conversations, params, use_tqdm=False)
wall = time.perf_counter() - start
tokens = sum(len(o.outputs[0].token_ids) for o in outputs)
print("RESULT " + json.dumps({"completion_tokens": tokens, "wall_s": wall}))
"""


def run_llm_generate(path: str, texts: list[str], max_tokens: int) -> dict:
    """``vllm.LLM`` in its own process (so its GPU memory is gone when it returns)."""
    args = {k: v for k, v in common.engine_args(path).items() if k != "disable_log_stats"}
    done = subprocess.run(
        [sys.executable, "-c", LLM_SCRIPT, json.dumps(args), json.dumps(texts), str(max_tokens)],
        capture_output=True,
        text=True,
        cwd=common.ROOT,
        check=False,
    )
    lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"vllm.LLM run failed:\n{done.stderr[-4000:]}")
    result = json.loads(lines[-1][len("RESULT ") :])
    result["tokens_per_s"] = round(result["completion_tokens"] / result["wall_s"], 1)
    return result


def upload_batch_input(client, texts: list[str], max_tokens: int) -> str:
    """Upload one greedy chat line per prompt (``purpose="batch"``); returns the file id."""
    lines = [
        {
            "custom_id": f"line-{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": common.CHAT_MODEL,
                "messages": [{"role": "user", "content": text}],
                "max_tokens": max_tokens,
                "temperature": 0,
            },
        }
        for i, text in enumerate(texts)
    ]
    payload = "\n".join(json.dumps(line) for line in lines).encode()
    return client.files.create(file=("bench.jsonl", io.BytesIO(payload)), purpose="batch").id


def run_batch_job(server: common.Server, texts: list[str], max_tokens: int) -> dict:
    from openai import OpenAI

    client = OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)
    file_id = upload_batch_input(client, texts, max_tokens)
    start = time.perf_counter()
    batch = client.batches.create(
        input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="1h"
    )
    while batch.status not in {"completed", "failed", "expired", "cancelled"}:
        time.sleep(0.25)
        batch = client.batches.retrieve(batch.id)
    wall = time.perf_counter() - start
    if batch.status != "completed":
        raise RuntimeError(f"batch ended {batch.status}: {batch}")
    results = [json.loads(x) for x in client.files.content(batch.output_file_id).text.splitlines()]
    tokens = sum(r["response"]["body"]["usage"]["completion_tokens"] for r in results)
    return {
        "completion_tokens": tokens,
        "wall_s": round(wall, 3),
        "tokens_per_s": round(tokens / wall, 1),
        "failed": batch.request_counts.failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=512)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()

    path = common.chat_model_path()
    texts = common.prompts(args.requests)
    baseline = run_llm_generate(path, texts, args.max_tokens)
    key = "tf-bench-" + secrets.token_hex(8)
    with common.gateway_server(key) as server:
        run_batch_job(server, texts[:8], args.max_tokens)  # warm-up
        ours = run_batch_job(server, texts, args.max_tokens)
    common.record(
        "batch_runner_vs_llm_generate",
        {
            "load": {"requests": args.requests, "max_tokens": args.max_tokens},
            "vllm_llm_chat": baseline,
            "tokenfactory_batch": ours,
            "throughput_ratio": round(ours["tokens_per_s"] / baseline["tokens_per_s"], 3),
        },
    )


if __name__ == "__main__":
    main()

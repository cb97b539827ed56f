"""The gateway's own CPU per streamed token, with no model running (``serve_paced``).

Starts ``benchmarks.serve_paced`` (the real /v1 gateway over an engine that emits SmolLM2
token ids every ``--step-ms`` for all streams together) and drives streamed chats at 16 and 64
concurrent streams from load-generator processes. Reports the server process's CPU
microseconds per output token, TTFT and tok/s.

``--baseline-tree PATH`` runs the same load against another checkout of tokenfactory (e.g. a
``git worktree`` of an older commit) alternately with this one, ``--rounds`` times, so a
before/after comparison is measured in one run:

    python -m benchmarks.bench_gateway_cost [--baseline-tree /tmp/tf-before] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks import load as loadgen
from tokenfactory.config import DEFAULT_CHAT_MODEL

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "gateway_cost.json"


def run_tree(tree: Path, streams: list[int], step_ms: float, port: int) -> dict:
    import psutil

    env = {**os.environ, "PYTHONPATH": str(tree)}
    # the harness file comes from this checkout; tokenfactory (and tests.fakes) from ``tree``
    harness = str(Path(__file__).with_name("serve_paced.py"))
    cmd = [sys.executable, "-c", _LAUNCH, harness, str(port), str(step_ms)]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, cwd=tree)
    try:
        assert server.stdout is not None
        if server.stdout.readline().strip() != b"ready":
            raise RuntimeError("the paced gateway did not start")
        proc = psutil.Process(server.pid)
        url = f"http://127.0.0.1:{port}/v1"
        out = {}
        for n in [4, *streams]:
            prompts = [f"Tell me about item {i}" for i in range(2 * n)]
            before = sum(proc.cpu_times()[:2])
            result = loadgen.run(
                loadgen.Load(url, "tf-bench", DEFAULT_CHAT_MODEL, prompts, n, 64, 2)
            )
            used = sum(proc.cpu_times()[:2]) - before
            result["cpu_us_per_token"] = round(used / result["completion_tokens"] * 1e6, 1)
            if n != 4:  # the first load only warms up
                out[f"{n}_streams"] = result
        return out
    finally:
        server.terminate()
        server.wait(30)


_LAUNCH = """
import runpy, sys
harness, port, step = sys.argv[1:]
sys.argv = [harness, "--port", port, "--step-ms", step]
runpy.run_path(harness, run_name="__main__")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-tree", type=Path)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--step-ms", type=float, default=20.0)
    parser.add_argument("--streams", type=int, nargs="*", default=[16, 64])
    parser.add_argument("--port", type=int, default=8123)
    args = parser.parse_args()

    rows = []
    for r in range(args.rounds):
        trees = [("this", ROOT)]
        if args.baseline_tree:
            trees.append(("baseline", args.baseline_tree.resolve()))
        for name, tree in trees:
            result = run_tree(tree, args.streams, args.step_ms, args.port)
            print(name, r, json.dumps(result), flush=True)
            rows.append({"tree": name, "path": str(tree), "round": r, **result})
    history = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    history.append({"step_ms": args.step_ms, "load_average": os.getloadavg(), "rows": rows})
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(history, indent=1) + "\n")


if __name__ == "__main__":
    main()

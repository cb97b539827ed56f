"""``tokenfactory serve`` and ``tokenfactory lab``."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the /v1 gateway in the foreground")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--model",
        action="append",
        dest="models",
        help="model id or local path to serve (repeatable; default: both embedded models)",
    )
    p.add_argument(
        "--engine",
        default="auto",
        choices=["auto", "transformers", "vllm"],
        help="auto: what serves many streams best here (vLLM on a GPU, or on a CPU with"
        " vLLM's CPU build; else transformers)",
    )
    p.add_argument(
        "--enable-lora",
        action="store_const",
        const=True,
        default=None,
        help="vLLM: reserve LoRA slots at start, for a server that will serve adapters (by"
        " default they are added, with a one-time switch, when the first adapter is loaded)",
    )
    p.add_argument(
        "--api-key", help="register this (admin) key for the workspace instead of a new one"
    )
    p.add_argument(
        "--new",
        action="store_true",
        help="start a gateway even if one already runs for this user on this machine",
    )
    p.add_argument("--workspace", default="default")
    p.add_argument("--log-level", default="info")
    p.add_argument(
        "--drain-seconds",
        type=float,
        default=None,
        help="on SIGTERM/SIGINT, how long requests in flight may finish before streams are ended"
        " with an error event and the rest answered 503 (default: $TOKENFACTORY_DRAIN_S or 10)",
    )
    p.add_argument(
        "--alias",
        action="append",
        dest="aliases",
        metavar="NAME=MODEL",
        help="answer requests for model NAME with the served MODEL, on every endpoint (e.g."
        " gpt-4o-mini=HuggingFaceTB/SmolLM2-135M-Instruct; repeatable)",
    )
    p.add_argument(
        "--cors-origin",
        action="append",
        dest="cors_origins",
        metavar="ORIGIN",
        help="let web pages from ORIGIN (scheme://host[:port], or * for any) call the gateway"
        " from a browser (repeatable; default: none)",
    )
    add_upstream_flags(p)
    p.set_defaults(func=run_serve)

    lab = sub.add_parser("lab", help="start JupyterLab on the quickstart with a gateway running")
    lab.add_argument(
        "--port", type=int, default=8000, help="the gateway's port, if lab has to start one"
    )
    lab.add_argument("--notebook", default="notebooks/01-quickstart.ipynb")
    lab.add_argument("lab_args", nargs=argparse.REMAINDER, help="passed on to jupyter lab")
    lab.set_defaults(func=run_lab)


def add_upstream_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--upstream",
        action="append",
        dest="upstreams",
        metavar="MODEL_ID=URL",
        help="serve MODEL_ID from an OpenAI-compatible server (repeat the id for replicas);"
        " with upstreams and no --model, no local model is loaded",
    )
    p.add_argument("--upstream-key", help="the API key the gateway presents to upstreams")
    p.add_argument(
        "--upstream-config", help="TOML/JSON file of upstreams (per-upstream keys and caps)"
    )


def run_serve(args: argparse.Namespace) -> int:
    from .running import find_running
    from .server import serve

    if not args.new:
        found = find_running()
        if found is not None:
            print(
                f"tokenfactory: a gateway already runs at {found.base_url} (found by"
                f" {found.found_by}); use it, or pass --new to start another",
                file=sys.stderr,
            )
            return 1
    if args.upstreams and not args.models:
        print(f"tokenfactory: {len(args.upstreams)} upstream(s), no local model", flush=True)
    else:
        print(f"tokenfactory: loading models on the {args.engine} engine ...", flush=True)
    handle = serve(
        args.models,
        new=True,
        engine=args.engine,
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        workspace=args.workspace,
        wait=False,
        log_level=args.log_level,
        quiet=True,
        upstreams=args.upstreams,
        upstream_key=args.upstream_key,
        upstream_config=args.upstream_config,
        enable_lora=args.enable_lora,
        workload="server",
        aliases=args.aliases,
        cors_origins=args.cors_origins,
    )
    if args.drain_seconds is not None:
        handle.drain_s = args.drain_seconds
    print(f"tokenfactory: gateway at {handle.base_url}", flush=True)
    if args.api_key is None:
        print(
            f"tokenfactory: a new admin API key for workspace '{args.workspace}'"
            " (shown once, keep it):",
            flush=True,
        )
        print(handle.api_key, flush=True)
    return _serve_until_stopped(handle)


def _serve_until_stopped(handle) -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    ready_said = False
    while not stop.wait(0.2):
        if not handle.running:
            print("tokenfactory: the server stopped", file=sys.stderr)
            return 1
        if handle.core.engine_error:
            print(f"tokenfactory: engine failed: {handle.core.engine_error}", file=sys.stderr)
            handle.stop()
            return 1
        if handle.core.ready and not ready_said:
            print("tokenfactory: ready", flush=True)
            ready_said = True
    print(f"tokenfactory: stopping (up to {handle.drain_s:g} s for requests in flight)", flush=True)
    handle.stop()
    print(f"tokenfactory: stopped: {handle.stop_report}", flush=True)
    return 0


def lab_command(args: argparse.Namespace) -> list[str]:
    """``jupyter lab`` opening ``args.notebook``. Jupyter prints (and opens) its default URL
    with the token, so the notebook's page is made the default URL: a notebook passed as a file
    to open would leave the printed URL on the Launcher."""
    cmd = [sys.executable, "-m", "jupyter", "lab"]
    notebook = Path(args.notebook).resolve()
    if notebook.is_file():
        root = Path.cwd().resolve()
        if not notebook.is_relative_to(root):
            root = notebook.parent
        page = notebook.relative_to(root).as_posix()
        cmd += [f"--ServerApp.root_dir={root}", f"--LabApp.default_url=/lab/tree/{page}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd + [a for a in args.lab_args if a != "--"]


def lab_gateway(port: int) -> tuple[str, str | None, subprocess.Popen | None]:
    """The gateway the lab's kernels, sidebar and terminals use: ``(base_url, key, child)``.

    The one already running for this user (``$TOKENFACTORY_BASE_URL`` or a discovery file) if
    any, else a new ``tokenfactory serve`` child on ``port`` (``child`` is then that process).
    Raises ``SystemExit`` when the child cannot start.
    """
    import secrets

    from .running import find_running, probe

    found = find_running()
    if found is not None:
        print(f"tokenfactory: using the gateway already running at {found.base_url}", flush=True)
        return found.base_url, found.api_key, None
    key = "tf-" + secrets.token_urlsafe(24)
    serve_cmd = ["serve", "--port", str(port), "--api-key", key, "--log-level", "warning"]
    child = subprocess.Popen([sys.executable, "-m", "tokenfactory.cli", *serve_cmd])
    base_url = f"http://127.0.0.1:{port}/v1"
    while probe(base_url, timeout=1.0) is None:
        if child.poll() is not None:
            raise SystemExit(child.returncode or 1)
        time.sleep(0.2)
    return base_url, key, child


def run_lab(args: argparse.Namespace) -> int:
    """JupyterLab whose kernels, sidebar and terminals all use one gateway (see lab_gateway)."""
    from .extras import require_extra

    require_extra("jupyter", "`tokenfactory lab`")
    base_url, key, child = lab_gateway(args.port)
    env = dict(os.environ)
    env["TOKENFACTORY_BASE_URL"] = base_url
    if key:
        env["TOKENFACTORY_API_KEY"] = key
    cmd = lab_command(args)
    print(
        f"tokenfactory: gateway at {base_url} (key in the kernels' TOKENFACTORY_API_KEY;"
        " tf.serve() in a notebook attaches to it)",
        flush=True,
    )
    try:
        return subprocess.call(cmd, env=env)
    finally:
        if child is not None:
            child.terminate()
            child.wait(30)

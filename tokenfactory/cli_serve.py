"""``tokenfactory serve`` and ``tokenfactory lab``."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
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
    p.add_argument("--engine", default="auto", choices=["auto", "transformers", "vllm"])
    p.add_argument("--api-key", help="register this key for the workspace instead of a new one")
    p.add_argument("--workspace", default="default")
    p.add_argument("--log-level", default="info")
    add_upstream_flags(p)
    p.set_defaults(func=run_serve)

    lab = sub.add_parser("lab", help="start JupyterLab on the quickstart with a gateway running")
    lab.add_argument("--port", type=int, default=8000, help="the gateway's port")
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
    from .server import serve

    if args.upstreams and not args.models:
        print(f"tokenfactory: {len(args.upstreams)} upstream(s), no local model", flush=True)
    else:
        print(f"tokenfactory: loading models on the {args.engine} engine ...", flush=True)
    handle = serve(
        args.models,
        engine=args.engine,
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        workspace=args.workspace,
        wait=False,
        log_level=args.log_level,
        upstreams=args.upstreams,
        upstream_key=args.upstream_key,
        upstream_config=args.upstream_config,
    )
    print(f"tokenfactory: gateway at {handle.base_url}", flush=True)
    if args.api_key is None:
        print(
            f"tokenfactory: a new API key for workspace '{args.workspace}' (shown once, keep it):",
            flush=True,
        )
        print(handle.api_key, flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    ready_said = False
    while not stop.wait(0.2):
        if not handle.running:
            print("tokenfactory: the server stopped", file=sys.stderr)
            return 1
        if handle.gateway.engine_error:
            print(f"tokenfactory: engine failed: {handle.gateway.engine_error}", file=sys.stderr)
        if handle.gateway.ready and not ready_said:
            print("tokenfactory: ready", flush=True)
            ready_said = True
    handle.stop()
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


def run_lab(args: argparse.Namespace) -> int:
    """A gateway child process plus JupyterLab whose kernels know where it is."""
    from .extras import require_extra

    require_extra("jupyter", "`tokenfactory lab`")
    import secrets

    key = "tf-" + secrets.token_urlsafe(24)
    gateway = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tokenfactory.cli",
            "serve",
            "--port",
            str(args.port),
            "--api-key",
            key,
            "--log-level",
            "warning",
        ],
    )
    env = dict(os.environ)
    env["TOKENFACTORY_BASE_URL"] = f"http://127.0.0.1:{args.port}/v1"
    env["TOKENFACTORY_API_KEY"] = key
    cmd = lab_command(args)
    print(
        f"tokenfactory: gateway at {env['TOKENFACTORY_BASE_URL']} (key in the kernels' "
        "TOKENFACTORY_API_KEY)",
        flush=True,
    )
    try:
        return subprocess.call(cmd, env=env)
    finally:
        gateway.terminate()
        gateway.wait(30)

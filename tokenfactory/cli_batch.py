"""``tokenfactory batch submit|status|results|cancel|list``: batch jobs on a running gateway.

Talks HTTP through the SDK; the gateway comes from ``--base-url``/``--api-key``,
``TOKENFACTORY_BASE_URL``/``TOKENFACTORY_API_KEY``, or the discovery file of the gateway running
on this machine.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from typing import Any


def _reported(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """An SDK error (bad file, unknown id, no gateway) is one line on stderr and exit code 1."""

    @functools.wraps(func)
    def run(args: argparse.Namespace) -> int:
        from .sdk import TokenFactoryError

        try:
            return func(args)
        except (TokenFactoryError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return run


def register(sub: argparse._SubParsersAction) -> None:
    batch = sub.add_parser("batch", help="submit and manage batch jobs on a running gateway")
    actions = batch.add_subparsers(dest="batch_command", required=True)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        p = actions.add_parser(name, help=help)
        p.add_argument("--base-url", help="the gateway's /v1 URL (default: $TOKENFACTORY_BASE_URL)")
        p.add_argument("--api-key", help="API key (default: $TOKENFACTORY_API_KEY)")
        p.add_argument("--json", action="store_true", help="print the raw JSON")
        return p

    p = add("submit", "upload a JSONL file as a batch job")
    p.add_argument("file", help="JSONL, one {custom_id, body} per line")
    p.add_argument("--sla", default="24h", choices=["1h", "24h"])
    p.add_argument("--wait", action="store_true", help="wait for the job to finish")
    p.set_defaults(func=submit)

    p = add("status", "show a job's status and counts")
    p.add_argument("id")
    p.set_defaults(func=status)

    p = add("results", "download a job's results (JSONL)")
    p.add_argument("id")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.set_defaults(func=results)

    p = add("cancel", "cancel a job (finished lines keep their results)")
    p.add_argument("id")
    p.set_defaults(func=cancel)

    p = add("list", "list jobs, newest first")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(func=list_jobs)


NO_GATEWAY = (
    "No tokenfactory gateway is running: start one with `tokenfactory serve` (or `make lab`),"
    " or name one with --base-url / $TOKENFACTORY_BASE_URL"
)


def _client(args: argparse.Namespace) -> Any:
    from .sdk import ConfigurationError, TokenFactory

    try:
        return TokenFactory(base_url=args.base_url, api_key=args.api_key)
    except ConfigurationError:  # its message is for a kernel (tf.serve()); this is a shell
        raise ConfigurationError(NO_GATEWAY) from None


def _show(job: Any, as_json: bool) -> None:
    if as_json:
        print(job.model_dump_json(indent=2, exclude={"object"}))
        return
    print(
        f"{job.id}  {job.status}  sla={job.sla}  "
        f"completed={job.completed_requests} failed={job.failed_requests} "
        f"total={job.total_requests}  created={job.created_at}"
    )


@_reported
def submit(args: argparse.Namespace) -> int:
    with _client(args) as client:
        job = client.batches.create(args.file, sla=args.sla)
        job = job.refresh()
        if args.wait:
            job.wait(progress=sys.stderr.isatty())
        _show(job, args.json)
    return 0


@_reported
def status(args: argparse.Namespace) -> int:
    with _client(args) as client:
        _show(client.batches.retrieve(args.id), args.json)
    return 0


@_reported
def results(args: argparse.Namespace) -> int:
    with _client(args) as client:
        rows = client.batches.results(args.id)
        out = open(args.output, "w") if args.output else sys.stdout  # noqa: SIM115
        count = 0
        try:
            for row in rows:
                out.write(json.dumps(row.model_dump(mode="json")) + "\n")
                count += 1
        finally:
            if args.output:
                out.close()
        if args.output:
            print(f"wrote {count} results to {args.output}", file=sys.stderr)
    return 0


@_reported
def cancel(args: argparse.Namespace) -> int:
    with _client(args) as client:
        _show(client.batches.cancel(args.id), args.json)
    return 0


@_reported
def list_jobs(args: argparse.Namespace) -> int:
    with _client(args) as client:
        page = client.batches.list(limit=args.limit)
        if args.json:
            print(json.dumps([j.model_dump() for j in page], indent=2))
        for job in [] if args.json else page:
            _show(job, False)
    return 0

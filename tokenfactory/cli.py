"""The ``tokenfactory`` command line: serve, lab, keys (features add their own commands).

Each module in ``COMMANDS`` has ``register(subparsers)`` adding its sub-commands; a sub-command
sets ``func(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = [
    "tokenfactory.cli_serve",
    "tokenfactory.cli_keys",
    "tokenfactory.cli_batch",
    "tokenfactory.cli_workspaces",
    "tokenfactory.cli_webhooks",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tokenfactory", description="A local OpenAI-compatible LLM workbench."
    )
    from ._version import __version__

    parser.add_argument("--version", action="version", version=f"tokenfactory {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .errors import ServiceError

    try:
        return int(args.func(args) or 0)
    except ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

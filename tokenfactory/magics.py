"""``%%tf_batch``: submit the cell as a batch job and show its ``BatchMonitor``.

Load with ``%load_ext tokenfactory``. The cell body is either JSONL (one request per line) or,
with ``--df NAME``, a prompt template rendered once per row of that DataFrame::

    %%tf_batch --sla 24h --df reviews --max-tokens 32
    Classify the sentiment of this review: {text}

The job is stored in the namespace as ``--name`` (default ``batch_job``) and the monitor as
``<name>_monitor``; ``batch_job.to_pandas()`` gives the results once it finished.
"""

from __future__ import annotations

import argparse
import json
import shlex
from typing import Any

from IPython.core.magic import Magics, cell_magic, magics_class


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="%%tf_batch", add_help=False)
    p.add_argument("--sla", default="24h", choices=["1h", "24h"])
    p.add_argument("--model", default=None, help="model for template rows (default: embedded)")
    p.add_argument("--df", default=None, help="a DataFrame in the namespace to render over")
    p.add_argument("--column", default=None, help="the column that fills '{}' in the template")
    p.add_argument("--id-column", default=None, help="column used as custom_id (default: index)")
    p.add_argument("--system", default=None, help="a system prompt for template rows")
    p.add_argument("--max-tokens", type=int, default=None)
    p.add_argument("--temperature", type=float, default=None)
    p.add_argument("--name", default="batch_job", help="variable that receives the job")
    p.add_argument("--base-url", default=None)
    p.add_argument("--api-key", default=None)
    p.add_argument("--no-monitor", action="store_true", help="do not display a BatchMonitor")
    p.add_argument(
        "--max-cost",
        type=float,
        default=None,
        help="USD: above this estimate, show it and ask first (default $TOKENFACTORY_MAX_COST_USD)",
    )
    return p


class MagicUsageError(ValueError):
    pass


def with_defaults(cell: str, model: str | None, params: dict[str, Any]) -> str:
    """Fill ``model`` (and ``--max-tokens``/``--temperature``) into bodies that lack them.

    Lines that are not JSON objects are left as written, so the gateway reports them with their
    line numbers; blank lines are kept so those numbers match the cell.
    """
    if model is None:
        from .config import DEFAULT_CHAT_MODEL

        model = DEFAULT_CHAT_MODEL
    out = []
    for line in cell.splitlines():
        try:
            obj = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and isinstance(obj.get("body"), dict):
            obj["body"] = {"model": model, **params, **obj["body"]}
            line = json.dumps(obj)
        out.append(line)
    return "\n".join(out) + "\n"


def submit_cell(line: str, cell: str, namespace: dict[str, Any]) -> tuple[Any, Any]:
    """Parse the magic line, submit the job; returns ``(job, monitor or None)``."""
    try:
        args = parser().parse_args(shlex.split(line))
    except SystemExit as exc:
        raise MagicUsageError(f"%%tf_batch: bad arguments {line!r}; see %%tf_batch? ") from exc
    from .sdk import TokenFactory

    params = {
        k: v
        for k, v in (("max_tokens", args.max_tokens), ("temperature", args.temperature))
        if v is not None
    }
    client = TokenFactory(base_url=args.base_url, api_key=args.api_key)
    if args.df:
        if args.df not in namespace:
            raise MagicUsageError(f"%%tf_batch: no variable named {args.df!r} in the notebook")
        template = cell.strip()
        if not template:
            raise MagicUsageError("%%tf_batch: the cell needs a prompt template, e.g. 'Hi {name}'")
        from .sdk._jsonl import batch_jsonl

        data = batch_jsonl(
            namespace[args.df],
            template=template,
            model=args.model,
            system=args.system,
            column=args.column,
            custom_id_column=args.id_column,
            **params,
        )
    else:
        if not cell.strip():
            raise MagicUsageError("%%tf_batch: the cell is empty; write JSONL or use --df NAME")
        data = with_defaults(cell, args.model, params).encode()
    confirm_estimate(client, data, args.sla, args.max_cost)
    job = client.batches.create(data, sla=args.sla)
    namespace[args.name] = job
    monitor = None
    if not args.no_monitor:
        from .widgets.batch_monitor import BatchMonitor

        conn = str(client.base_url), client.api_key
        monitor = BatchMonitor(job.id, base_url=conn[0], api_key=conn[1])
        namespace[f"{args.name}_monitor"] = monitor
    return job, monitor


def confirm_estimate(client: Any, data: bytes, sla: str, max_cost: float | None) -> None:
    """Above ``max_cost`` (or ``$TOKENFACTORY_MAX_COST_USD``), show the estimate and ask."""
    from .workbench.estimate import confirm_cost, default_max_cost, estimate_lines

    max_cost = default_max_cost() if max_cost is None else max_cost
    if max_cost is None:
        return
    bodies = []
    for line in data.decode().splitlines():
        try:
            body = json.loads(line).get("body") if line.strip() else None
        except (json.JSONDecodeError, AttributeError):
            body = None  # the gateway reports bad lines with their numbers
        if isinstance(body, dict) and "messages" in body and "model" in body:
            bodies.append(body)
    if bodies:
        confirm_cost(estimate_lines(client, bodies), f"batch_{sla}", max_cost, None)


@magics_class
class BatchMagics(Magics):
    @cell_magic
    def tf_batch(self, line: str, cell: str) -> Any:
        """Submit this cell as a batch job (JSONL, or a template with --df NAME)."""
        from IPython.display import display

        from .sdk import TokenFactoryError

        try:
            namespace = self.shell.user_ns if self.shell is not None else {}
            job, monitor = submit_cell(line, cell, namespace)
        except (MagicUsageError, TokenFactoryError, ValueError, TypeError) as exc:
            print(f"error: {exc}")
            return None
        if monitor is not None:
            display(monitor)
        else:
            display(job)
        return None


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(BatchMagics)

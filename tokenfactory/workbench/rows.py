"""One request per DataFrame row, checked first, then run as a batch job above ``threshold``
rows (durable, with a progress bar) or interactively below it: what extract and classify share.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .dispatch import Line, LineResult, run_lines
from .errors import TemplateError, WorkbenchError
from .estimate import confirm_cost, default_max_cost, estimate_lines
from .prices import tier_of
from .templates import Template

if TYPE_CHECKING:
    import pandas as pd

    from tokenfactory.sdk import TokenFactory

#: rows from which ``df.tf.extract``/``classify`` run as a batch job unless told otherwise
BATCH_THRESHOLD = 64
T = TypeVar("T")


@dataclass
class RowRun:
    results: list[LineResult]
    batch_id: str | None


def prompts_for(
    df: pd.DataFrame, column: str | None, template: str | None, default: str
) -> list[str]:
    """Each row's prompt: ``template`` over the row, or ``default`` around ``column``."""
    columns = [str(c) for c in df.columns]
    if template is None:
        if column is None:
            raise WorkbenchError("name the text column (column='...') or give template='...'")
        if column not in columns:
            raise WorkbenchError(f"column {column!r} is not in the DataFrame ({columns})")
        rows = [{"text": value} for value in df[column].tolist()]
        t = Template(default)
    else:
        t = Template(template)
        t.check(columns)
        rows = df.to_dict("records")
    out = []
    for i, row in enumerate(rows):
        try:
            out.append(t.render(row))
        except Exception as exc:
            raise TemplateError(f"row {i}: the template fails: {exc}") from None
    return out


def with_client(client: TokenFactory | None, work: Callable[[TokenFactory], T]) -> T:
    own = client is None
    if client is None:
        from tokenfactory.sdk import TokenFactory

        client = TokenFactory()
    try:
        return work(client)
    finally:
        if own:
            client.close()


def ask_rows(
    client: TokenFactory,
    bodies: Sequence[dict[str, Any]],
    *,
    interactive: bool | None,
    threshold: int,
    sla: str,
    progress: bool,
    desc: str,
    max_cost: float | None = None,
    confirm: bool | None = None,
    concurrency: int = 8,
) -> RowRun:
    from .checks import check_models, check_schemas, supports_logprobs

    if not bodies:
        return RowRun([], None)
    check_models(client, {b["model"] for b in bodies})
    check_schemas(client, bodies[:1])
    if bodies[0].get("logprobs") and not supports_logprobs(client, bodies[0]["model"]):
        warnings.warn(
            f"the gateway gives no logprobs for {bodies[0]['model']!r}: "
            "no confidences or label probabilities",
            stacklevel=3,
        )
        bodies = [
            {k: v for k, v in b.items() if k not in ("logprobs", "top_logprobs")} for b in bodies
        ]
    if interactive is None:
        interactive = len(bodies) < threshold
    if max_cost is None:
        max_cost = default_max_cost()
    if max_cost is not None:
        forecast = estimate_lines(client, bodies)
        confirm_cost(forecast, tier_of(interactive, sla), max_cost, confirm)
    lines = [Line(f"row-{i}", body) for i, body in enumerate(bodies)]
    run = run_lines(
        client,
        lines,
        interactive=interactive,
        sla=sla,
        progress=progress,
        desc=desc,
        concurrency=concurrency,
    )
    results = [
        run.results.get(f"row-{i}") or LineResult.failed(f"row-{i}", "no result")
        for i in range(len(bodies))
    ]
    return RowRun(results, run.batch_id)

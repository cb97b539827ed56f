"""``df.tf.classify(column, labels=[...])``: one label per row, constrained to the set by the
gateway's grammar, with a probability per label from the answer's token logprobs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .confidence import label_probabilities
from .errors import WorkbenchError
from .rows import BATCH_THRESHOLD, ask_rows, prompts_for, with_client

if TYPE_CHECKING:
    import pandas as pd

    from tokenfactory.sdk import TokenFactory

SYSTEM = "You classify text. Answer with exactly one of the labels."
PROMPT = "Labels: {labels}\n\nText:\n{{text}}\n\nWhich label fits the text best?"


def classify(
    df: pd.DataFrame,
    column: str | None = None,
    labels: Sequence[str] = (),
    *,
    template: str | None = None,
    model: str | None = None,
    system: str | None = SYSTEM,
    output: str = "label",
    interactive: bool | None = None,
    threshold: int = BATCH_THRESHOLD,
    sla: str = "24h",
    max_cost: float | None = None,
    confirm: bool | None = None,
    client: TokenFactory | None = None,
    progress: bool = True,
    concurrency: int = 16,
) -> pd.DataFrame:
    """A copy of ``df`` with ``output`` (the label), ``p_<label>`` per label (summing to 1 on
    each answered row) and ``<output>_error``."""
    import pandas as pd

    from tokenfactory.config import DEFAULT_CHAT_MODEL

    labels = [str(label) for label in labels]
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise WorkbenchError("labels must be at least two distinct strings")
    prompts = prompts_for(df, column, template, PROMPT.format(labels=", ".join(labels)))
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "label", "schema": {"type": "string", "enum": labels}},
    }
    head = [{"role": "system", "content": system}] if system else []
    bodies = [
        {
            "model": model or DEFAULT_CHAT_MODEL,
            "messages": [*head, {"role": "user", "content": prompt}],
            "response_format": response_format,
            "max_tokens": 2 + max(len(label) for label in labels),
            "temperature": 0.0,
            "logprobs": True,
            "top_logprobs": min(20, max(5, 2 * len(labels))),
        }
        for prompt in prompts
    ]
    run = with_client(
        client,
        lambda c: ask_rows(
            c,
            bodies,
            interactive=interactive,
            threshold=threshold,
            sla=sla,
            progress=progress,
            desc="classify",
            max_cost=max_cost,
            confirm=confirm,
            concurrency=concurrency,
        ),
    )
    chosen: list[str | None] = [None] * len(df)
    probabilities: dict[str, list[float | None]] = {label: [None] * len(df) for label in labels}
    errors: list[str | None] = [None] * len(df)
    for i, result in enumerate(run.results):
        if result.error is not None:
            errors[i] = result.error
            continue
        try:
            label = json.loads(result.answer or "")
        except ValueError:
            label = None
        if label not in labels:
            errors[i] = f"not one of the labels: {result.answer!r}"
            continue
        chosen[i] = label
        if result.logprobs:
            for name, p in label_probabilities(result.logprobs, labels).items():
                probabilities[name][i] = p
    out = df.copy()
    out[output] = pd.array(chosen, dtype=pd.CategoricalDtype(labels))
    for label in labels:
        out[f"p_{label}"] = pd.array(probabilities[label], dtype="Float64")
    out[f"{output}_error"] = errors
    out.attrs["batch_id"] = run.batch_id
    return out

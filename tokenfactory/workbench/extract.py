"""``df.tf.extract(Model)``: typed columns pulled out of text, one grammar-constrained request
per row.

The schema is a pydantic model or a dict ``{column: type}`` (``int``, ``float``, ``str``,
``bool``, or a list of allowed strings). Each row's answer is forced by the gateway's grammar
to be a JSON object of that schema, validated with the pydantic model, and spread into typed
columns; ``<field>_confidence`` is the probability the model gave the tokens of that field's
value; a row that fails (request, validation, truncation) has None in its fields and the reason
in ``extract_error``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from .confidence import field_confidences
from .errors import WorkbenchError
from .rows import BATCH_THRESHOLD, ask_rows, prompts_for, with_client

if TYPE_CHECKING:
    import pandas as pd
    from pydantic import BaseModel

    from tokenfactory.sdk import TokenFactory

SYSTEM = "You extract facts from text into JSON. Use only what the text says."
PROMPT = "Extract {fields} from this text.\n\nText:\n{{text}}"
_TYPES: dict[str, type] = {"int": int, "float": float, "str": str, "bool": bool}
_DTYPES = {int: "Int64", float: "Float64", bool: "boolean", str: "string"}


def schema_model(schema: Any) -> type[BaseModel]:
    """A pydantic model from a model class or a ``{column: type}`` dict."""
    from pydantic import BaseModel, create_model

    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema
    if not isinstance(schema, dict) or not schema:
        raise WorkbenchError("schema must be a pydantic model or a dict {column: type}")
    fields: dict[str, Any] = {}
    for name, kind in schema.items():
        if isinstance(kind, str):
            if kind not in _TYPES:
                raise WorkbenchError(
                    f"unknown type {kind!r} for {name!r} (use {sorted(_TYPES)} or a list)"
                )
            kind = _TYPES[kind]
        if isinstance(kind, (list, tuple)):
            kind = Literal[tuple(str(v) for v in kind)]
        fields[str(name)] = (kind, ...)
    return create_model("Extracted", **fields)


def extract(
    df: pd.DataFrame,
    schema: Any,
    *,
    column: str | None = None,
    template: str | None = None,
    model: str | None = None,
    system: str | None = SYSTEM,
    prefix: str = "",
    max_tokens: int = 256,
    interactive: bool | None = None,
    threshold: int = BATCH_THRESHOLD,
    sla: str = "24h",
    max_cost: float | None = None,
    confirm: bool | None = None,
    client: TokenFactory | None = None,
    progress: bool = True,
    concurrency: int = 16,
) -> pd.DataFrame:
    """A copy of ``df`` with one typed column per field (named ``prefix + field``), a
    ``<field>_confidence`` column each, and ``extract_error``."""
    import pandas as pd

    from tokenfactory.config import DEFAULT_CHAT_MODEL

    pydantic_model = schema_model(schema)
    json_schema = pydantic_model.model_json_schema()
    names = list(pydantic_model.model_fields)
    default = PROMPT.format(fields=", ".join(names))
    prompts = prompts_for(df, column, template, default)
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "extracted", "schema": json_schema, "strict": True},
    }
    bodies = [
        {
            "model": model or DEFAULT_CHAT_MODEL,
            "messages": _messages(system, prompt),
            "response_format": response_format,
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "logprobs": True,
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
            desc="extract",
            max_cost=max_cost,
            confirm=confirm,
            concurrency=concurrency,
        ),
    )
    values: dict[str, list[Any]] = {n: [None] * len(df) for n in names}
    confidence: dict[str, list[Any]] = {n: [None] * len(df) for n in names}
    errors: list[str | None] = [None] * len(df)
    for i, result in enumerate(run.results):
        if result.error is not None:
            errors[i] = result.error
            continue
        text = result.answer or ""
        try:
            parsed = pydantic_model.model_validate(json.loads(text))
        except ValueError as exc:
            cut = " (cut off at max_tokens)" if result.finish_reason == "length" else ""
            errors[i] = f"invalid{cut}: {_reason(exc)}"
            continue
        for name in names:
            values[name][i] = getattr(parsed, name)
        for name, p in field_confidences(text, result.logprobs or []).items():
            if name in confidence:
                confidence[name][i] = p
    out = df.copy()
    for name in names:
        annotation = pydantic_model.model_fields[name].annotation
        dtype = _DTYPES.get(annotation) if isinstance(annotation, type) else None
        column_values = values[name]
        out[prefix + name] = pd.array(column_values, dtype=dtype) if dtype else column_values
        out[f"{prefix}{name}_confidence"] = pd.array(confidence[name], dtype="Float64")
    out[f"{prefix}extract_error"] = errors
    out.attrs["batch_id"] = run.batch_id
    return out


def _messages(system: str | None, prompt: str) -> list[dict[str, str]]:
    head = [{"role": "system", "content": system}] if system else []
    return [*head, {"role": "user", "content": prompt}]


def _reason(exc: ValueError) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
        )
    return f"not JSON ({exc})"

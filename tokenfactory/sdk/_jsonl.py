"""Notebook data in and out of JSONL: what batches and adapters upload, and results as tables.

In: a path, JSONL bytes or text, a list of dicts, or a pandas DataFrame (duck-typed, so pandas
is imported only to build a result table). Out: ``results_frame`` joins a batch's input lines
with its result lines into one DataFrame row per ``custom_id``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokenfactory.wire.batches import BatchLineError, BatchRequestLine, BatchResultLine

if TYPE_CHECKING:
    import pandas as pd

# a path, JSONL bytes or text, or an iterable of examples (a DataFrame, a list of dicts)
TrainingData = str | bytes | os.PathLike[str] | Iterable[Any]
# the same for batch requests
BatchData = TrainingData

# column pairs a training DataFrame may use for a one-turn conversation
PROMPT_COLUMNS = (("prompt", "completion"), ("user", "assistant"), ("question", "answer"))


def parse_jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def render_prompt(template: str, row: Mapping[str, Any], column: str | None) -> str:
    """``template.format``: ``{}`` is the row's ``column`` value, ``{name}`` any column."""
    fields = {str(k): v for k, v in row.items()}
    try:
        return template.format(*([row[column]] if column is not None else []), **fields)
    except (KeyError, IndexError) as exc:
        raise ValueError(
            f"template {template!r} needs {exc} but the row has columns {list(fields)}"
            + ("" if column else "; pass column=... to fill '{}'")
        ) from exc


def _is_dataframe(data: object) -> bool:
    return hasattr(data, "to_dict") and hasattr(data, "columns")


def _records(df: Any) -> list[dict[str, Any]]:
    """A DataFrame's rows as dicts (duck-typed: pandas is not imported for this)."""
    records: list[dict[str, Any]] = df.to_dict("records")
    return records


def _file_bytes(data: Any) -> bytes | None:
    """The bytes of ``data`` when it already is JSONL (bytes, text, or a path); else None."""
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, os.PathLike) or (
        isinstance(data, str) and "\n" not in data and not data.lstrip().startswith("{")
    ):
        return Path(data).read_bytes()
    if isinstance(data, str):
        return data.encode()
    return None


def _encode(lines: Iterable[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()


# -- training data (adapters) ----------------------------------------------------------------
def training_jsonl(data: TrainingData) -> bytes:
    """Training examples in any accepted form → chat JSONL (one ``{"messages": [...]}``)."""
    raw = _file_bytes(data)
    if raw is not None:
        return raw
    if _is_dataframe(data):
        data = _records(data)
    if isinstance(data, Iterable):
        return _encode(_conversation(item) for item in data)
    raise TypeError(f"unsupported training data: {type(data).__name__}")


def _conversation(item: Any) -> dict[str, Any]:
    if isinstance(item, Mapping) and "messages" in item:
        return {"messages": list(item["messages"])}
    if isinstance(item, Mapping):
        for user, assistant in PROMPT_COLUMNS:
            if user in item and assistant in item:
                messages = []
                if item.get("system"):
                    messages.append({"role": "system", "content": item["system"]})
                messages.append({"role": "user", "content": item[user]})
                messages.append({"role": "assistant", "content": item[assistant]})
                return {"messages": messages}
        raise ValueError(
            f"each example needs 'messages' or prompt/completion fields; got keys {sorted(item)}"
        )
    if isinstance(item, (list, tuple)):
        return {"messages": list(item)}
    raise TypeError(f"cannot turn {type(item).__name__} into a training example")


# -- batch input -----------------------------------------------------------------------------
def batch_jsonl(
    file: BatchData,
    *,
    template: str | None = None,
    model: str | None = None,
    system: str | None = None,
    column: str | None = None,
    custom_id_column: str | None = None,
    **params: Any,
) -> bytes:
    """The JSONL bytes for ``file``: a path, bytes/str of JSONL, a list of dicts, or a
    DataFrame with a prompt ``template`` (``{column}`` placeholders, ``{}`` for ``column``)."""
    raw = _file_bytes(file)
    if raw is not None:
        return raw
    if _is_dataframe(file):
        if template is None:
            raise ValueError("a DataFrame needs template='...' to turn each row into a prompt")
        lines = _dataframe_lines(file, template, model, system, column, custom_id_column, params)
    elif isinstance(file, Iterable):
        lines = [_batch_line(i, row, model, params) for i, row in enumerate(file)]
    else:
        raise TypeError(f"cannot make a batch from {type(file).__name__}")
    return _encode(lines)


def _batch_line(i: int, row: Any, model: str | None, params: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(row, Mapping):
        raise TypeError(f"item {i} is a {type(row).__name__}, expected a dict")
    if "body" in row:
        return dict(row)
    body = dict(row)
    body.pop("custom_id", None)
    if model and "model" not in body:
        body["model"] = model
    return {"custom_id": str(row.get("custom_id", f"request-{i}")), "body": {**params, **body}}


def _dataframe_lines(
    df: Any,
    template: str,
    model: str | None,
    system: str | None,
    column: str | None,
    custom_id_column: str | None,
    params: dict[str, Any],
) -> list[dict[str, Any]]:
    if model is None:
        from tokenfactory.config import DEFAULT_CHAT_MODEL

        model = DEFAULT_CHAT_MODEL
    prefix = [{"role": "system", "content": system}] if system else []
    lines = []
    for index, row in zip(df.index, df.to_dict("records"), strict=True):
        custom_id = str(row[custom_id_column]) if custom_id_column else str(index)
        messages = [*prefix, {"role": "user", "content": render_prompt(template, row, column)}]
        lines.append(
            {"custom_id": custom_id, "body": {"model": model, "messages": messages, **params}}
        )
    return lines


# -- batch output ----------------------------------------------------------------------------
def response_text(body: dict[str, Any] | None) -> Any:
    """The useful part of a response body: the message, the text, or the embedding."""
    if not body:
        return None
    if body.get("object") == "list":
        data = body.get("data") or []
        return data[0].get("embedding") if len(data) == 1 else [d.get("embedding") for d in data]
    choices = body.get("choices") or []
    if not choices:
        return None
    first = choices[0]
    if "message" in first:
        return (first.get("message") or {}).get("content")
    return first.get("text")


def results_frame(
    inputs: Sequence[BatchRequestLine], results: Sequence[BatchResultLine]
) -> pd.DataFrame:
    """One row per input line: the request, the response text, token counts, the error."""
    import pandas as pd

    by_id = {r.custom_id: r for r in results}
    rows = []
    for line in inputs:
        result = by_id.get(line.custom_id)
        response = result.response if result is not None else None
        body = (response.body if response is not None else None) or {}
        usage = body.get("usage") or {}
        error = _error_text(result.error if result is not None else None, body.get("error"))
        rows.append(
            {
                "custom_id": line.custom_id,
                "request": line.body,
                "status_code": response.status_code if response is not None else None,
                "response": None if error else response_text(body),
                "prompt_tokens": usage.get("prompt_tokens"),
                "completion_tokens": usage.get("completion_tokens"),
                "error": error,
                "finished": result is not None,
            }
        )
    return pd.DataFrame(rows)


def _error_text(error: BatchLineError | None, in_body: object) -> str | None:
    """``code: message`` of a line that could not run, or of an error answer it got."""
    if error is not None:
        return f"{error.code}: {error.message}"
    if isinstance(in_body, Mapping):
        return f"{in_body.get('code')}: {in_body.get('message')}"
    return None

"""Training data: chat JSONL, one ``{"messages": [...]}`` per line, checked before training.

Every problem is reported with its line number, so a user can fix the file in one pass.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import InvalidRequestError
from ..wire.json_limits import loads, split_jsonl

ROLES = ("system", "user", "assistant")
MIN_TRAINING_EXAMPLES = 10
MAX_BYTES = 64 * 1024 * 1024
MAX_REPORTED = 20


class TrainingDataError(InvalidRequestError):
    """400 with every bad line: ``error.lines = [{"line": 3, "reason": "..."}]``."""

    code = "invalid_training_data"

    def __init__(self, message: str, problems: list[tuple[int | None, str]], param: str) -> None:
        super().__init__(message, param=param)
        self.problems = problems

    def to_dict(self) -> dict:
        body = super().to_dict()
        body["error"]["lines"] = [
            {"line": line, "reason": reason} for line, reason in self.problems if line is not None
        ]
        return body


def _message_problem(i: int, message: Any) -> str | None:
    where = f"messages[{i}]"
    if not isinstance(message, dict):
        return f"{where} must be an object with 'role' and 'content'"
    role = message.get("role")
    if role not in ROLES:
        return f"{where}.role {role!r} is not one of {', '.join(ROLES)}"
    content = message.get("content")
    if not isinstance(content, str):
        return f"{where}.content must be a string"
    return None


def example_problem(record: Any) -> str | None:
    """Why one parsed line is not a training example, or None when it is one."""
    if not isinstance(record, dict):
        return "each line must be a JSON object with a 'messages' array"
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty array"
    for i, message in enumerate(messages):
        problem = _message_problem(i, message)
        if problem:
            return problem
    if not any(m["role"] == "assistant" for m in messages):
        return "no assistant turn to learn from"
    if messages[-1]["role"] != "assistant":
        return "the last message must be the assistant's answer"
    return None


def parse_jsonl(
    data: bytes | str, *, minimum: int = MIN_TRAINING_EXAMPLES, purpose: str = "training"
) -> list[list[dict[str, str]]]:
    """The conversations of a JSONL file, or a :class:`TrainingDataError` listing each bad line."""
    param = "file" if purpose == "training" else "validation_file"
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise TrainingDataError(
                f"The {purpose} file is larger than {MAX_BYTES // 2**20} MB", [], param
            )
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TrainingDataError(f"The {purpose} file is not UTF-8: {exc}", [], param) from None
    examples: list[list[dict[str, str]]] = []
    problems: list[tuple[int | None, str]] = []
    for number, line in enumerate(split_jsonl(data), start=1):
        if not line.strip():
            continue
        try:
            record = loads(line, where="line")
        except json.JSONDecodeError as exc:
            problems.append((number, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        except InvalidRequestError as exc:
            problems.append((number, exc.message))
            continue
        problem = example_problem(record)
        if problem:
            problems.append((number, problem))
            continue
        examples.append([{"role": m["role"], "content": m["content"]} for m in record["messages"]])
    lines = len(examples) + len(problems)
    if lines < minimum:
        problems.append((None, f"{lines} example(s); at least {minimum} are needed"))
    if problems:
        shown = [f"line {n}: {r}" if n is not None else r for n, r in problems[:MAX_REPORTED]]
        more = len(problems) - MAX_REPORTED
        text = "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
        raise TrainingDataError(
            f"The {purpose} data has {len(problems)} problem(s): {text}", problems, param
        )
    return examples


def to_jsonl(examples: list[list[dict[str, str]]]) -> str:
    return "".join(json.dumps({"messages": m}, ensure_ascii=False) + "\n" for m in examples)

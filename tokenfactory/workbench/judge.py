"""An LLM judge: a model grades each answer against a rubric; its verdict is a JSON object
``{"score": int, "reason": str}`` that the gateway's grammar enforces (``response_format``
``json_schema``), so every finished verdict parses (one cut at ``max_tokens`` is marked).
The judge's requests run like the candidates' (one batch job, or interactively), after the
answers exist.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .dispatch import Line, run_lines
from .metrics import Context, Item, Metric, Scores, Value
from .templates import Template

SYSTEM = (
    "You are a strict, fair grader. Read the task, the reference answer when there is one, and"
    " the candidate's answer, then grade the answer with the rubric. Reply with JSON only."
)
TEMPLATE = (
    "Rubric: {rubric}\n\nTask:\n{prompt}\n\n{reference_block}Answer to grade:\n{answer}\n\n"
    "Give a score from {low} (worst) to {high} (best) and a short reason."
)


class Judge(Metric):
    def __init__(
        self,
        rubric: str,
        *,
        model: str | None = None,
        reference: str | None = None,
        scale: tuple[int, int] = (1, 5),
        name: str = "judge",
        max_tokens: int = 96,
        system: str = SYSTEM,
    ) -> None:
        low, high = scale
        if not isinstance(low, int) or not isinstance(high, int) or low >= high:
            raise ValueError("scale must be two integers (low, high) with low < high")
        self.rubric = rubric
        self.model = model
        self.reference = reference
        self.scale = (low, high)
        self.name = name
        self.max_tokens = max_tokens
        self.system = system
        self.columns = (reference,) if reference else ()

    @property
    def schema(self) -> dict[str, Any]:
        low, high = self.scale
        return {
            "type": "object",
            "properties": {
                "score": {"type": "integer", "minimum": low, "maximum": high},
                # short enough that the verdict always fits in max_tokens
                "reason": {"type": "string", "maxLength": max(16, min(80, self.max_tokens - 32))},
            },
            "required": ["score", "reason"],
            "additionalProperties": False,
        }

    @property
    def response_format(self) -> dict[str, Any]:
        return {
            "type": "json_schema",
            "json_schema": {"name": "verdict", "schema": self.schema, "strict": True},
        }

    def judge_model(self, fallback: str) -> str:
        return self.model or fallback

    def body(self, item: Item, model: str) -> dict[str, Any]:
        reference_block = ""
        if self.reference:
            reference_block = f"Reference answer:\n{item.row[self.reference]}\n\n"
        prompt = Template(TEMPLATE).render(
            {
                "rubric": self.rubric,
                "prompt": item.prompt,
                "reference_block": reference_block,
                "answer": item.answer,
                "low": self.scale[0],
                "high": self.scale[1],
            }
        )
        return {
            "model": model,
            "messages": [
                {"role": "system", "content": self.system},
                {"role": "user", "content": prompt},
            ],
            "response_format": self.response_format,
            "max_tokens": self.max_tokens,
            "temperature": 0.0,
        }

    def score(self, items: Sequence[Item], context: Context) -> Scores:
        from tokenfactory.config import DEFAULT_CHAT_MODEL

        model = self.judge_model(DEFAULT_CHAT_MODEL)
        lines = [
            Line(f"judge-{i}", self.body(item, model))
            for i, item in enumerate(items)
            if item.answer is not None
        ]
        run = run_lines(
            context.client,
            lines,
            interactive=context.interactive,
            sla=context.sla,
            concurrency=context.concurrency,
            progress=context.progress,
            desc=f"{self.name} ({model})",
        )
        if run.batch_id:
            context.batch_ids.append(run.batch_id)
        values: list[Value] = [None] * len(items)
        errors: list[str | None] = [None] * len(items)
        reasons: list[Any] = [None] * len(items)
        for i, item in enumerate(items):
            if item.answer is None:
                continue
            result = run.results.get(f"judge-{i}")
            if result is None or result.error is not None:
                errors[i] = f"{self.name}: {result.error if result else 'no verdict'}"
                continue
            try:
                verdict = json.loads(result.answer or "")
                values[i] = float(verdict["score"])
                reasons[i] = verdict.get("reason")
            except (ValueError, KeyError, TypeError) as exc:
                cut = " (cut off at max_tokens)" if result.finish_reason == "length" else ""
                errors[i] = f"{self.name}: the verdict is not the JSON asked for{cut} ({exc})"
        return Scores(values, errors, {f"{self.name}_reason": reasons})


def judge(rubric: str, **kwargs: Any) -> Judge:
    """``tf.judge("Is the answer correct and concise?", reference="answer")``: a metric."""
    return Judge(rubric, **kwargs)

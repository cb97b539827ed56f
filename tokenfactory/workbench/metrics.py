"""Metrics: how an answer is scored. Built-ins, any callable, and the scoring loop.

A metric gives one number per (row, candidate): a bool counts as 1.0/0.0, None means "no
score" (NaN). A metric that raises on a row marks that row (``metric_errors``) and the others
are still scored. Rows whose request failed get NaN without calling the metric.

Built-ins (also by name in ``metrics=[...]``): ``exact_match``, ``normalized_match``,
``regex(pattern)``, ``numeric_match(tolerance)``, ``json_valid(schema)``,
``embedding_similarity()`` (the served embedding model), ``latency`` (seconds), ``tokens``
(completion tokens). A callable ``(row, answer) -> float | bool`` is a metric named after it.
"""

from __future__ import annotations

import json
import math
import re
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import WorkbenchError

if TYPE_CHECKING:
    from tokenfactory.sdk import TokenFactory

    from .dispatch import LineResult

Value = float | None


@dataclass
class Item:
    """One (row, candidate) to score."""

    row: dict[str, Any]
    candidate: str
    prompt: str
    result: LineResult

    @property
    def answer(self) -> str | None:
        return self.result.answer


@dataclass
class Context:
    """What a metric that calls the gateway needs (the judge, embedding similarity)."""

    client: TokenFactory
    interactive: bool = False
    sla: str = "24h"
    progress: bool = True
    concurrency: int = 8
    batch_ids: list[str] = field(default_factory=list)  # jobs a metric submitted


@dataclass
class Scores:
    values: list[Value]
    errors: list[str | None]
    extra: dict[str, list[Any]] = field(default_factory=dict)  # more columns (judge reasons)


class Metric:
    """The base: ``name``, the columns it needs, and ``score`` over all items at once."""

    name: str = "metric"
    columns: tuple[str, ...] = ()

    def check(self, available: Iterable[str]) -> None:
        missing = [c for c in self.columns if c not in set(available)]
        if missing:
            raise WorkbenchError(
                f"metric {self.name!r} needs column{'s' if len(missing) > 1 else ''} "
                f"{missing}, which the data does not have (pass reference='...' to name it)"
            )

    def score(self, items: Sequence[Item], context: Context) -> Scores:
        raise NotImplementedError


class RowMetric(Metric):
    """A metric computed from one row and its answer, here in the kernel."""

    def __init__(
        self,
        name: str,
        fn: Callable[[dict[str, Any], str, LineResult], Any],
        columns: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.fn = fn
        self.columns = columns

    def score(self, items: Sequence[Item], context: Context) -> Scores:
        values: list[Value] = []
        errors: list[str | None] = []
        for item in items:
            if item.answer is None:
                values.append(None)
                errors.append(None)
                continue
            try:
                values.append(as_value(self.fn(item.row, item.answer, item.result)))
                errors.append(None)
            except Exception as exc:
                values.append(None)
                errors.append(f"{self.name}: {type(exc).__name__}: {exc}")
        return Scores(values, errors)

    def __repr__(self) -> str:
        return f"<metric {self.name}>"


def as_value(value: Any) -> Value:
    if value is None:
        return None
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    number = float(value)
    return None if math.isnan(number) else number


# -- built-ins ------------------------------------------------------------------------------
def exact_match(reference: str = "reference", *, name: str = "exact_match") -> Metric:
    """The answer equals the reference (surrounding whitespace ignored)."""
    return RowMetric(name, lambda row, a, _: a.strip() == str(row[reference]).strip(), (reference,))


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (SQuAD's normalisation)."""
    text = _ARTICLES.sub(" ", str(text).lower().translate(_PUNCTUATION))
    return " ".join(text.split())


def normalized_match(reference: str = "reference", *, name: str = "normalized_match") -> Metric:
    """The answer equals the reference after :func:`normalize`."""
    return RowMetric(
        name, lambda row, a, _: normalize(a) == normalize(row[reference]), (reference,)
    )


def regex(pattern: str, *, name: str = "regex", full: bool = False, flags: int = 0) -> Metric:
    """The answer matches ``pattern`` (``re.search``; ``full=True``: the whole answer)."""
    compiled = re.compile(pattern, flags)
    match = compiled.fullmatch if full else compiled.search
    return RowMetric(name, lambda _row, a, _: match(a.strip() if full else a) is not None)


_NUMBER = re.compile(r"[-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def first_number(text: str) -> float | None:
    found = _NUMBER.search(str(text))
    return float(found.group().replace(",", "")) if found else None


def numeric_match(
    reference: str = "reference",
    *,
    tolerance: float = 1e-6,
    relative: bool = False,
    name: str = "numeric_match",
) -> Metric:
    """The first number in the answer is within ``tolerance`` of the reference (absolute, or
    relative to the reference with ``relative=True``); no number in the answer scores 0."""

    def close(row: dict[str, Any], answer: str, _: Any) -> bool:
        got = first_number(answer)
        want = float(row[reference])
        if got is None:
            return False
        allowed = tolerance * abs(want) if relative else tolerance
        return abs(got - want) <= allowed

    return RowMetric(name, close, (reference,))


def json_valid(schema: dict[str, Any] | None = None, *, name: str = "json_valid") -> Metric:
    """The answer parses as JSON (and validates against ``schema`` when given)."""
    validator = None
    if schema is not None:
        from jsonschema import Draft202012Validator

        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema)

    def valid(_row: dict[str, Any], answer: str, _: Any) -> bool:
        try:
            value = json.loads(answer)
        except ValueError:
            return False
        return validator is None or validator.is_valid(value)

    return RowMetric(name, valid)


def latency(*, name: str = "latency_s") -> Metric:
    """Seconds the engine spent on the answer (batch) or the round trip (interactive)."""
    return RowMetric(name, lambda _row, _a, result: result.latency_s)


def tokens(*, name: str = "completion_tokens") -> Metric:
    """Completion tokens of the answer."""
    return RowMetric(name, lambda _row, _a, result: result.completion_tokens)


class EmbeddingSimilarity(Metric):
    """Cosine similarity of the answer's and the reference's embeddings (the gateway's
    embedding model, a few requests of up to ``chunk`` texts each)."""

    def __init__(
        self,
        reference: str = "reference",
        *,
        model: str | None = None,
        name: str = "embedding_similarity",
        chunk: int = 64,
    ) -> None:
        self.reference = reference
        self.model = model
        self.name = name
        self.chunk = chunk
        self.columns = (reference,)

    def score(self, items: Sequence[Item], context: Context) -> Scores:
        import numpy as np

        from tokenfactory.config import DEFAULT_EMBEDDING_MODEL

        model = self.model or DEFAULT_EMBEDDING_MODEL
        todo = [i for i, item in enumerate(items) if item.answer is not None]
        texts = {str(items[i].row[self.reference]) for i in todo}
        texts |= {str(items[i].answer) or " " for i in todo}
        ordered = sorted(texts)
        vectors: dict[str, Any] = {}
        for start in range(0, len(ordered), self.chunk):
            batch = [t or " " for t in ordered[start : start + self.chunk]]
            response = context.client.embeddings.create(model=model, input=batch)
            chunk = ordered[start : start + self.chunk]
            for text, row in zip(chunk, response.to_numpy(), strict=True):
                vectors[text] = row / (np.linalg.norm(row) or 1.0)
        values: list[Value] = [None] * len(items)
        for i in todo:
            a = vectors[str(items[i].answer) or " "]
            b = vectors[str(items[i].row[self.reference])]
            values[i] = float(np.dot(a, b))
        return Scores(values, [None] * len(items))


def embedding_similarity(reference: str = "reference", **kwargs: Any) -> Metric:
    return EmbeddingSimilarity(reference, **kwargs)


BY_NAME: dict[str, Callable[..., Metric]] = {
    "exact_match": exact_match,
    "normalized_match": normalized_match,
    "numeric_match": numeric_match,
    "json_valid": json_valid,
    "embedding_similarity": embedding_similarity,
    "latency": latency,
    "latency_s": latency,
    "tokens": tokens,
    "completion_tokens": tokens,
}
NEEDS_REFERENCE = ("exact_match", "normalized_match", "numeric_match", "embedding_similarity")


def resolve(spec: Any, reference: str = "reference") -> list[Metric]:
    """``metrics=`` as Metric objects: names, Metrics, callables, or a list of them."""
    if spec is None:
        return []
    if isinstance(spec, (str, Metric)) or callable(spec):
        spec = [spec]
    out: list[Metric] = []
    for item in spec:
        if isinstance(item, Metric):
            out.append(item)
        elif isinstance(item, str):
            factory = BY_NAME.get(item)
            if factory is None:
                raise WorkbenchError(
                    f"unknown metric {item!r} (built-ins: {', '.join(sorted(BY_NAME))}; "
                    "or pass a callable (row, answer) -> float | bool, or tf.judge(...))"
                )
            out.append(factory(reference) if item in NEEDS_REFERENCE else factory())
        elif callable(item):
            fn = item
            name = getattr(fn, "__name__", None) or type(fn).__name__
            if name == "<lambda>":
                name = f"metric_{len(out)}"
            out.append(RowMetric(name, _two_arguments(fn)))
        else:
            raise WorkbenchError(f"cannot use {item!r} as a metric")
    names = [m.name for m in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise WorkbenchError(f"metric names must be unique; repeated: {dupes}")
    return out


def _two_arguments(
    fn: Callable[[dict[str, Any], str], Any],
) -> Callable[[dict[str, Any], str, LineResult], Any]:
    def call(row: dict[str, Any], answer: str, _result: LineResult) -> Any:
        return fn(row, answer)

    return call

"""``tf.evaluate``: every candidate answers every row, the answers are scored, and the result
says which candidate is better and how sure that is.

Everything that can be wrong is checked before any request: the templates against the data's
columns, the metrics' reference columns, the candidates' models (the gateway's catalog), every
JSON Schema (the gateway's grammar engine), and the estimated cost against ``max_cost``. Then
the requests run as one batch job (durable, resumable, below interactive traffic, billed at
the batch tier; ``interactive=True`` for a few rows), and the metrics score the answers here
(the judge and embedding similarity call the gateway again).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .candidates import Candidate, as_candidates
from .dispatch import Line, LineResult, Run, run_lines, wait_for_job
from .errors import TemplateError, WorkbenchError
from .estimate import confirm_cost, default_max_cost, estimate_lines
from .metrics import Context, Item, Metric, resolve
from .prices import Prices, cost_usd, fetch_prices, tier_of
from .result import EvalResult

if TYPE_CHECKING:
    import pandas as pd

    from tokenfactory.sdk import TokenFactory

ROW_KEY = "tf_eval_row"
CANDIDATE_KEY = "tf_eval_candidate"
#: metrics where a lower value is better (the grid sorts them the other way)
LOWER_IS_BETTER = ("latency_s", "completion_tokens")


def load_data(data: Any) -> pd.DataFrame:
    """A DataFrame as given (its index kept aside), or a JSONL file of row objects."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, (str, Path)):
        frame = pd.read_json(Path(data), lines=True)
    elif isinstance(data, list):
        frame = pd.DataFrame(data)
    else:
        raise WorkbenchError(f"data must be a DataFrame or a JSONL path, not {type(data)}")
    if frame.empty:
        raise WorkbenchError("the data has no rows")
    return frame.reset_index(drop=True)


def evaluate(
    data: Any,
    candidates: Any,
    metrics: Any = None,
    *,
    template: str | None = None,
    system: str | None = None,
    reference: str = "reference",
    baseline: str | None = None,
    interactive: bool = False,
    sla: str = "24h",
    max_tokens: int = 128,
    temperature: float = 0.0,
    max_cost: float | None = None,
    confirm: bool | None = None,
    client: TokenFactory | None = None,
    concurrency: int = 8,
    progress: bool = True,
    **params: Any,
) -> EvalResult:
    """Run every candidate on every row of ``data`` and score the answers.

    ``candidates``: model ids, adapters, ``ADAPTER@epoch-N`` checkpoints, ``tf.candidate(...)``
    (own template, system prompt, sampling), or ``{name: ...}``. ``template``: the prompt
    (``"{question}"`` or Jinja ``"{{ question }}"``) for candidates without their own.
    ``metrics``: names (``"exact_match"``...), ``tf.metrics.*`` objects, ``tf.judge(...)``, or
    callables ``(row, answer) -> float | bool``; default ``exact_match`` when the data has a
    ``reference`` column. ``baseline``: the candidate differences are measured against
    (default: the first). ``max_cost`` (USD): above it, the estimate is shown and the run asks
    first (``confirm=True`` runs without asking, ``False`` refuses). Extra keyword arguments
    go into every request (``top_p``, ``seed``, ...).
    """
    frame = load_data(data)
    plan = _plan(frame, candidates, metrics, template, reference, baseline)
    defaults = {"max_tokens": max_tokens, "temperature": temperature, **params}
    rows = frame.to_dict("records")
    lines, prompts = _lines(rows, plan.candidates, plan.prompts, defaults, system)
    own_client = client is None
    if client is None:
        from tokenfactory.sdk import TokenFactory

        client = TokenFactory()
    try:
        _check_gateway(client, plan, lines, rows)
        tier = tier_of(interactive, sla)
        prices = fetch_prices(client)
        if max_cost is None:
            max_cost = default_max_cost()
        if max_cost is not None:
            forecast = estimate_lines(client, [x.body for x in lines], prices=prices)
            confirm_cost(forecast, tier, max_cost, confirm)
        run = run_lines(
            client,
            lines,
            interactive=interactive,
            sla=sla,
            concurrency=concurrency,
            progress=progress,
            desc="evaluate",
        )
        context = Context(client, interactive, sla, progress, concurrency)
        result = score(frame, plan, rows, prompts, run, prices, context)
    finally:
        if own_client:
            client.close()
    return result


class Plan:
    """What an evaluation will do, checked against the data before any request."""

    def __init__(
        self,
        candidates: list[Candidate],
        prompts: dict[str, Any],
        metrics: list[Metric],
        baseline: str,
    ) -> None:
        self.candidates = candidates
        self.prompts = prompts  # candidate label -> Template
        self.metrics = metrics
        self.baseline = baseline


def _plan(
    frame: pd.DataFrame,
    candidates: Any,
    metrics: Any,
    template: str | None,
    reference: str,
    baseline: str | None,
) -> Plan:
    columns = [str(c) for c in frame.columns]
    cands = as_candidates(candidates)
    prompts = {}
    for c in cands:
        t = c.prompt_template(template)
        t.check(columns, f"the template of candidate {c.label!r}")
        prompts[c.label] = t
    if metrics is None:
        metrics = ["exact_match"] if reference in columns else []
    metric_objs = resolve(metrics, reference)
    for m in metric_objs:
        m.check(columns)
    labels = [c.label for c in cands]
    if baseline is not None and baseline not in labels:
        raise WorkbenchError(f"baseline {baseline!r} is not one of the candidates {labels}")
    return Plan(cands, prompts, metric_objs, baseline or labels[0])


def _lines(
    rows: list[dict[str, Any]],
    candidates: Sequence[Candidate],
    prompts: dict[str, Any],
    defaults: dict[str, Any],
    system: str | None,
) -> tuple[list[Line], list[list[str]]]:
    """The request lines, and the prompt of each (row, candidate)."""
    lines = []
    rendered: list[list[str]] = []
    for i, row in enumerate(rows):
        rendered.append([])
        for j, c in enumerate(candidates):
            try:
                prompt = prompts[c.label].render(row)
            except Exception as exc:
                raise TemplateError(
                    f"row {i}: the template of candidate {c.label!r} fails: {exc}"
                ) from None
            if system is not None and c.system is None:
                c = Candidate(c.model, c.template, system, c.params, c.name)
            body = c.body(prompt, defaults)
            body["metadata"] = {ROW_KEY: str(i), CANDIDATE_KEY: c.label}
            lines.append(Line(f"r{i}-c{j}", body))
            rendered[-1].append(prompt)
    return lines, rendered


def _check_gateway(
    client: TokenFactory, plan: Plan, lines: list[Line], rows: list[dict[str, Any]]
) -> None:
    from tokenfactory.config import DEFAULT_CHAT_MODEL

    from .checks import check_models, check_schemas
    from .judge import Judge

    judges = [m for m in plan.metrics if isinstance(m, Judge)]
    models = [c.model for c in plan.candidates]
    models += [j.judge_model(DEFAULT_CHAT_MODEL) for j in judges]
    check_models(client, models)
    bodies = [line.body for line in lines[: len(plan.candidates)]]
    probe = Item(rows[0], plan.candidates[0].label, "", LineResult("probe", answer=""))
    bodies += [j.body(probe, j.judge_model(DEFAULT_CHAT_MODEL)) for j in judges]
    check_schemas(client, bodies)


def score(
    frame: pd.DataFrame,
    plan: Plan,
    rows: list[dict[str, Any]],
    prompts: list[list[str]],
    run: Run,
    prices: Prices | None,
    context: Context,
) -> EvalResult:
    import pandas as pd

    items: list[Item] = []
    records: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        for j, c in enumerate(plan.candidates):
            custom_id = f"r{i}-c{j}"
            result = run.results.get(custom_id) or LineResult.failed(custom_id, "no result")
            prompt = prompts[i][j]
            items.append(Item(row, c.label, prompt, result))
            records.append(
                {
                    "row": i,
                    "candidate": c.label,
                    "model": c.model,
                    "prompt": prompt,
                    "answer": result.answer,
                    "error": result.error,
                    "finish_reason": result.finish_reason,
                    "prompt_tokens": result.prompt_tokens,
                    "completion_tokens": result.completion_tokens,
                    "latency_s": result.latency_s,
                    "cost_usd": cost_usd(
                        prices, run.tier, result.prompt_tokens, result.completion_tokens
                    ),
                }
            )
    tidy = pd.DataFrame(records)
    metric_errors: list[list[str]] = [[] for _ in items]
    for metric in plan.metrics:
        try:
            scores = metric.score(items, context)
        except Exception as exc:  # a metric that fails as a whole marks every row
            tidy[metric.name] = float("nan")
            for errs in metric_errors:
                errs.append(f"{metric.name}: {type(exc).__name__}: {exc}")
            continue
        tidy[metric.name] = pd.array(scores.values, dtype="Float64").astype(float)
        for name, values in scores.extra.items():
            tidy[name] = values
        for errs, err in zip(metric_errors, scores.errors, strict=True):
            if err:
                errs.append(err)
    tidy["metric_errors"] = ["; ".join(e) if e else None for e in metric_errors]
    tidy["custom_id"] = [x.result.custom_id for x in items]
    names = [m.name for m in plan.metrics]
    return EvalResult(
        frame=tidy,
        metrics=names,
        candidates=[c.label for c in plan.candidates],
        baseline=plan.baseline,
        data=frame,
        batch_ids=[b for b in [run.batch_id, *context.batch_ids] if b],
        higher_is_better={n: n not in LOWER_IS_BETTER for n in names},
    )


def rebuild(
    batch_id: str,
    data: Any,
    metrics: Any,
    reference: str,
    baseline: str | None,
    client: TokenFactory | None,
    progress: bool,
) -> EvalResult:
    """``EvalResult.from_job``: the candidates and prompts come from the job's own lines."""
    import pandas as pd

    own_client = client is None
    if client is None:
        from tokenfactory.sdk import TokenFactory

        client = TokenFactory()
    try:
        results = wait_for_job(client, batch_id, progress)
        inputs = [line.model_dump(exclude_none=True) for line in client.batches.input(batch_id)]
        sla = client.batches.retrieve(batch_id).sla or "24h"
        stored = _stored_lines(inputs)
        labels = list(dict.fromkeys(label for (_, label) in stored))
        n_rows = 1 + max(i for i, _ in stored)
        frame = load_data(data) if data is not None else pd.DataFrame(index=range(n_rows))
        if len(frame) != n_rows:
            raise WorkbenchError(f"the job has {n_rows} rows but the data has {len(frame)}")
        metric_objs = resolve(metrics, reference) if metrics is not None else []
        for m in metric_objs:
            m.check([str(c) for c in frame.columns])
        models = {label: stored[key]["body"]["model"] for key in stored for label in [key[1]]}
        cands = [Candidate(models[label], name=label) for label in labels]
        plan = Plan(cands, {}, metric_objs, baseline or labels[0])
        prompts = [[_last_user(stored.get((i, label))) for label in labels] for i in range(n_rows)]
        remapped = {
            f"r{i}-c{labels.index(label)}": results[line["custom_id"]]
            for (i, label), line in stored.items()
            if line["custom_id"] in results
        }
        run = Run(remapped, batch_id, f"batch_{sla}")
        context = Context(client, False, sla, progress)
        rows = frame.to_dict("records")
        return score(frame, plan, rows, prompts, run, fetch_prices(client), context)
    finally:
        if own_client:
            client.close()


def _stored_lines(inputs: list[dict[str, Any]]) -> dict[tuple[int, str], dict[str, Any]]:
    stored = {}
    for line in inputs:
        meta = (line.get("body") or {}).get("metadata") or {}
        if ROW_KEY not in meta or CANDIDATE_KEY not in meta:
            raise WorkbenchError("this batch job was not submitted by tf.evaluate")
        stored[(int(meta[ROW_KEY]), str(meta[CANDIDATE_KEY]))] = line
    if not stored:
        raise WorkbenchError("this batch job has no lines")
    return stored


def _last_user(line: dict[str, Any] | None) -> str:
    if line is None:
        return ""
    return str(line["body"]["messages"][-1].get("content") or "")

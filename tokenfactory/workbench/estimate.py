"""``tf.estimate``: what a run will cost and take, before it runs.

- prompt tokens: counted exactly with the model's own tokenizer (the gateway's ``/tokenize``
  with the chat template applied: the ``prompt_tokens`` each request will be billed);
- output tokens: predicted from ``max_tokens`` and a sample of real answers (``sample`` rows
  asked for real, at the realtime tier; ``sample=0`` assumes every answer uses ``max_tokens``);
- cost per tier (realtime, batch 1h, batch 24h) from the gateway's price table;
- time from the sample too: it is asked at the run's concurrency (the lines the gateway's batch
  runner keeps in flight, from ``/health``; or ``concurrency=`` for an interactive run), and by
  Little's law a run of N requests that keeps C in flight takes N x (mean latency) / C.

``confirm_cost`` is the question ``tf.evaluate``, ``df.tf.extract``/``classify`` and
``%%tf_batch`` ask before a run whose estimate is above ``max_cost``
(default ``$TOKENFACTORY_MAX_COST_USD``; unset: never ask).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import CostLimitError
from .prices import TIERS, Prices, cost_usd, fetch_prices

if TYPE_CHECKING:
    import pandas as pd

    from tokenfactory.sdk import TokenFactory

MAX_COST_ENV = "TOKENFACTORY_MAX_COST_USD"
DEFAULT_SAMPLE = 8  # requests at once when the gateway does not say how many a batch runs


@dataclass
class Estimate:
    requests: int
    prompt_tokens: int  # exact
    output_tokens: float  # predicted
    max_tokens: int
    sampled: int = 0  # real answers the prediction is based on
    concurrency: int = 1  # requests the sample ran at once (the run's, unless sample was smaller)
    mean_latency_s: float | None = None  # of the sampled requests
    sample_elapsed_s: float | None = None
    prices: Prices | None = None
    models: list[str] = field(default_factory=list)

    def cost(self, tier: str) -> float | None:
        return cost_usd(self.prices, tier, self.prompt_tokens, self.output_tokens)

    @property
    def seconds(self) -> float | None:
        if self.mean_latency_s is None:
            return None
        if self.sampled >= self.requests and self.sample_elapsed_s is not None:
            return self.sample_elapsed_s  # the sample was the whole run
        return self.requests * self.mean_latency_s / self.concurrency

    @property
    def throughput_tok_s(self) -> float | None:
        seconds = self.seconds
        return self.output_tokens / seconds if seconds else None

    @property
    def output_bound(self) -> int:
        return self.requests * self.max_tokens

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = [
            {
                "tier": tier,
                "prompt_tokens": self.prompt_tokens,
                "output_tokens": round(self.output_tokens),
                "cost_usd": self.cost(tier),
                "cost_usd_at_max_tokens": cost_usd(
                    self.prices, tier, self.prompt_tokens, self.output_bound
                ),
                "seconds": self.seconds,
            }
            for tier in TIERS
        ]
        return pd.DataFrame(rows).set_index("tier")

    def describe(self) -> str:
        how = (
            f"from {self.sampled} sampled answers"
            if self.sampled
            else f"at max_tokens={self.max_tokens}"
        )
        lines = [
            f"{self.requests} requests to {', '.join(self.models)}: {self.prompt_tokens:,} "
            f"prompt tokens (exact), ~{self.output_tokens:,.0f} output tokens ({how})"
        ]
        for tier in TIERS:
            cost = self.cost(tier)
            lines.append(f"  {tier:<9} ${cost:.6f}" if cost is not None else f"  {tier}: -")
        if self.seconds is not None:
            lines.append(
                f"  time ~{self.seconds:,.0f} s at {self.throughput_tok_s or 0:,.1f} output tok/s"
                f" ({self.concurrency} requests at once)"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe()

    def _repr_html_(self) -> str:
        head = self.describe().splitlines()[0]
        return f"<p>{head}</p>" + self.to_frame().to_html(float_format=lambda v: f"{v:.6g}")


def count_prompt_tokens(
    client: TokenFactory, bodies: Sequence[dict[str, Any]], concurrency: int = 8
) -> list[int]:
    """Each chat body's prompt tokens, exactly (identical prompts are counted once)."""
    keys = [json.dumps([b["model"], b["messages"]], sort_keys=True) for b in bodies]
    unique = {key: body for key, body in zip(keys, bodies, strict=True)}

    def count(body: dict[str, Any]) -> int:
        return int(client.tokenize(body["model"], messages=body["messages"]).count)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        counts = dict(zip(unique, pool.map(count, unique.values()), strict=True))
    return [counts[key] for key in keys]


def estimate_lines(
    client: TokenFactory,
    bodies: Sequence[dict[str, Any]],
    *,
    sample: int = 0,
    prices: Prices | None = None,
    concurrency: int = 8,
) -> Estimate:
    """Forecast ``bodies``; ``sample`` of them are asked for real, ``concurrency`` at once."""
    prompt = sum(count_prompt_tokens(client, bodies))
    max_tokens = max(int(b.get("max_tokens") or 0) for b in bodies) if bodies else 0
    forecast = Estimate(
        requests=len(bodies),
        prompt_tokens=prompt,
        output_tokens=float(sum(int(b.get("max_tokens") or 0) for b in bodies)),
        max_tokens=max_tokens,
        prices=prices if prices is not None else fetch_prices(client),
        models=sorted({b["model"] for b in bodies}),
    )
    if sample > 0 and bodies:
        _sample(client, bodies, sample, max(1, concurrency), forecast)
    return forecast


def batch_lines_in_flight(client: TokenFactory) -> int | None:
    """The lines the gateway's batch runner keeps running at once (its ``/health`` says)."""
    from tokenfactory.running import probe

    health = probe(str(client.base_url), client.api_key, timeout=10.0) or {}
    value = health.get("batch_lines_in_flight")
    return int(value) if value else None


def _sample(
    client: TokenFactory,
    bodies: Sequence[dict[str, Any]],
    sample: int,
    concurrency: int,
    forecast: Estimate,
) -> None:
    """Ask ``sample`` evenly spread bodies for real, ``concurrency`` at once; predict the answer
    lengths and the time from them."""
    step = max(1, len(bodies) // sample)
    chosen = list(bodies[::step][:sample])

    def ask(body: dict[str, Any]) -> tuple[int, float]:
        started = time.perf_counter()
        response = client.chat.completions.create(**body)
        tokens = int(response.usage.completion_tokens if response.usage else 0)
        return tokens, time.perf_counter() - started

    at_once = min(concurrency, len(chosen))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        answers = list(pool.map(ask, chosen))
    forecast.sample_elapsed_s = time.perf_counter() - started
    produced = [tokens for tokens, _ in answers]
    forecast.output_tokens = sum(produced) / len(produced) * forecast.requests
    forecast.sampled = len(answers)
    forecast.concurrency = at_once
    forecast.mean_latency_s = sum(latency for _, latency in answers) / len(answers)


def estimate(
    data: Any,
    template: str,
    model: str | None = None,
    *,
    tier: str | None = None,
    system: str | None = None,
    max_tokens: int = 128,
    sample: int | None = None,
    concurrency: int | None = None,
    client: TokenFactory | None = None,
    **params: Any,
) -> Estimate:
    """Forecast running ``template`` over every row of ``data`` with ``model``: exact prompt
    tokens, predicted output tokens, cost per tier and time. ``tier`` (``realtime``,
    ``batch_1h``, ``batch_24h``) only picks the line printed first; all tiers are in the
    result.

    ``concurrency`` is how many requests the run keeps in flight: by default what the gateway's
    batch runner keeps (a batch run); pass the ``concurrency=`` of an interactive run.
    ``sample`` rows (default: that many, at most the rows) are asked for real, that many at
    once, to predict answer lengths and the time; ``sample=0`` asks none and assumes every
    answer uses ``max_tokens``."""
    from tokenfactory.config import DEFAULT_CHAT_MODEL

    from .candidates import Candidate
    from .evaluate import load_data
    from .rows import with_client
    from .templates import Template

    if tier is not None and tier not in TIERS:
        raise ValueError(f"tier must be one of {TIERS}")
    frame = load_data(data)
    t = Template(template)
    t.check([str(c) for c in frame.columns])
    c = Candidate(model or DEFAULT_CHAT_MODEL, system=system)
    defaults = {"max_tokens": max_tokens, "temperature": 0.0, **params}
    bodies = [c.body(t.render(row), defaults) for row in frame.to_dict("records")]

    def work(client: TokenFactory) -> Estimate:
        from .checks import check_models

        check_models(client, [c.model])
        at_once = concurrency or batch_lines_in_flight(client) or DEFAULT_SAMPLE
        size = min(at_once, len(bodies)) if sample is None else sample
        return estimate_lines(client, bodies, sample=size, concurrency=at_once)

    return with_client(client, work)


def default_max_cost() -> float | None:
    raw = os.environ.get(MAX_COST_ENV)
    return float(raw) if raw else None


def confirm_cost(
    forecast: Estimate, tier: str, max_cost: float | None, confirm: bool | None
) -> None:
    """Return when the run may go ahead; ``CostLimitError`` when it may not."""
    cost = forecast.cost(tier)
    if max_cost is None or cost is None or cost <= max_cost or confirm is True:
        return
    message = f"estimated cost ${cost:.6f} at {tier} is above max_cost=${max_cost}"
    if confirm is False:
        raise CostLimitError(f"{message}; not run")
    print(forecast.describe())
    try:
        answer = input(f"{message}. Run it? [y/N] ")
    except (EOFError, OSError, RuntimeError, Exception):
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise CostLimitError(f"{message}; not confirmed, not run (pass confirm=True to run)")

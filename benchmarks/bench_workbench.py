"""The workbench against doing the same by hand, on a real engine behind a real gateway.

- evaluate: ``tf.evaluate`` of R rows x 3 candidates (its checks, one batch job, the scoring)
  against the same request lines submitted as a plain batch job: throughput ratio
  (target >= 0.9x);
- extract: ``df.tf.extract`` (interactive path) of R rows against hand-written
  ``client.chat.completions.create(response_format=...)`` calls at the same concurrency
  (target >= 1.0x);
- estimate: ``tf.estimate`` before a batch run against what the run used: prompt tokens (exact),
  cost (within 15%), time (within 30%).

Phases alternate (plain, workbench, plain, workbench with ``--rounds 2``) so load drift on a
shared machine hits both.

    .venv/bin/python -m benchmarks.bench_workbench [--engine transformers|vllm] [--rows 500]

Results go to ``benchmarks/results/workbench_<engine>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

import tokenfactory as tf
from tokenfactory.config import DEFAULT_CHAT_MODEL

RESULTS = Path(__file__).parent / "results"
SUBJECTS = ["kettle", "lamp", "chair", "phone", "bike", "desk", "clock", "fan", "oven", "mug"]


class Review(BaseModel):
    product: str
    stars: int


def data(rows: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "question": [f"Name one use of a {SUBJECTS[i % 10]} (#{i})." for i in range(rows)],
            "reference": ["" for _ in range(rows)],
            "text": [
                f"The {SUBJECTS[i % 10]} I bought is fine, {1 + i % 5} stars." for i in range(rows)
            ],
        }
    )


CANDIDATES = {
    "base": DEFAULT_CHAT_MODEL,
    "terse": tf.candidate(DEFAULT_CHAT_MODEL, system="Answer in five words."),
    "warm": tf.candidate(DEFAULT_CHAT_MODEL, temperature=0.7, seed=1),
}


def timed(fn):
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def bench_evaluate(client, df: pd.DataFrame, max_tokens: int, rounds: int) -> dict:
    from tokenfactory.workbench.candidates import as_candidates

    cands = as_candidates(CANDIDATES)
    lines = [
        {"custom_id": f"r{i}-c{j}", "body": c.body(q, {"max_tokens": max_tokens, "temperature": 0})}
        for i, q in enumerate(df["question"])
        for j, c in enumerate(cands)
    ]

    def plain():
        job = client.batches.create(lines, sla="1h")
        client.batches.wait(job.id, progress=False, poll_interval=0.5)
        return list(client.batches.results(job.id))

    def workbench():
        return tf.evaluate(
            df, CANDIDATES, ["latency", "tokens"], template="{question}", max_tokens=max_tokens,
            sla="1h", client=client, progress=False,
        )  # fmt: skip

    times = {"plain": [], "workbench": []}
    for _ in range(rounds):
        times["plain"].append(timed(plain)[1])
        times["workbench"].append(timed(workbench)[1])
    plain_s, bench_s = min(times["plain"]), min(times["workbench"])
    return {
        "lines": len(lines),
        "plain_batch_s": plain_s,
        "evaluate_s": bench_s,
        "throughput_ratio": plain_s / bench_s,
        "runs": times,
    }


def bench_extract(client, df: pd.DataFrame, concurrency: int, rounds: int) -> dict:
    schema = Review.model_json_schema()
    fmt = {"type": "json_schema", "json_schema": {"name": "extracted", "schema": schema}}

    def by_hand():
        def ask(text):
            return client.chat.completions.create(
                model=DEFAULT_CHAT_MODEL,
                messages=[{"role": "user", "content": f"Extract product, stars.\n\nText:\n{text}"}],
                response_format=fmt, max_tokens=32, temperature=0,
            )  # fmt: skip

        with ThreadPoolExecutor(concurrency) as pool:
            return list(pool.map(ask, df["text"]))

    def workbench():
        return df.tf.extract(
            Review, column="text", max_tokens=32, interactive=True, client=client,
            progress=False, concurrency=concurrency,
        )  # fmt: skip

    times = {"by_hand": [], "extract": []}
    for _ in range(rounds):
        times["by_hand"].append(timed(by_hand)[1])
        times["extract"].append(timed(workbench)[1])
    hand_s, bench_s = min(times["by_hand"]), min(times["extract"])
    return {
        "rows": len(df),
        "concurrency": concurrency,
        "by_hand_s": hand_s,
        "extract_s": bench_s,
        "throughput_ratio": hand_s / bench_s,
        "runs": times,
    }


def bench_estimate(client, df: pd.DataFrame, max_tokens: int) -> dict:
    forecast, estimate_s = timed(
        lambda: tf.estimate(
            df, "{question}", DEFAULT_CHAT_MODEL, max_tokens=max_tokens, client=client
        )
    )
    result, seconds = timed(
        lambda: tf.evaluate(
            df,
            DEFAULT_CHAT_MODEL,
            [],
            template="{question}",
            max_tokens=max_tokens,
            sla="1h",
            client=client,
            progress=False,
        )
    )
    actual_prompt = int(result.frame["prompt_tokens"].sum())
    actual_cost = float(result.frame["cost_usd"].sum())
    predicted_cost = forecast.cost("batch_1h")
    return {
        "rows": len(df),
        "prompt_tokens_predicted": forecast.prompt_tokens,
        "prompt_tokens_actual": actual_prompt,
        "prompt_tokens_exact": forecast.prompt_tokens == actual_prompt,
        "output_tokens_predicted": forecast.output_tokens,
        "output_tokens_actual": int(result.frame["completion_tokens"].sum()),
        "cost_predicted": predicted_cost,
        "cost_actual": actual_cost,
        "cost_error": abs(predicted_cost - actual_cost) / actual_cost,
        "estimate_took_s": estimate_s,
        "sampled": forecast.sampled,
        "sampled_at_once": forecast.concurrency,
        "time_predicted_s": forecast.seconds,
        "time_actual_s": seconds,
        "time_error": abs(forecast.seconds - seconds) / seconds if forecast.seconds else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="transformers", choices=["transformers", "vllm"])
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    # a data directory of its own: the default one would resume an earlier run's batch jobs
    # (they are durable) ahead of this run's
    os.environ["TOKENFACTORY_HOME"] = tempfile.mkdtemp(prefix="tf-bench-workbench-")
    tf.serve(engine=args.engine)
    client = tf.TokenFactory()
    df = data(args.rows)
    out = {
        "engine": args.engine,
        "rows": args.rows,
        "max_tokens": args.max_tokens,
        "rounds": args.rounds,
        "evaluate": bench_evaluate(client, df, args.max_tokens, args.rounds),
        "extract": bench_extract(client, df, args.concurrency, args.rounds),
        "estimate": bench_estimate(client, df, args.max_tokens),
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"workbench_{args.engine}.json"
    path.write_text(json.dumps(out, indent=2))
    print(json.dumps({k: v for k, v in out.items()}, indent=2))


if __name__ == "__main__":
    main()

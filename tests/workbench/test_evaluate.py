"""``tf.evaluate`` against a real HTTP gateway (over the scriptable fake engine): the batch path
and the interactive one, the tidy frame and summary, parquet and ``from_job``, and every
bad input refused before a request reaches the engine."""

from __future__ import annotations

import pandas as pd
import pytest

import tokenfactory as tf
from tokenfactory.workbench.errors import (
    SchemaError,
    TemplateError,
    UnknownCandidateError,
    WorkbenchError,
)
from tokenfactory.workbench.result import EvalResult

DATA = pd.DataFrame({"q": ["2+2?", "2+3?", "capital of France?"], "reference": ["4", "5", "Paris"]})


def test_evaluate_runs_as_one_batch_job_and_scores_every_row(client, gateway):
    result = tf.evaluate(
        DATA,
        ["test/chat", tf.candidate("test/chat", temperature=0.5, name="warm")],
        ["exact_match", "latency", tf.metrics.numeric_match()],
        template="Q: {q}",
        client=client,
        progress=False,
    )
    frame = result.frame
    assert len(frame) == 6 and result.candidates == ["test/chat", "warm"]
    # the fake engine answers "4", "5", "Paris" in turn, whatever it is asked
    assert sorted(frame["answer"]) == ["4", "4", "5", "5", "Paris", "Paris"]
    assert set(frame["prompt"]) == {"Q: 2+2?", "Q: 2+3?", "Q: capital of France?"}
    assert (frame["prompt_tokens"] > 0).all() and (frame["completion_tokens"] > 0).all()
    assert frame["latency_s"].notna().all()
    price = client.prices()["batch_24h"]
    expected = (
        frame["prompt_tokens"] * price["input"] + frame["completion_tokens"] * price["output"]
    ) / 1e6
    assert frame["cost_usd"].to_numpy() == pytest.approx(expected.to_numpy())
    assert frame["exact_match"].tolist() == [
        float(a == r) for a, r in zip(frame["answer"], DATA["reference"].repeat(2), strict=True)
    ]
    # numeric_match cannot read "Paris" as a reference number: that row is marked, not fatal
    paris = frame[frame["row"] == 2]
    assert paris["metric_errors"].str.contains("numeric_match").all()
    # one batch job, billed at the batch tier, visible like any other
    (batch_id,) = result.batch_ids
    job = client.batches.retrieve(batch_id)
    assert job.status == "completed" and job.total_requests == 6
    usage = client.models._get("/usage", cast_to=dict, params={"tier": "batch_24h"})
    assert usage["total"]["requests"] == 6
    assert usage["total"]["cost_usd"] == pytest.approx(frame["cost_usd"].sum(), rel=1e-6)
    summary = result.summary()
    assert list(summary.index) == ["test/chat", "warm"]
    assert summary.loc["test/chat", "exact_match"] == pytest.approx(
        frame[frame.candidate == "test/chat"]["exact_match"].mean()
    )
    assert {"exact_match_diff", "exact_match_ci_low", "exact_match_ci_high"} <= set(summary.columns)
    low, high = summary.loc["warm", ["exact_match_ci_low", "exact_match_ci_high"]]
    assert low <= summary.loc["warm", "exact_match_diff"] <= high


def test_interactive_runs_at_the_realtime_tier_without_a_batch(client):
    result = tf.evaluate(
        DATA, "test/chat", template="{q}", interactive=True, client=client, progress=False
    )
    assert result.batch_ids == [] and result.metrics == ["exact_match"]
    assert result.frame["answer"].notna().all()
    price = client.prices()["realtime"]
    row = result.frame.iloc[0]
    assert row["cost_usd"] == pytest.approx(
        (row["prompt_tokens"] * price["input"] + row["completion_tokens"] * price["output"]) / 1e6
    )


def test_results_survive_the_kernel_as_parquet_and_from_the_job(client, tmp_path):
    result = tf.evaluate(
        DATA, ["test/chat"], ["exact_match"], template="Q: {q}", client=client, progress=False
    )
    path = result.to_parquet(tmp_path / "eval.parquet")
    back = EvalResult.from_parquet(path)
    assert back.candidates == result.candidates and back.metrics == result.metrics
    pd.testing.assert_frame_equal(back.frame, result.frame, check_dtype=False)
    pd.testing.assert_frame_equal(back.data, DATA, check_dtype=False)
    again = EvalResult.from_job(
        result.batch_ids[0], data=DATA, metrics=["exact_match"], client=client, progress=False
    )
    assert again.frame["answer"].tolist() == result.frame["answer"].tolist()
    assert again.frame["exact_match"].tolist() == result.frame["exact_match"].tolist()
    assert again.frame["prompt"].tolist() == result.frame["prompt"].tolist()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"candidates": "nope/model", "template": "{q}"}, UnknownCandidateError, "nope/model"),
        ({"candidates": "test/chat", "template": "{question}"}, TemplateError, "'question'"),
        ({"candidates": "test/chat"}, WorkbenchError, "no template"),
        (
            {
                "candidates": "test/chat",
                "template": "{q}",
                "metrics": ["exact_match"],
                "reference": "gold",
            },
            WorkbenchError,
            "needs column",
        ),
        (
            {"candidates": ["test/chat"], "template": "{q}", "baseline": "other"},
            WorkbenchError,
            "baseline",
        ),
    ],
)
def test_bad_input_is_refused_before_anything_runs(client, gateway, kwargs, error, match):
    with pytest.raises(error, match=match):
        tf.evaluate(DATA, client=client, progress=False, **kwargs)
    assert gateway.engine.requests == []
    assert len(client.batches.list()) == 0


def test_a_schema_the_grammar_cannot_enforce_is_refused_before_the_run(client, gateway):
    fmt = {
        "type": "json_schema",
        "json_schema": {"name": "x", "schema": {"type": "object", "not": {"required": ["a"]}}},
    }
    with pytest.raises(SchemaError, match="'not'"):
        tf.evaluate(
            DATA,
            tf.candidate("test/chat", response_format=fmt),
            template="{q}",
            client=client,
            progress=False,
        )
    assert len(client.batches.list()) == 0


def test_a_failed_request_is_a_marked_row(client):
    result = tf.evaluate(
        DATA,
        "test/chat",
        template="{q}",
        interactive=True,
        max_tokens=5000,  # over the API's bound: every request is refused with a 400
        client=client,
        progress=False,
    )
    assert result.frame["error"].str.contains("max_tokens").all()
    assert result.frame["exact_match"].isna().all()
    assert result.summary().loc["test/chat", "failed"] == 3


def test_the_tokenizer_endpoints_and_prices(client, gateway):
    hello = client.tokenize("test/chat", "hello")
    assert hello.count == 5 and hello.tokens == [ord(c) for c in "hello"]
    chat = client.tokenize("test/chat", messages=[{"role": "user", "content": "hi"}])
    assert chat.count == len("<user>hi\n<assistant>")
    assert client.detokenize("test/chat", hello.tokens).prompt == "hello"
    from tokenfactory.sdk import BadRequestError, NotFoundError

    with pytest.raises(BadRequestError):
        client.tokenize("test/chat")  # neither prompt nor messages
    with pytest.raises(NotFoundError):
        client.tokenize("nope/model", "hi")
    assert set(client.prices()) >= {"realtime", "batch_1h", "batch_24h"}

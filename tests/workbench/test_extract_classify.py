"""``df.tf.extract`` / ``df.tf.classify`` / ``tf.estimate`` over a real HTTP gateway on the
fake engine (scripted answers; it has no grammar and no logprobs, so those are covered by
``test_real_engine.py``): typed columns, marked rows, the batch path above the threshold, the
accessor registered by ``import tokenfactory``, exact prompt counts, the cost question."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from pydantic import BaseModel

import tokenfactory as tf
from tokenfactory.workbench.errors import CostLimitError, WorkbenchError

TEXTS = pd.DataFrame({"text": ["Ada is 36", "Bob is old", "Cy is 7"]})


class Person(BaseModel):
    name: str
    age: int


REPLIES = ['{"name": "Ada", "age": 36}', '{"name": "Bob"}', '{"name": "Cy", "age": 7}']


def _quiet(monkeypatch):
    # the fake engine has no logprobs: the warning saying so is expected here
    monkeypatch.setattr("warnings.warn", lambda *a, **k: None)


@pytest.mark.parametrize("gateway", [REPLIES], indirect=True)
@pytest.mark.parametrize("threshold", [100, 1])
def test_extract_adds_typed_columns_and_marks_invalid_rows(client, gateway, monkeypatch, threshold):
    _quiet(monkeypatch)
    gateway.engine.replies[:] = REPLIES
    before = len(gateway.engine.requests)
    out = TEXTS.tf.extract(
        Person, column="text", model="test/chat", client=client, progress=False,
        threshold=threshold,
    )  # fmt: skip
    asked = gateway.engine.requests[before:]
    # replies come round-robin and the checks before the run took some: compare by content
    assert len(out) == 3 and list(out["text"]) == list(TEXTS["text"])
    assert str(out["age"].dtype) == "Int64" and str(out["name"].dtype) == "string"
    for _, row in out.iterrows():
        if pd.isna(row["extract_error"]):
            assert row["name"] in {"Ada", "Cy"} and row["age"] in {36, 7}
        else:
            assert "age: Field required" in row["extract_error"] and pd.isna(row["age"])
    assert out["extract_error"].notna().sum() == 1
    assert (out.attrs["batch_id"] is None) == (threshold == 100)
    assert all(r.structured is not None for r in asked[-3:])  # the schema went to the engine


@pytest.mark.parametrize("gateway", [['"positive"', '"negative"', '"maybe"']], indirect=True)
def test_classify_constrains_to_the_labels_and_marks_the_rest(client, gateway, monkeypatch):
    _quiet(monkeypatch)
    out = TEXTS.tf.classify(
        "text", labels=["positive", "negative"], model="test/chat", client=client, progress=False
    )
    assert list(out["label"].cat.categories) == ["positive", "negative"]
    assert set(out["label"].dropna()) <= {"positive", "negative"}
    bad = out[out["label_error"].notna()]
    assert all("not one of the labels" in e for e in bad["label_error"])
    assert {"p_positive", "p_negative"} <= set(out.columns)


def test_bad_extract_and_classify_input_fails_before_a_request(client, gateway):
    with pytest.raises(WorkbenchError, match="column"):
        TEXTS.tf.extract(Person, column="body", client=client)
    with pytest.raises(WorkbenchError, match="unknown type"):
        TEXTS.tf.extract({"age": "integer"}, column="text", client=client)
    with pytest.raises(WorkbenchError, match="two distinct"):
        TEXTS.tf.classify("text", labels=["a", "a"], client=client)
    assert gateway.engine.requests == []


def test_estimate_counts_prompt_tokens_exactly_and_prices_every_tier(client, gateway):
    forecast = tf.estimate(TEXTS, "Q: {text}", "test/chat", client=client, sample=2, max_tokens=16)
    # the fake tokenizer is one token per character of the chat-templated prompt
    exact = sum(len(f"<user>Q: {t}\n<assistant>") for t in TEXTS["text"])
    assert forecast.prompt_tokens == exact and forecast.requests == 3
    assert forecast.sampled == 2 and 0 < forecast.output_tokens <= 3 * 16
    prices = client.prices()
    table = forecast.to_frame()
    for tier in ("realtime", "batch_1h", "batch_24h"):
        want = (
            exact * prices[tier]["input"] + forecast.output_tokens * prices[tier]["output"]
        ) / 1e6
        assert table.loc[tier, "cost_usd"] == pytest.approx(want)
    assert forecast.seconds is not None and forecast.seconds > 0
    assert "prompt tokens (exact)" in str(forecast)


def test_estimate_samples_at_the_concurrency_the_batch_runner_keeps(client, gateway):
    from tokenfactory.batch.service import BatchService
    from tokenfactory.running import probe

    in_flight = gateway.core.installed[BatchService].runner.max_in_flight
    assert probe(gateway.base_url, gateway.api_key)["batch_lines_in_flight"] == in_flight
    rows = pd.DataFrame({"text": [f"row {i}" for i in range(in_flight + 8)]})
    gateway.engine.delay = 0.1  # answers long enough to overlap
    forecast = tf.estimate(rows, "{text}", "test/chat", client=client, max_tokens=4)
    assert forecast.sampled == forecast.concurrency == in_flight
    assert gateway.engine.most_running > 8  # the old fixed sample size
    # Little's law: N requests kept C at a time take N x mean latency / C
    assert forecast.seconds == pytest.approx(len(rows) * forecast.mean_latency_s / in_flight)
    interactive = tf.estimate(rows, "{text}", "test/chat", client=client, concurrency=4)
    assert interactive.sampled == interactive.concurrency == 4


def test_a_sample_of_every_row_is_the_run_itself(client, gateway):
    forecast = tf.estimate(TEXTS, "{text}", "test/chat", client=client, max_tokens=4)
    assert forecast.sampled == forecast.requests == 3
    assert forecast.seconds == forecast.sample_elapsed_s


def test_a_run_above_max_cost_asks_first(client, gateway, monkeypatch):
    with pytest.raises(CostLimitError, match="above max_cost"):
        tf.evaluate(
            TEXTS, "test/chat", [], template="{text}", max_cost=0.0, confirm=False,
            client=client, progress=False,
        )  # fmt: skip
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    with pytest.raises(CostLimitError, match="not confirmed"):
        tf.evaluate(TEXTS, "test/chat", [], template="{text}", max_cost=0.0, client=client)
    assert len(client.batches.list()) == 0
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    monkeypatch.setenv("TOKENFACTORY_MAX_COST_USD", "0")
    result = tf.evaluate(TEXTS, "test/chat", [], template="{text}", client=client, progress=False)
    assert len(result.frame) == 3


@pytest.mark.parametrize(
    "before_import",
    ["", "import importlib.util; importlib.util.find_spec('pandas')\n"],  # torch asks so
    ids=["import", "find_spec-then-import"],
)
def test_import_tokenfactory_registers_the_accessor_without_importing_pandas(before_import):
    code = (
        "import sys, tokenfactory\n"
        "assert 'pandas' not in sys.modules and 'torch' not in sys.modules\n"
        f"{before_import}"
        "import pandas as pd\n"
        "print(type(pd.DataFrame({'a': [1]}).tf).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "TokenFactoryAccessor"


def test_the_batch_magic_shows_the_estimate_and_asks_above_max_cost(gateway, monkeypatch):
    from tokenfactory.magics import submit_cell

    connection = f"--base-url {gateway.base_url} --api-key {gateway.api_key}"
    line = f"--df texts --model test/chat --max-cost 0 --no-monitor {connection}"
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CostLimitError):
        submit_cell(line, "Summarise: {text}", {"texts": TEXTS})
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    namespace = {"texts": TEXTS}
    job, _ = submit_cell(line, "Summarise: {text}", namespace)
    assert namespace["batch_job"].id == job.id and job.total_requests == 3

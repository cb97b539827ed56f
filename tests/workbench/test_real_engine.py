"""The workbench on each real engine (SmolLM2-135M on the TransformersEngine, then on the
VLLMEngine): the judge's verdict is grammar-enforced JSON, an unenforceable schema is refused
before the run, extract and classify read confidences and label probabilities from the token
logprobs, and ``/tokenize`` counts exactly what a chat completion is billed."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import BaseModel, Field

import tokenfactory as tf
from tokenfactory.config import DEFAULT_CHAT_MODEL
from tokenfactory.workbench.errors import SchemaError

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def client(engine_server):
    from tokenfactory.sdk import TokenFactory

    with TokenFactory(base_url=engine_server.base_url, api_key=engine_server.api_key) as c:
        yield c


def test_tokenize_counts_the_prompt_tokens_a_chat_completion_bills(client):
    messages = [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "What colour is the sky on a clear day?"},
    ]
    counted = client.tokenize(DEFAULT_CHAT_MODEL, messages=messages, return_token_strs=True)
    billed = client.chat.completions.create(
        model=DEFAULT_CHAT_MODEL, messages=messages, max_tokens=1
    )
    assert counted.count == billed.usage.prompt_tokens == len(counted.tokens)
    assert (
        "".join(counted.token_strs) == client.detokenize(DEFAULT_CHAT_MODEL, counted.tokens).prompt
    )
    plain = client.tokenize(DEFAULT_CHAT_MODEL, "hello world")
    assert client.detokenize(DEFAULT_CHAT_MODEL, plain.tokens).prompt.endswith("hello world")


def test_evaluate_with_a_judge_on_the_real_engine(client):
    data = pd.DataFrame(
        {"question": ["What is 2+2?", "Name the capital of France."], "reference": ["4", "Paris"]}
    )
    judge = tf.judge("Is the answer correct?", reference="reference", max_tokens=40)
    result = tf.evaluate(
        data,
        {"base": DEFAULT_CHAT_MODEL, "terse": tf.candidate(DEFAULT_CHAT_MODEL, system="Be terse.")},
        ["normalized_match", judge],
        template="{question}",
        max_tokens=8,
        client=client,
        progress=False,
    )
    frame = result.frame
    assert frame["error"].isna().all() and frame["answer"].str.len().gt(0).all()
    # the grammar makes every verdict parse, with a score inside the scale
    assert frame["metric_errors"].isna().all(), frame["metric_errors"].tolist()
    assert frame["judge"].between(1, 5).all()
    assert frame["judge_reason"].map(lambda r: isinstance(r, str)).all()
    assert len(result.batch_ids) == 2  # the answers, then the verdicts: both batch jobs
    summary = result.summary(baseline="base")
    assert {"judge", "judge_diff", "judge_ci_low", "judge_ci_high"} <= set(summary.columns)


def test_the_real_grammar_engine_refuses_an_unenforceable_schema_before_the_run(client):
    fmt = {
        "type": "json_schema",
        "json_schema": {"name": "x", "schema": {"type": "string", "contentSchema": {}}},
    }
    before = len(client.batches.list())
    with pytest.raises(SchemaError, match="contentSchema"):
        tf.evaluate(
            pd.DataFrame({"q": ["hi"]}),
            tf.candidate(DEFAULT_CHAT_MODEL, response_format=fmt),
            template="{q}",
            client=client,
            progress=False,
        )
    assert len(client.batches.list()) == before


class Review(BaseModel):
    product: str
    stars: int = Field(ge=1, le=5)


def test_extract_and_classify_with_the_grammar_and_logprobs(client):
    df = pd.DataFrame(
        {"text": ["The kettle is great, five stars.", "This lamp broke on day one. 1 star."]}
    )
    out = df.tf.extract(
        Review, column="text", max_tokens=40, client=client, progress=False, threshold=1
    )
    assert out.attrs["batch_id"] is not None  # above the threshold: a batch job
    ok = out[out["extract_error"].isna()]
    assert len(ok) >= 1, out["extract_error"].tolist()
    assert ok["stars"].between(1, 5).all() and ok["product"].str.len().gt(0).all()
    assert ok["stars_confidence"].between(0, 1).all() and ok["product_confidence"].gt(0).all()
    labels = ["positive", "negative", "neutral"]
    classified = df.tf.classify("text", labels=labels, client=client, progress=False)
    assert classified["label_error"].isna().all()
    assert set(classified["label"]) <= set(labels)
    probabilities = classified[[f"p_{label}" for label in labels]].astype(float)
    assert probabilities.sum(axis=1).to_numpy() == pytest.approx([1.0, 1.0])
    # the chosen label is the most probable one (greedy decoding)
    for (_, row), best in zip(probabilities.iterrows(), classified["label"], strict=True):
        assert row.idxmax() == f"p_{best}"

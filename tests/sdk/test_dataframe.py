"""map_prompts over 50 rows: bounded concurrency, answers in order, failed rows marked."""

from __future__ import annotations

import json
import threading

import httpx
import pandas as pd
import pytest

from tests.sdk.conftest import chat_completion, error_body
from tokenfactory.sdk import map_prompts


class Gateway:
    """Answers "echo: <prompt>"; prompts with "bad" get 400, "flaky" a 503 the first time."""

    def __init__(self, concurrency: int) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.first_wave = threading.Barrier(concurrency, timeout=10)
        self.calls = 0
        self.seen_flaky: set[str] = set()
        self.bodies: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        prompt = body["messages"][-1]["content"]
        with self.lock:
            self.calls += 1
            self.bodies.append(body)
            wave = self.calls <= self.first_wave.parties
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if wave:  # proves that `concurrency` requests really run at once
                self.first_wave.wait()
            if "bad" in prompt:
                return httpx.Response(400, json=error_body("bad prompt", "invalid_request"))
            if "flaky" in prompt:
                with self.lock:
                    first = prompt not in self.seen_flaky
                    self.seen_flaky.add(prompt)
                if first:
                    return httpx.Response(503, json=error_body("loading", "service_unavailable"))
            return httpx.Response(200, json=chat_completion(f"echo: {prompt}"))
        finally:
            with self.lock:
                self.in_flight -= 1


def make_frame(n: int = 50) -> pd.DataFrame:
    kinds = ["ok", "ok", "bad", "flaky", "ok"]
    return pd.DataFrame(
        {
            "text": [f"{kinds[i % 5]}-{i}" for i in range(n)],
            "lang": ["fr" if i % 2 else "en" for i in range(n)],
        },
        index=range(100, 100 + n),
    )


def test_fifty_rows_bounded_concurrency_and_errors_marked(make_client):
    gateway = Gateway(concurrency=4)
    client = make_client(gateway)
    df = make_frame()
    out = map_prompts(
        df,
        "Translate to {lang}: {}",
        column="text",
        model="test/chat",
        client=client,
        concurrency=4,
        system="Be brief.",
        max_tokens=8,
        progress=False,
    )
    assert list(out.index) == list(df.index)
    assert "response" not in df.columns  # the input is left alone
    bad = out["text"].str.startswith("bad")
    assert bad.sum() == 10
    assert out.loc[bad, "response"].isna().all()
    assert out.loc[bad, "error"].str.contains("BadRequestError: .*bad prompt").all()
    good = out.loc[~bad]
    expected = "echo: Translate to " + good["lang"] + ": " + good["text"]
    assert (good["response"] == expected).all()
    assert good["error"].isna().all()
    assert gateway.max_in_flight == 4
    assert gateway.calls == 50 + 10  # each flaky row retried once, bad rows never
    assert all(b["model"] == "test/chat" and b["max_tokens"] == 8 for b in gateway.bodies)
    assert all(
        b["messages"][0] == {"role": "system", "content": "Be brief."} for b in gateway.bodies
    )


def test_custom_columns_and_named_fields_only(make_client):
    gateway = Gateway(concurrency=1)
    df = pd.DataFrame({"city": ["Paris", "Rome"]})
    out = map_prompts(
        df,
        "Capital? {city}",
        client=make_client(gateway),
        model="m",
        concurrency=1,
        output_column="answer",
        error_column="failure",
        progress=False,
    )
    assert list(out["answer"]) == ["echo: Capital? Paris", "echo: Capital? Rome"]
    assert list(out.columns) == ["city", "answer", "failure"]


def test_template_errors_raise_before_any_request(make_client):
    gateway = Gateway(concurrency=1)
    client = make_client(gateway)
    df = pd.DataFrame({"text": ["a"]})
    with pytest.raises(ValueError, match="nope"):
        map_prompts(df, "{nope}", client=client, model="m", progress=False)
    with pytest.raises(ValueError, match="column="):
        map_prompts(df, "{}", client=client, model="m", progress=False)
    with pytest.raises(KeyError, match="missing"):
        map_prompts(df, "{}", column="missing", client=client, model="m", progress=False)
    assert gateway.calls == 0

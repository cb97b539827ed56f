"""A batch job (OpenAI files + batches dialect) run by the gateway on vLLM."""

from __future__ import annotations

import io
import json
import time

import pytest

from tests.greedy import CAPITAL, CAPITAL_QUESTION, LOGPROBS, assert_greedy_answer

from .conftest import CHAT_MODEL

pytestmark = pytest.mark.gpu

QUESTIONS = {
    "france": CAPITAL_QUESTION,
    "italy": "What is the capital of Italy?",
    "colours": "Name three colours.",
    "haiku": "Write a haiku about the sea.",
    "add": "What is 2 + 2?",
    "dog": "Describe a dog in one sentence.",
}


def test_batch_job_completes_with_every_line(client):
    lines = [
        {
            "custom_id": key,
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": CHAT_MODEL,
                "messages": [{"role": "user", "content": question}],
                "max_tokens": 24,
                "temperature": 0,
                **LOGPROBS,
            },
        }
        for key, question in QUESTIONS.items()
    ]
    payload = "\n".join(json.dumps(line) for line in lines).encode()
    uploaded = client.files.create(file=("batch.jsonl", io.BytesIO(payload)), purpose="batch")
    batch = client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    deadline = time.monotonic() + 600
    while batch.status not in {"completed", "failed", "expired", "cancelled"}:
        assert time.monotonic() < deadline, f"batch still {batch.status}"
        time.sleep(1)
        batch = client.batches.retrieve(batch.id)
    assert batch.status == "completed", batch
    assert batch.request_counts.completed == len(QUESTIONS)
    assert batch.request_counts.failed == 0
    results = [
        json.loads(line) for line in client.files.content(batch.output_file_id).text.splitlines()
    ]
    by_id = {r["custom_id"]: r for r in results}
    assert set(by_id) == set(QUESTIONS)
    for result in results:
        assert result["response"]["status_code"] == 200
        assert result["response"]["body"]["choices"][0]["message"]["content"].strip()
    france = by_id["france"]["response"]["body"]["choices"][0]
    assert_greedy_answer(
        france["message"]["content"], france["finish_reason"], france["logprobs"], CAPITAL
    )

"""The official `openai` client's files + batches flow, and the seed's curl-style multipart
upload, against a real gateway on the embedded models."""

from __future__ import annotations

import io
import json
import time

import httpx
import openai
import pytest

from tests.greedy import CAPITAL, CAPITAL_QUESTION, LOGPROBS, assert_greedy_answer

pytestmark = pytest.mark.integration

CHAT = "HuggingFaceTB/SmolLM2-135M-Instruct"
EMBED = "sentence-transformers/all-MiniLM-L6-v2"


def wait(get, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while True:
        job = get()
        status = job["status"] if isinstance(job, dict) else job.status
        if status in ("completed", "failed", "cancelled", "expired"):
            return job
        assert time.monotonic() < deadline, f"still {status}"
        time.sleep(0.3)


def test_openai_files_and_batches_on_the_real_engine(server):
    client = openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)
    lines = [
        {"custom_id": "capital", "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": CHAT, "temperature": 0, "max_tokens": 12, **LOGPROBS,
                  "messages": [{"role": "user", "content": CAPITAL_QUESTION}]}},
        {"custom_id": "hello", "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": CHAT, "max_tokens": 4,
                  "messages": [{"role": "user", "content": "Say hello."}]}},
    ]  # fmt: skip
    data = "".join(json.dumps(x) + "\n" for x in lines).encode()
    f = client.files.create(file=("requests.jsonl", io.BytesIO(data)), purpose="batch")
    batch = client.batches.create(
        input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    batch = wait(lambda: client.batches.retrieve(batch.id))
    assert batch.status == "completed", batch
    assert batch.request_counts.completed == 2 and batch.request_counts.failed == 0
    out = {
        r["custom_id"]: r
        for r in map(json.loads, client.files.content(batch.output_file_id).text.splitlines())
    }
    assert set(out) == {"capital", "hello"}
    choice = out["capital"]["response"]["body"]["choices"][0]
    assert_greedy_answer(
        choice["message"]["content"], choice["finish_reason"], choice["logprobs"], CAPITAL
    )
    assert out["hello"]["response"]["body"]["usage"]["completion_tokens"] <= 4
    assert batch.id in {b.id for b in client.batches.list(limit=50)}


def test_seed_multipart_upload_mixed_endpoints(server):
    headers = {"Authorization": f"Bearer {server.api_key}"}
    lines = [
        {"custom_id": "req-001", "body": {"model": CHAT, "max_tokens": 4,
                                          "messages": [{"role": "user", "content": "Hi"}]}},
        {"custom_id": "req-002", "url": "/v1/embeddings",
         "body": {"model": EMBED, "input": ["a sentence", "another"]}},
    ]  # fmt: skip
    data = "".join(json.dumps(x) + "\n" for x in lines).encode()
    r = httpx.post(
        f"{server.base_url}/batch", headers=headers,
        files={"file": ("batch_requests.jsonl", data)}, data={"sla": "1h"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    created = r.json()
    assert created["status"] == "queued" and created["total_requests"] == 2
    url = f"{server.base_url}/batch/{created['id']}"
    job = wait(lambda: httpx.get(url, headers=headers).json())
    assert (job["status"], job["completed_requests"], job["failed_requests"]) == ("completed", 2, 0)
    results = [
        json.loads(x) for x in httpx.get(f"{url}/results", headers=headers).text.split("\n") if x
    ]
    by_id = {r["custom_id"]: r for r in results}
    assert len(by_id["req-002"]["response"]["body"]["data"]) == 2
    assert len(by_id["req-002"]["response"]["body"]["data"][0]["embedding"]) == 384

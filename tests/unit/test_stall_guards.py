"""One request cannot stall the rest: bodies capped before they are read or authenticated,
slow headers and bodies dropped, large inputs tokenized off the event loop, a client that hangs
up has its work cancelled (and pays for what ran), and the wallet holds real token counts so
parallel requests cannot overdraw it. On a real uvicorn server over the fake engine."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest

from tests.fakes import FakeEngine, FakeTokenizer
from tests.live_server import start_live_server
from tokenfactory.gateway.limits import RequestLimits, parse_caps, parse_size


@pytest.fixture
def live(tmp_path, monkeypatch):
    started = []

    def start(engine: FakeEngine | None = None, **env: str):
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        handle = start_live_server(engine or FakeEngine(), tmp_path / f"home{len(started)}")
        started.append(handle)
        return handle

    yield start
    for handle in started:
        handle.stop(drain_s=0)


def headers(handle) -> dict[str, str]:
    return {"Authorization": f"Bearer {handle.api_key}"}


def test_sizes_and_caps_parse():
    assert parse_size("512KiB") == 512 * 1024 and parse_size("2MB") == 2_000_000
    assert parse_caps("/v1/embeddings=8MiB, *=1000") == {"/v1/embeddings": 8 * 1024**2, "*": 1000}
    limits = RequestLimits(caps={"/v1/adapters/*/training_data": 5, "*": 1})
    assert limits.cap_for("/v1/adapters/a/training_data") == 5 and limits.cap_for("/x") == 1
    with pytest.raises(ValueError):
        parse_caps("/v1/embeddings")


def test_a_body_past_its_cap_is_413_before_authentication(live):
    handle = live(TOKENFACTORY_MAX_BODY="/v1/models/load=1KB")
    big = b'{"model": "' + b"x" * 5000 + b'"}'
    r = httpx.post(handle.url + "/v1/models/load", content=big, timeout=10)  # no key
    assert r.status_code == 413, r.text
    assert r.json()["error"]["code"] == "request_too_large"

    def chunks():  # no Content-Length: read up to the cap, then refused
        for _ in range(50):
            yield b"x" * 1000

    r = httpx.post(handle.url + "/v1/models/load", content=chunks(), timeout=10)
    assert r.status_code == 413 and r.json()["error"]["type"] == "invalid_request"
    # under the cap, the same route authenticates as usual
    assert httpx.post(handle.url + "/v1/models/load", json={}, timeout=10).status_code == 401


def test_slow_headers_and_a_trickled_body_are_dropped(live):
    handle = live(TOKENFACTORY_BODY_TIMEOUT_S="1", TOKENFACTORY_HEADER_TIMEOUT_S="1")
    with socket.create_connection(("127.0.0.1", handle.port), timeout=10) as s:
        s.sendall(b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        answer = s.recv(65536)  # the body never comes whole: 408, then the connection closes
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b"request_timeout" in answer
    with socket.create_connection(("127.0.0.1", handle.port), timeout=10) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # headers never finish
        assert s.recv(65536) == b""  # closed by the server, not by this 10 s timeout


class BlockingTokenizer(FakeTokenizer):
    """Tokenizing a long text takes until the test says so (a 20 MB prompt takes seconds)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        if len(text) > 100_000:
            self.entered.set()
            assert self.release.wait(30)
            return [1] * 10
        return super().encode(text)


def test_a_large_prompt_is_tokenized_off_the_event_loop(live):
    engine = FakeEngine()
    tokenizer = BlockingTokenizer()
    engine._tokenizer = tokenizer
    handle = live(engine)
    big = {"model": "test/chat", "prompt": "y" * 300_000, "max_tokens": 2}
    result: dict = {}

    def send_big() -> None:
        r = httpx.post(
            handle.base_url + "/completions", json=big, headers=headers(handle), timeout=60
        )
        result["status"] = r.status_code

    sender = threading.Thread(target=send_big)
    sender.start()
    try:
        assert tokenizer.entered.wait(30)
        # the big prompt is being tokenized: the server still answers everyone else
        assert httpx.get(handle.url + "/health", timeout=10).status_code == 200
    finally:
        tokenizer.release.set()
        sender.join(60)
    assert result["status"] == 200


def usage_rows(handle) -> list[dict]:
    return handle.core.store.all("SELECT * FROM usage_records ORDER BY rowid")


async def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 400}),
        ("/completions", {"prompt": [f"p{i}" for i in range(40)], "max_tokens": 400}),
        ("/responses", {"input": "hi", "max_output_tokens": 400}),
    ],
)
async def test_a_client_that_hangs_up_has_its_work_cancelled(live, path, body):
    engine = FakeEngine(replies=["z" * 400], delay=0.02)  # 8 s a generation
    handle = live(engine)
    request = {"model": "test/chat", **body}
    async with httpx.AsyncClient(headers=headers(handle)) as client:
        with pytest.raises(httpx.TimeoutException):
            await client.post(handle.base_url + path, json=request, timeout=1.0)
    await wait_for(lambda: engine.running == 0, timeout=5)  # not the 8 s the work would take
    await wait_for(lambda: bool(usage_rows(handle)))
    (row,) = usage_rows(handle)
    assert row["status"] == 499
    prompts = len(body.get("prompt", [None]))
    assert row["completion_tokens"] < 400 * prompts / 2  # billed for what ran, not the rest


class SlowEmbeddings(FakeEngine):
    """Embedding a list takes 8 s, unless it is cancelled (which it records)."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = threading.Event()
        self.cancelled = False

    async def embed(self, model: str, texts: list[str]):
        self.embedding.set()
        try:
            await asyncio.sleep(8)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return await super().embed(model, texts)


async def test_a_client_that_hangs_up_has_its_embeddings_list_cancelled(live):
    engine = SlowEmbeddings()
    handle = live(engine)
    request = {"model": "test/embed", "input": [f"text {i}" for i in range(100)]}
    async with httpx.AsyncClient(headers=headers(handle)) as client:
        with pytest.raises(httpx.TimeoutException):
            await client.post(handle.base_url + "/embeddings", json=request, timeout=1.0)
    assert engine.embedding.is_set()
    await wait_for(lambda: engine.cancelled, timeout=5)  # not the 8 s the work would take
    await wait_for(lambda: bool(usage_rows(handle)))
    (row,) = usage_rows(handle)
    assert (row["endpoint"], row["status"], row["prompt_tokens"]) == ("/v1/embeddings", 499, 0)


async def test_parallel_embeddings_cannot_overdraw_a_small_wallet(live):
    handle = live()
    keys = handle.core.keys
    keys.create_workspace("small")
    keys.set_balance("small", 40)  # $0.00004: 2,000 tokens at the embeddings price
    _, key = keys.create_key("small", name="small")
    text = "数据" * 50  # 100 tokens a request (the fake tokenizer: one per character)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    handle.base_url + "/embeddings", json={"model": "test/embed", "input": text}
                )
                for _ in range(30)
            )
        )
    statuses = sorted(r.status_code for r in answers)
    assert set(statuses) == {200, 402}, statuses
    assert keys.workspace("small").balance_micros >= 0
    assert statuses.count(200) <= 2_000 // 100

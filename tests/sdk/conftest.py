"""SDK test seams: clients over httpx.MockTransport, with a retry policy that never sleeps."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tokenfactory.sdk import AsyncTokenFactory, RetryPolicy, TokenFactory

BASE_URL = "http://gateway.test/v1"
API_KEY = "tf-test-key"

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Records every requested sleep instead of sleeping; time only moves when told."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def policy(self, **kwargs: Any) -> RetryPolicy:
        kwargs.setdefault("random", lambda: 0.0)
        return RetryPolicy(
            sleep=self.sleep, async_sleep=self.async_sleep, clock=self.time, **kwargs
        )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock):
    clients: list[TokenFactory] = []

    def make(handler: Handler, **kwargs: Any) -> TokenFactory:
        kwargs.setdefault("retry_policy", clock.policy())
        kwargs.setdefault("api_key", API_KEY)
        client = TokenFactory(
            base_url=BASE_URL,
            http_client=httpx.Client(transport=httpx.MockTransport(handler)),
            **kwargs,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client._http.close()


@pytest.fixture
def make_async_client(clock: FakeClock):
    def make(handler: Handler, **kwargs: Any) -> AsyncTokenFactory:
        kwargs.setdefault("retry_policy", clock.policy())
        kwargs.setdefault("api_key", API_KEY)
        return AsyncTokenFactory(
            base_url=BASE_URL,
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
            **kwargs,
        )

    return make


def error_body(message: str, type_: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "code": code or type_}}


def chat_completion(content: str = "Hello!", model: str = "test/chat") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }


def chunk(content: str | None = None, finish: str | None = None) -> dict[str, Any]:
    delta = {} if content is None else {"content": content}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "test/chat",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def sse(*events: Any) -> bytes:
    out = b""
    for event in events:
        data = event if isinstance(event, str) else json.dumps(event)
        out += b"data: " + data.encode() + b"\n\n"
    return out


def reply(
    status: int = 200,
    json_body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> Callable[[httpx.Request], httpx.Response]:
    """A fresh response per call (a response's body can be read only once)."""

    def build(request: httpx.Request) -> httpx.Response:
        if content is not None:
            return httpx.Response(status, content=content, headers=headers)
        return httpx.Response(status, json=json_body, headers=headers)

    return build


class Recorder:
    """A MockTransport handler that answers from a script (the last entry repeats) and keeps
    every request. Entries are ``reply(...)`` builders or exceptions to raise."""

    def __init__(self, *script: Callable[[httpx.Request], httpx.Response] | Exception) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.script[min(len(self.requests), len(self.script)) - 1]
        if isinstance(item, Exception):
            raise item
        return item(request)

    @property
    def calls(self) -> int:
        return len(self.requests)

    def body(self, i: int = -1) -> Any:
        return json.loads(self.requests[i].content)

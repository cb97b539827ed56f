"""The few gateway calls the widgets make, with the API's error message kept intact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from .connection import Connection


class ApiError(Exception):
    """A failed gateway call; ``str()`` is the message a user should read."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


def error_message(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return ApiError(
            str(err.get("message") or response.reason_phrase),
            status=response.status_code,
            code=err.get("code"),
        )
    text = response.text.strip()[:300] or response.reason_phrase
    return ApiError(f"HTTP {response.status_code}: {text}", status=response.status_code)


class GatewayApi:
    """Synchronous calls against one gateway; every failure is an ``ApiError``."""

    def __init__(self, connection: Connection, *, timeout: float = 30.0) -> None:
        self.connection = connection
        headers = {"Authorization": f"Bearer {connection.api_key}"} if connection.api_key else {}
        self._client = httpx.Client(
            headers=headers, timeout=httpx.Timeout(timeout, read=None), trust_env=False
        )

    def close(self) -> None:
        self._client.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = self.connection.root_url + path
        try:
            response = self._client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(f"Cannot reach the gateway at {url}: {exc}") from exc
        if response.status_code >= 400:
            raise error_message(response)
        return response.json()

    def health(self) -> dict:
        url = self.connection.root_url + "/health"
        try:
            response = self._client.get(url)
        except httpx.HTTPError as exc:
            raise ApiError(f"Cannot reach the gateway at {url}: {exc}") from exc
        return response.json()

    def models(self) -> list[dict]:
        return self._request("GET", "/v1/models")["data"]

    def load(self, model: str) -> dict:
        return self._request("POST", "/v1/models/load", json={"model": model})

    def unload(self, model: str) -> dict:
        return self._request("POST", "/v1/models/unload", json={"model": model})

    def stream_chat(self, body: dict) -> Iterator[dict]:
        """Yield the chunks of a streamed chat completion; closing the iterator aborts it."""
        url = self.connection.root_url + "/v1/chat/completions"
        payload = {**body, "stream": True, "stream_options": {"include_usage": True}}
        try:
            with self._client.stream("POST", url, json=payload) as response:
                if response.status_code >= 400:
                    response.read()
                    raise error_message(response)
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[len("data:") :].strip()
                    if data == "[DONE]":
                        return
                    chunk = json.loads(data)
                    if isinstance(chunk.get("error"), dict):
                        raise ApiError(
                            str(chunk["error"].get("message")), code=chunk["error"].get("code")
                        )
                    yield chunk
        except httpx.HTTPError as exc:
            raise ApiError(f"Cannot reach the gateway at {url}: {exc}") from exc

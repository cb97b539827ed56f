"""The few gateway calls the widgets make, through the tokenfactory SDK.

Every failure becomes an ``ApiError`` whose text is the API's own message (or, when the
gateway cannot be reached, says so with its address); the widgets show it as it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator
from typing import Any, TypeVar

from ..sdk import APIConnectionError, APIError, TokenFactory
from ..sdk._request import APIRequest
from .connection import Connection

T = TypeVar("T")


class ApiError(Exception):
    """A failed gateway call; ``str()`` is the message a user should read."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


def _dump(obj: Any) -> dict:
    return obj.model_dump() if hasattr(obj, "model_dump") else dict(obj)


class GatewayApi:
    """Synchronous calls against one gateway; every failure is an ``ApiError``."""

    def __init__(self, connection: Connection, *, timeout: float = 30.0) -> None:
        self.connection = connection
        # no retries: a widget shows an error at once rather than after backoff
        self._client = TokenFactory(
            base_url=connection.base_url, api_key=connection.api_key, max_retries=0
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except APIConnectionError as exc:
            raise ApiError(
                f"Cannot reach the gateway at {self.connection.base_url}: {exc.message}"
            ) from exc
        except APIError as exc:
            raise ApiError(
                exc.message,
                status=getattr(exc, "status_code", None),
                code=getattr(exc, "code", None),
            ) from exc

    def request(
        self, method: str, path: str, *, params: dict | None = None, json: dict | None = None
    ) -> Any:
        """Any JSON route of the gateway, e.g. ``request("GET", "/v1/usage")``."""
        if not path.startswith("/v1/"):
            raise ValueError(f"only /v1 routes go through the SDK client, not {path!r}")
        call = APIRequest(method, path[len("/v1") :], body=json, params=params, cast_to=dict)
        return self._call(lambda: self._client.request(call))

    _request = request  # the name the monitor widgets call

    def sdk(self, fn: Callable[[TokenFactory], T]) -> T:
        """Any SDK call, e.g. ``api.sdk(lambda c: c.admin.workspaces.list())``; its failure
        becomes an ``ApiError`` like every other."""
        return self._call(lambda: fn(self._client))

    def models(self) -> list[dict]:
        page = self._call(self._client.models.list)
        return [_dump(m) for m in page.data]

    def load(self, model: str) -> dict:
        return _dump(self._call(lambda: self._client.models.load(model)))

    def unload(self, model: str) -> dict:
        return _dump(self._call(lambda: self._client.models.unload(model)))

    def stream_chat(
        self, body: dict, *, headers: dict[str, str] | None = None
    ) -> Generator[dict, None, None]:
        """Yield the chunks of a streamed chat completion; closing the iterator aborts it."""
        return self._stream(self._client.chat.completions.create, body, headers)

    def stream_completion(
        self, body: dict, *, headers: dict[str, str] | None = None
    ) -> Generator[dict, None, None]:
        """Yield the chunks of a streamed text completion (``/v1/completions``)."""
        return self._stream(self._client.completions.create, body, headers)

    def _stream(
        self, create: Callable[..., Any], body: dict, headers: dict[str, str] | None
    ) -> Generator[dict, None, None]:
        params = {**body, "stream_options": {"include_usage": True}}
        if headers:
            params["extra_headers"] = headers
        stream = self._call(lambda: create(**params, stream=True))
        chunks = iter(stream)
        try:
            while True:
                chunk = self._call(lambda: next(chunks, None))
                if chunk is None:
                    return
                yield _dump(chunk)
        finally:
            stream.close()

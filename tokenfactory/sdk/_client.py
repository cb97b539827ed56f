"""TokenFactory and AsyncTokenFactory: configuration, the request loop with retries, resources.

Each resource is a typed ``cached_property`` of a client. Most resource classes serve both
clients, because their methods return whatever the client's ``request()`` returns (a value for
``TokenFactory``, an awaitable for ``AsyncTokenFactory``); a resource that polls (``batches``,
``adapters``) has a sync and an async class.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from functools import cached_property
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError
from typing_extensions import Self

from .._version import __version__
from ._config import resolve
from ._errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    error_from_response,
)
from ._request import APIRequest, Timeout, merged_body
from ._retry import RetryPolicy
from ._streaming import AsyncStream, Stream
from .resources.adapters import Adapters, AsyncAdapters
from .resources.batches import AsyncBatches, Batches
from .resources.chat import Chat
from .resources.completions import Completions
from .resources.embeddings import Embeddings
from .resources.models import Models

DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2


class _Unchanged:
    """``with_options(timeout=...)`` left out (None is a timeout: no limit)."""


_UNCHANGED = _Unchanged()


class BaseClient:
    """Everything the sync and async clients share: config, request building, parsing."""

    _is_async = False
    _owns_http: bool

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, Any] | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        config = resolve(api_key=api_key, base_url=base_url)
        self.base_url = httpx.URL(config.base_url)
        self.api_key = config.api_key
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_policy = retry_policy or RetryPolicy()
        self._default_headers = dict(default_headers or {})
        self._default_query = dict(default_query or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self.base_url)!r})"

    def with_options(
        self,
        *,
        api_key: str | None = None,
        timeout: Timeout | _Unchanged = _UNCHANGED,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, Any] | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> Self:
        """A copy with some settings changed, sharing this client's connection pool:
        ``client.with_options(max_retries=0, timeout=5).chat.completions.create(...)``."""
        other = copy.copy(self)
        for name in RESOURCE_NAMES:  # resources made for this client are bound to it
            other.__dict__.pop(name, None)
        other._owns_http = False
        other.api_key = api_key or self.api_key
        other.timeout = self.timeout if isinstance(timeout, _Unchanged) else timeout
        other.max_retries = self.max_retries if max_retries is None else max_retries
        other.retry_policy = retry_policy or self.retry_policy
        other._default_headers = {**self._default_headers, **(default_headers or {})}
        other._default_query = {**self._default_query, **(default_query or {})}
        return other

    # resources shared by both clients ---------------------------------------------------
    @cached_property
    def chat(self) -> Chat:
        return Chat(self)

    @cached_property
    def completions(self) -> Completions:
        return Completions(self)

    @cached_property
    def embeddings(self) -> Embeddings:
        return Embeddings(self)

    @cached_property
    def models(self) -> Models:
        return Models(self)

    # tokenizer and prices -------------------------------------------------------------
    def tokenize(
        self,
        model: str,
        prompt: str | None = None,
        *,
        messages: Any = None,
        add_special_tokens: bool | None = None,
        add_generation_prompt: bool = True,
        return_token_strs: bool = False,
    ) -> Any:
        """The model's own token ids for ``prompt``, or for chat ``messages`` with the chat
        template applied (``count`` is what a chat completion's ``prompt_tokens`` would be).
        Free: metered at zero cost. vLLM's ``/tokenize`` shape."""
        from tokenfactory.wire.tokenize import TokenizeResponse

        body: dict[str, Any] = {
            "model": model,
            "prompt": prompt,
            "messages": None if messages is None else list(messages),
            "add_generation_prompt": add_generation_prompt,
            "return_token_strs": return_token_strs,
        }
        if add_special_tokens is not None:
            body["add_special_tokens"] = add_special_tokens
        body = {k: v for k, v in body.items() if v is not None}
        return self.request(APIRequest("POST", "/tokenize", body=body, cast_to=TokenizeResponse))

    def detokenize(self, model: str, tokens: list[int]) -> Any:
        """The text of ``tokens`` (vLLM's ``/detokenize`` shape: ``.prompt``)."""
        from tokenfactory.wire.tokenize import DetokenizeResponse

        body = {"model": model, "tokens": list(tokens)}
        return self.request(
            APIRequest("POST", "/detokenize", body=body, cast_to=DetokenizeResponse)
        )

    def prices(self) -> Any:
        """The gateway's prices: ``{tier: {"input", "output"}}`` in USD per million tokens."""
        from tokenfactory.wire.tokenize import PriceList

        answer = self.request(APIRequest("GET", "/prices", cast_to=PriceList))
        if self._is_async:
            return _as_table(answer)
        return answer.as_table()

    # requests ---------------------------------------------------------------------------
    def request(self, request: APIRequest) -> Any:
        """Send ``request`` with retries: the parsed value (awaitable on the async client)."""
        raise NotImplementedError

    # request building ------------------------------------------------------------------
    @property
    def default_headers(self) -> dict[str, str]:
        headers = {"User-Agent": f"tokenfactory-python/{__version__}", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return {**headers, **self._default_headers}

    def _build_request(
        self, http: httpx.Client | httpx.AsyncClient, request: APIRequest
    ) -> httpx.Request:
        options = request.options
        headers = {**self.default_headers, **(options.get("extra_headers") or {})}
        params = {
            **self._default_query,
            **(request.params or {}),
            **(options.get("extra_query") or {}),
        }
        body = merged_body(request)
        if request.stream:
            headers["Accept"] = "text/event-stream"
        kwargs: dict[str, Any] = {}
        if request.files is not None:
            kwargs["files"] = request.files
            kwargs["data"] = {k: _form_value(v) for k, v in (body or {}).items()}
        elif body is not None:
            kwargs["json"] = body
        return http.build_request(
            request.method,
            str(self.base_url.copy_with(path=self.base_url.path.rstrip("/") + request.path)),
            headers=headers,
            params={k: v for k, v in params.items() if v is not None} or None,
            timeout=_portable_timeout(options.get("timeout", self.timeout)),
            **kwargs,
        )

    def _retry_delay(self, error: APIError, retries_done: int, request: APIRequest) -> float:
        """How long to wait before the next attempt; raises ``error`` when there is none."""
        max_retries = request.options.get("max_retries", self.max_retries)
        delay = self.retry_policy.next_delay(error, retries_done, max_retries)
        if delay is None:
            raise error
        return delay

    def _parse(self, response: httpx.Response, request: APIRequest, started: float) -> Any:
        if request.chunk_type is not None:
            chunk_type = request.chunk_type
            stream_cls = AsyncStream if self._is_async else Stream
            return stream_cls(response, chunk_type.model_validate)
        cast_to = request.cast_to
        if cast_to is httpx.Response:
            return response
        if cast_to is bytes:
            return response.content
        if cast_to is str:
            return response.text
        try:
            data = response.json()
        except ValueError as exc:
            raise APIResponseValidationError(
                f"the response is not JSON: {exc}", response=response
            ) from exc
        if isinstance(cast_to, type) and issubclass(cast_to, BaseModel):
            try:
                value = cast_to.model_validate(data)
            except ValidationError as exc:
                raise APIResponseValidationError(str(exc), response=response) from exc
            if hasattr(value, "_set_response_meta"):
                value._set_response_meta(
                    request_id=response.headers.get("x-request-id"),
                    latency_s=time.perf_counter() - started,
                )
            return value
        return data


async def _as_table(pending: Any) -> dict[str, dict[str, Any]]:
    return (await pending).as_table()


def _transport_error(exc: httpx.TransportError, request: httpx.Request) -> APIError:
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(request=request)
    return APIConnectionError(f"Connection error: {exc}", request=request)


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class TokenFactory(BaseClient):
    """The synchronous client. ``TokenFactory()`` finds the gateway by itself (see _config)."""

    def __init__(self, *, http_client: httpx.Client | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=self.timeout)

    @cached_property
    def batches(self) -> Batches:
        return Batches(self)

    @cached_property
    def adapters(self) -> Adapters:
        return Adapters(self)

    def request(self, request: APIRequest) -> Any:
        started = time.perf_counter()
        retries = 0
        while True:
            http_request = self._build_request(self._http, request)
            try:
                response = self._http.send(http_request, stream=request.stream)
                if response.is_success:
                    return self._parse(response, request, started)
                response.read()  # a streamed error body too
            except httpx.TransportError as exc:
                error: APIError = _transport_error(exc, http_request)
            else:
                error = error_from_response(response)
            self.retry_policy.sleep(self._retry_delay(error, retries, request))
            retries += 1

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> TokenFactory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncTokenFactory(BaseClient):
    """The asyncio client: the same resources, every call awaited."""

    _is_async = True

    def __init__(self, *, http_client: httpx.AsyncClient | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=self.timeout)

    @cached_property
    def batches(self) -> AsyncBatches:
        return AsyncBatches(self)

    @cached_property
    def adapters(self) -> AsyncAdapters:
        return AsyncAdapters(self)

    async def request(self, request: APIRequest) -> Any:
        started = time.perf_counter()
        retries = 0
        while True:
            http_request = self._build_request(self._http, request)
            try:
                response = await self._http.send(http_request, stream=request.stream)
                if response.is_success:
                    return self._parse(response, request, started)
                await response.aread()  # a streamed error body too
            except httpx.TransportError as exc:
                error: APIError = _transport_error(exc, http_request)
            else:
                error = error_from_response(response)
            await self.retry_policy.async_sleep(self._retry_delay(error, retries, request))
            retries += 1

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncTokenFactory:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


RESOURCE_NAMES = ("adapters", "batches", "chat", "completions", "embeddings", "models")


def _portable_timeout(timeout: Any) -> Any:
    """A timeout any httpx-compatible client accepts: an ``httpx.Timeout`` as a 4-tuple, since
    a client given in ``http_client=`` may be ``httpx2``'s (starlette's TestClient is), and
    ``httpx2`` refuses ``httpx.Timeout`` objects."""
    if isinstance(timeout, httpx.Timeout):
        return (timeout.connect, timeout.read, timeout.write, timeout.pool)
    return timeout

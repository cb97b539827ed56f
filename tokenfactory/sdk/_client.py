"""TokenFactory and AsyncTokenFactory: configuration, the request loop with retries, resources.

Each resource is a typed ``cached_property`` of a client: ``TokenFactory`` holds the
synchronous classes (``Chat``, ``Models``, ...), ``AsyncTokenFactory`` their ``Async`` twins,
whose methods are coroutines. ``request(APIRequest)`` returns the answer parsed into the
request's ``cast_to``; ``request_stream`` a ``Stream`` (``AsyncStream``) of it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from typing import Any, TypeVar, cast

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
from .resources._params import MessageParam
from .resources.adapters import Adapters, AsyncAdapters
from .resources.admin import Admin, AsyncAdmin
from .resources.batches import AsyncBatches, Batches
from .resources.chat import AsyncChat, Chat
from .resources.completions import AsyncCompletions, Completions
from .resources.embeddings import AsyncEmbeddings, Embeddings
from .resources.files import AsyncFiles, Files
from .resources.fine_tuning import AsyncFineTuning, FineTuning
from .resources.models import AsyncModels, Models
from .resources.responses import AsyncResponses, Responses
from .resources.tokenizer import (
    DetokenizeResponse,
    PriceTable,
    TokenizeResponse,
    detokenize_request,
    price_table,
    prices_request,
    tokenize_request,
)
from .resources.usage import AsyncUsage, Usage
from .types import ResponseMeta

T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2


class _Unchanged:
    """``with_options(timeout=...)`` left out (None is a timeout: no limit)."""


_UNCHANGED = _Unchanged()


class BaseClient:
    """Everything the sync and async clients share: config, request building, parsing."""

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

    # request building ------------------------------------------------------------------
    @property
    def default_headers(self) -> dict[str, str]:
        headers = {"User-Agent": f"tokenfactory-python/{__version__}", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return {**headers, **self._default_headers}

    def _build_request(
        self, http: httpx.Client | httpx.AsyncClient, request: APIRequest[Any]
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

    def _retry_delay(self, error: APIError, retries_done: int, request: APIRequest[Any]) -> float:
        """How long to wait before the next attempt; raises ``error`` when there is none."""
        max_retries = request.options.get("max_retries", self.max_retries)
        delay = self.retry_policy.next_delay(error, retries_done, max_retries)
        if delay is None:
            raise error
        return delay

    def _parse(self, response: httpx.Response, request: APIRequest[T], started: float) -> T:
        """The answer as ``request.cast_to``: a model (with its request id and latency), a
        ``dict`` of the JSON, ``str``, ``bytes`` or the ``httpx.Response`` itself."""
        cast_to: type[Any] = request.cast_to
        if cast_to is httpx.Response:
            return cast(T, response)
        if cast_to is bytes:
            return cast(T, response.content)
        if cast_to is str:
            return cast(T, response.text)
        try:
            data = response.json()
        except ValueError as exc:
            raise APIResponseValidationError(
                f"the response is not JSON: {exc}", response=response
            ) from exc
        if not (isinstance(cast_to, type) and issubclass(cast_to, BaseModel)):
            return cast(T, data)
        try:
            value = cast_to.model_validate(data)
        except ValidationError as exc:
            raise APIResponseValidationError(str(exc), response=response) from exc
        if isinstance(value, ResponseMeta):
            value._set_response_meta(
                request_id=response.headers.get("x-request-id"),
                latency_s=time.perf_counter() - started,
            )
        return cast(T, value)


def _chunk_parser(request: APIRequest[T]) -> Callable[[object], T]:
    model: type[Any] = request.cast_to
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"a stream's chunks are pydantic models, not {model!r}")
    # typed events (``ResponseStreamEvent``): each parsed as the class its ``type`` names
    parse = getattr(model, "from_event", model.model_validate)
    return lambda data: cast(T, parse(data))


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
    def chat(self) -> Chat:
        return Chat(self)

    @cached_property
    def responses(self) -> Responses:
        """The Responses API: ``create`` (``stream=True`` for typed events), ``retrieve``,
        ``delete``, ``input_items``."""
        return Responses(self)

    @cached_property
    def completions(self) -> Completions:
        return Completions(self)

    @cached_property
    def embeddings(self) -> Embeddings:
        return Embeddings(self)

    @cached_property
    def models(self) -> Models:
        return Models(self)

    @cached_property
    def batches(self) -> Batches:
        return Batches(self)

    @cached_property
    def adapters(self) -> Adapters:
        return Adapters(self)

    # the control plane (issue 22): files, fine-tuning jobs, usage, admin
    @cached_property
    def files(self) -> Files:
        return Files(self)

    @cached_property
    def fine_tuning(self) -> FineTuning:
        return FineTuning(self)

    @cached_property
    def usage(self) -> Usage:
        return Usage(self)

    @cached_property
    def admin(self) -> Admin:
        return Admin(self)

    def tokenize(
        self,
        model: str,
        prompt: str | None = None,
        *,
        messages: Iterable[MessageParam] | None = None,
        add_special_tokens: bool | None = None,
        add_generation_prompt: bool = True,
        return_token_strs: bool = False,
    ) -> TokenizeResponse:
        """The model's own token ids for ``prompt``, or for chat ``messages`` with the chat
        template applied (``count`` is what a chat completion's ``prompt_tokens`` would be).
        Free: metered at zero cost. vLLM's ``/tokenize`` shape."""
        return self.request(
            tokenize_request(
                model,
                prompt,
                messages,
                add_special_tokens,
                add_generation_prompt,
                return_token_strs,
            )
        )

    def detokenize(self, model: str, tokens: Iterable[int]) -> DetokenizeResponse:
        """The text of ``tokens`` (vLLM's ``/detokenize`` shape: ``.prompt``)."""
        return self.request(detokenize_request(model, tokens))

    def prices(self, model: str | None = None) -> PriceTable:
        """The gateway's prices: ``{tier: {"input", "output"}}`` in USD per million tokens;
        with ``model``, what that model is billed at in each tier."""
        return price_table(self.request(prices_request(model)))

    def request(self, request: APIRequest[T]) -> T:
        """Send ``request`` (retrying what may be retried); the answer as ``request.cast_to``."""
        started = time.perf_counter()
        return self._parse(self._send(request), request, started)

    def request_stream(self, request: APIRequest[T]) -> Stream[T]:
        """Send ``request``; iterate the answer's events as ``request.cast_to``."""
        return Stream(self._send(request), _chunk_parser(request))

    def _send(self, request: APIRequest[Any]) -> httpx.Response:
        """The first successful response (its body unread when streaming) or the last error."""
        retries = 0
        while True:
            http_request = self._build_request(self._http, request)
            try:
                response = self._http.send(http_request, stream=request.stream)
                if response.is_success:
                    return response
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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncTokenFactory(BaseClient):
    """The asyncio client: the same resources, every call awaited."""

    def __init__(self, *, http_client: httpx.AsyncClient | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=self.timeout)

    @cached_property
    def chat(self) -> AsyncChat:
        return AsyncChat(self)

    @cached_property
    def responses(self) -> AsyncResponses:
        return AsyncResponses(self)

    @cached_property
    def completions(self) -> AsyncCompletions:
        return AsyncCompletions(self)

    @cached_property
    def embeddings(self) -> AsyncEmbeddings:
        return AsyncEmbeddings(self)

    @cached_property
    def models(self) -> AsyncModels:
        return AsyncModels(self)

    @cached_property
    def batches(self) -> AsyncBatches:
        return AsyncBatches(self)

    @cached_property
    def adapters(self) -> AsyncAdapters:
        return AsyncAdapters(self)

    @cached_property
    def files(self) -> AsyncFiles:
        return AsyncFiles(self)

    @cached_property
    def fine_tuning(self) -> AsyncFineTuning:
        return AsyncFineTuning(self)

    @cached_property
    def usage(self) -> AsyncUsage:
        return AsyncUsage(self)

    @cached_property
    def admin(self) -> AsyncAdmin:
        return AsyncAdmin(self)

    async def tokenize(
        self,
        model: str,
        prompt: str | None = None,
        *,
        messages: Iterable[MessageParam] | None = None,
        add_special_tokens: bool | None = None,
        add_generation_prompt: bool = True,
        return_token_strs: bool = False,
    ) -> TokenizeResponse:
        return await self.request(
            tokenize_request(
                model,
                prompt,
                messages,
                add_special_tokens,
                add_generation_prompt,
                return_token_strs,
            )
        )

    async def detokenize(self, model: str, tokens: Iterable[int]) -> DetokenizeResponse:
        return await self.request(detokenize_request(model, tokens))

    async def prices(self, model: str | None = None) -> PriceTable:
        return price_table(await self.request(prices_request(model)))

    async def request(self, request: APIRequest[T]) -> T:
        started = time.perf_counter()
        return self._parse(await self._send(request), request, started)

    async def request_stream(self, request: APIRequest[T]) -> AsyncStream[T]:
        return AsyncStream(await self._send(request), _chunk_parser(request))

    async def _send(self, request: APIRequest[Any]) -> httpx.Response:
        retries = 0
        while True:
            http_request = self._build_request(self._http, request)
            try:
                response = await self._http.send(http_request, stream=request.stream)
                if response.is_success:
                    return response
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

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


RESOURCE_NAMES = (
    *("adapters", "batches", "chat", "completions", "embeddings", "models"),
    *("admin", "files", "fine_tuning", "responses", "usage"),
)


def _portable_timeout(
    timeout: Timeout,
) -> float | tuple[float | None, float | None, float | None, float | None] | None:
    """A timeout any httpx-compatible client accepts: an ``httpx.Timeout`` as a 4-tuple, since
    a client given in ``http_client=`` may be ``httpx2``'s (starlette's TestClient is), and
    ``httpx2`` refuses ``httpx.Timeout`` objects."""
    if isinstance(timeout, httpx.Timeout):
        return (timeout.connect, timeout.read, timeout.write, timeout.pool)
    return timeout

"""``client.responses``: the Responses API. ``create`` returns a ``Response``, or with
``stream=True`` a ``Stream`` (``AsyncStream``) of typed events (``ResponseStreamEvent``: its
``type`` says which, and each is parsed as its own class, e.g. ``OutputTextDeltaEvent``);
``retrieve``, ``delete`` and ``input_items`` read and remove stored responses.
``include=["message.output_text.logprobs"]`` (with ``top_logprobs=0..20``) gives each output
text its tokens' ``logprobs`` (``OutputText.logprobs``; streamed, each text delta's own)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, overload

from typing_extensions import Unpack

from ...wire.responses import (
    InputItemList,
    OutputText,
    OutputTextDeltaEvent,
    ResponseDeleted,
    ResponseLogprob,
    ResponseStreamEvent,
)
from .._request import RequestOptions
from .._resource import AsyncAPIResource, SyncAPIResource
from .._streaming import AsyncStream, Stream
from ..types import Response
from ._params import JSONObjectParam, ResponseParams

__all__ = [
    "AsyncResponses",
    "InputItemList",
    "InputParam",
    "OutputText",
    "OutputTextDeltaEvent",
    "Response",
    "ResponseDeleted",
    "ResponseLogprob",
    "ResponseStreamEvent",
    "Responses",
]

PATH = "/responses"

#: a string, or a list of items: messages, function calls, function call outputs
InputParam = str | Iterable[JSONObjectParam]


def _body(model: str, input: InputParam, params: ResponseParams) -> dict[str, Any]:
    return {"model": model, "input": input if isinstance(input, str) else list(input), **params}


def _page(limit: int | None, after: str | None, order: str | None) -> dict[str, Any]:
    query = {"limit": limit, "after": after, "order": order}
    return {k: v for k, v in query.items() if v is not None}


class Responses(SyncAPIResource):
    @overload
    def create(
        self,
        *,
        model: str,
        input: InputParam,
        stream: Literal[False] = False,
        **params: Unpack[ResponseParams],
    ) -> Response: ...

    @overload
    def create(
        self,
        *,
        model: str,
        input: InputParam,
        stream: Literal[True],
        **params: Unpack[ResponseParams],
    ) -> Stream[ResponseStreamEvent]: ...

    @overload
    def create(
        self,
        *,
        model: str,
        input: InputParam,
        stream: bool,
        **params: Unpack[ResponseParams],
    ) -> Response | Stream[ResponseStreamEvent]: ...

    def create(
        self,
        *,
        model: str,
        input: InputParam,
        stream: bool = False,
        **params: Unpack[ResponseParams],
    ) -> Response | Stream[ResponseStreamEvent]:
        """A model response; with ``stream=True`` a Stream of its typed events."""
        body = _body(model, input, params)
        if stream:
            return self._stream(PATH, chunk_type=ResponseStreamEvent, body=body)
        return self._post(PATH, cast_to=Response, body=body)

    def retrieve(self, response_id: str, **options: Unpack[RequestOptions]) -> Response:
        return self._get(f"{PATH}/{response_id}", cast_to=Response, params=options)

    def delete(self, response_id: str, **options: Unpack[RequestOptions]) -> ResponseDeleted:
        return self._delete(f"{PATH}/{response_id}", cast_to=ResponseDeleted, options=options)

    def input_items(
        self,
        response_id: str,
        *,
        limit: int | None = None,
        after: str | None = None,
        order: Literal["asc", "desc"] | None = None,
        **options: Unpack[RequestOptions],
    ) -> InputItemList:
        """A page of the response's own input items (last first, unless ``order="asc"``)."""
        query: Mapping[str, Any] = {**_page(limit, after, order), **options}
        return self._get(f"{PATH}/{response_id}/input_items", cast_to=InputItemList, params=query)


class AsyncResponses(AsyncAPIResource):
    @overload
    async def create(
        self,
        *,
        model: str,
        input: InputParam,
        stream: Literal[False] = False,
        **params: Unpack[ResponseParams],
    ) -> Response: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        input: InputParam,
        stream: Literal[True],
        **params: Unpack[ResponseParams],
    ) -> AsyncStream[ResponseStreamEvent]: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        input: InputParam,
        stream: bool,
        **params: Unpack[ResponseParams],
    ) -> Response | AsyncStream[ResponseStreamEvent]: ...

    async def create(
        self,
        *,
        model: str,
        input: InputParam,
        stream: bool = False,
        **params: Unpack[ResponseParams],
    ) -> Response | AsyncStream[ResponseStreamEvent]:
        """A model response; with ``stream=True`` an AsyncStream of its typed events."""
        body = _body(model, input, params)
        if stream:
            return await self._stream(PATH, chunk_type=ResponseStreamEvent, body=body)
        return await self._post(PATH, cast_to=Response, body=body)

    async def retrieve(self, response_id: str, **options: Unpack[RequestOptions]) -> Response:
        return await self._get(f"{PATH}/{response_id}", cast_to=Response, params=options)

    async def delete(self, response_id: str, **options: Unpack[RequestOptions]) -> ResponseDeleted:
        return await self._delete(f"{PATH}/{response_id}", cast_to=ResponseDeleted, options=options)

    async def input_items(
        self,
        response_id: str,
        *,
        limit: int | None = None,
        after: str | None = None,
        order: Literal["asc", "desc"] | None = None,
        **options: Unpack[RequestOptions],
    ) -> InputItemList:
        query: Mapping[str, Any] = {**_page(limit, after, order), **options}
        return await self._get(
            f"{PATH}/{response_id}/input_items", cast_to=InputItemList, params=query
        )

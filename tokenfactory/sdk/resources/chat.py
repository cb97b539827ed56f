"""``client.chat.completions``: ``create`` returns a ``ChatCompletion``, or with ``stream=True``
a ``Stream`` (``AsyncStream``) of ``ChatCompletionChunk``; the overloads tell a type checker
which."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, overload

from typing_extensions import Unpack

from .._resource import AsyncAPIResource, SyncAPIResource
from .._streaming import AsyncStream, Stream
from ..types import ChatCompletion, ChatCompletionChunk
from ._params import ChatParams, MessageParam

if TYPE_CHECKING:
    pass

PATH = "/chat/completions"


def _body(model: str, messages: Iterable[MessageParam], params: ChatParams) -> dict[str, Any]:
    return {"model": model, "messages": list(messages), **params}


class ChatCompletions(SyncAPIResource):
    @overload
    def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        stream: Literal[False] = False,
        **params: Unpack[ChatParams],
    ) -> ChatCompletion: ...

    @overload
    def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        stream: Literal[True],
        **params: Unpack[ChatParams],
    ) -> Stream[ChatCompletionChunk]: ...

    @overload
    def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        stream: bool,
        **params: Unpack[ChatParams],
    ) -> ChatCompletion | Stream[ChatCompletionChunk]: ...

    def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        stream: bool = False,
        **params: Unpack[ChatParams],
    ) -> ChatCompletion | Stream[ChatCompletionChunk]:
        """A chat completion; with ``stream=True`` a Stream of ChatCompletionChunk."""
        body = _body(model, messages, params)
        if stream:
            return self._stream(PATH, chunk_type=ChatCompletionChunk, body=body)
        return self._post(PATH, cast_to=ChatCompletion, body=body)


class AsyncChatCompletions(AsyncAPIResource):
    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        stream: Literal[False] = False,
        **params: Unpack[ChatParams],
    ) -> ChatCompletion: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        stream: Literal[True],
        **params: Unpack[ChatParams],
    ) -> AsyncStream[ChatCompletionChunk]: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        stream: bool,
        **params: Unpack[ChatParams],
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]: ...

    async def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        stream: bool = False,
        **params: Unpack[ChatParams],
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]:
        """A chat completion; with ``stream=True`` an AsyncStream of ChatCompletionChunk."""
        body = _body(model, messages, params)
        if stream:
            return await self._stream(PATH, chunk_type=ChatCompletionChunk, body=body)
        return await self._post(PATH, cast_to=ChatCompletion, body=body)


class Chat(SyncAPIResource):
    @cached_property
    def completions(self) -> ChatCompletions:
        return ChatCompletions(self._client)


class AsyncChat(AsyncAPIResource):
    @cached_property
    def completions(self) -> AsyncChatCompletions:
        return AsyncChatCompletions(self._client)

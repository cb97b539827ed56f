"""``client.completions``: the prompt-in, text-out endpoint. ``create`` returns a
``Completion``, or with ``stream=True`` a ``Stream`` (``AsyncStream``) of ``Completion`` chunks."""

from __future__ import annotations

from typing import Any, Literal, overload

from typing_extensions import Unpack

from .._resource import AsyncAPIResource, SyncAPIResource
from .._streaming import AsyncStream, Stream
from ..types import Completion
from ._params import CompletionParams

PATH = "/completions"


def _body(
    model: str, prompt: str | list[str] | list[int] | list[list[int]], params: CompletionParams
) -> dict[str, Any]:
    return {"model": model, "prompt": prompt, **params}


class Completions(SyncAPIResource):
    @overload
    def create(
        self,
        *,
        model: str,
        prompt: str | list[str] | list[int] | list[list[int]],
        stream: Literal[False] = False,
        **params: Unpack[CompletionParams],
    ) -> Completion: ...

    @overload
    def create(
        self,
        *,
        model: str,
        prompt: str | list[str] | list[int] | list[list[int]],
        stream: Literal[True],
        **params: Unpack[CompletionParams],
    ) -> Stream[Completion]: ...

    @overload
    def create(
        self,
        *,
        model: str,
        prompt: str | list[str] | list[int] | list[list[int]],
        stream: bool,
        **params: Unpack[CompletionParams],
    ) -> Completion | Stream[Completion]: ...

    def create(
        self,
        *,
        model: str,
        prompt: str | list[str] | list[int] | list[list[int]],
        stream: bool = False,
        **params: Unpack[CompletionParams],
    ) -> Completion | Stream[Completion]:
        """A text completion; with ``stream=True`` a Stream of Completion chunks."""
        body = _body(model, prompt, params)
        if stream:
            return self._stream(PATH, chunk_type=Completion, body=body)
        return self._post(PATH, cast_to=Completion, body=body)


class AsyncCompletions(AsyncAPIResource):
    @overload
    async def create(
        self,
        *,
        model: str,
        prompt: str | list[str] | list[int] | list[list[int]],
        stream: Literal[False] = False,
        **params: Unpack[CompletionParams],
    ) -> Completion: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        prompt: str | list[str] | list[int] | list[list[int]],
        stream: Literal[True],
        **params: Unpack[CompletionParams],
    ) -> AsyncStream[Completion]: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        prompt: str | list[str] | list[int] | list[list[int]],
        stream: bool,
        **params: Unpack[CompletionParams],
    ) -> Completion | AsyncStream[Completion]: ...

    async def create(
        self,
        *,
        model: str,
        prompt: str | list[str] | list[int] | list[list[int]],
        stream: bool = False,
        **params: Unpack[CompletionParams],
    ) -> Completion | AsyncStream[Completion]:
        """A text completion; with ``stream=True`` an AsyncStream of Completion chunks."""
        body = _body(model, prompt, params)
        if stream:
            return await self._stream(PATH, chunk_type=Completion, body=body)
        return await self._post(PATH, cast_to=Completion, body=body)

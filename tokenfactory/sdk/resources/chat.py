"""``client.chat.completions``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from typing_extensions import Unpack

from .._resource import Resource
from ..types import ChatCompletion, ChatCompletionChunk
from ._params import ChatParams, MessageParam


class ChatCompletions(Resource):
    def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        stream: bool = False,
        **params: Unpack[ChatParams],
    ) -> Any:
        """A chat completion; with ``stream=True`` a Stream of ChatCompletionChunk."""
        body = {"model": model, "messages": list(messages), **params}
        if stream:
            return self._stream("/chat/completions", body=body, chunk_type=ChatCompletionChunk)
        return self._post("/chat/completions", body=body, cast_to=ChatCompletion)


class Chat(Resource):
    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.completions = ChatCompletions(client)

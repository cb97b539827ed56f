"""What the SDK returns: the shared wire models, plus notebook conveniences.

Responses carry ``request_id`` (the gateway's ``x-request-id``) and ``latency_s`` (measured by
the SDK, retries included). Chat and text completions render as Markdown in Jupyter;
``EmbeddingResponse.to_numpy()`` gives an ``(n, dim)`` float32 array.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from pydantic import BaseModel, PrivateAttr

from tokenfactory import wire
from tokenfactory.wire import ChatCompletionChunk, Embedding, Model, Usage
from tokenfactory.wire.responses import FunctionToolCall, ResponseObject

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "ChatCompletion",
    "ChatCompletionChunk",
    "Completion",
    "Embedding",
    "EmbeddingResponse",
    "Model",
    "ModelList",
    "Response",
    "Usage",
]


class ResponseMeta(BaseModel):
    _request_id: str | None = PrivateAttr(default=None)
    _latency_s: float | None = PrivateAttr(default=None)

    @property
    def request_id(self) -> str | None:
        return self._request_id

    @property
    def latency_s(self) -> float | None:
        return self._latency_s

    def _set_response_meta(self, *, request_id: str | None, latency_s: float) -> None:
        self._request_id = request_id
        self._latency_s = latency_s

    def _footer(self, model: str, usage: Usage | None) -> str:
        parts = [f"`{model}`"]
        if usage is not None:
            parts.append(
                f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens"
            )
        if self._latency_s is not None:
            parts.append(f"{self._latency_s:.2f} s")
        return "<sub>" + " · ".join(parts) + "</sub>"


class ChatCompletion(ResponseMeta, wire.ChatCompletion):
    def _repr_markdown_(self) -> str:
        message = self.choices[0].message if self.choices else None
        body = (message.content or "") if message else ""
        for call in (message.tool_calls or []) if message else []:
            body += f"\n\n`{call.function.name}({call.function.arguments})`"
        return f"{body or '*(empty)*'}\n\n{self._footer(self.model, self.usage)}"


class Response(ResponseMeta, ResponseObject):
    """A Responses API response (``client.responses``); ``output_text`` joins its text."""

    def _repr_markdown_(self) -> str:
        body = self.output_text
        for item in self.output:
            if isinstance(item, FunctionToolCall):
                body += f"\n\n`{item.name}({item.arguments})`"
        parts = [f"`{self.model}`", self.status]
        if self.usage is not None:
            usage = self.usage
            parts.append(f"{usage.input_tokens} input + {usage.output_tokens} output tokens")
        if self.latency_s is not None:
            parts.append(f"{self.latency_s:.2f} s")
        return f"{body or '*(empty)*'}\n\n<sub>" + " · ".join(parts) + "</sub>"


class Completion(ResponseMeta, wire.Completion):
    def _repr_markdown_(self) -> str:
        text = self.choices[0].text if self.choices else ""
        return f"{text or '*(empty)*'}\n\n{self._footer(self.model, self.usage)}"


class EmbeddingResponse(ResponseMeta, wire.EmbeddingResponse):
    def to_numpy(self) -> np.ndarray:
        """The embeddings as an ``(n, dim)`` float32 array, in input order."""
        import numpy as np

        rows = [_vector(item.embedding) for item in sorted(self.data, key=lambda e: e.index)]
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack(rows)


def _vector(embedding: list[float] | str) -> np.ndarray:
    import numpy as np

    if isinstance(embedding, str):  # encoding_format="base64": little-endian float32
        return np.frombuffer(base64.b64decode(embedding), dtype="<f4").astype(np.float32)
    return np.asarray(embedding, dtype=np.float32)


class ModelList(ResponseMeta, wire.ModelList):
    def _repr_markdown_(self) -> str:
        lines = ["| id | modality | status |", "|---|---|---|"]
        lines += [f"| {m.id} | {m.modality or ''} | {m.status or ''} |" for m in self.data]
        return "\n".join(lines)

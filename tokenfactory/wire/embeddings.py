"""Embeddings."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictInt, field_validator

from .common import RequestModel, WireModel


class EmbeddingRequest(RequestModel):
    model: str = Field(min_length=1)
    #: text or texts; token ids (a list, or a list of lists, as OpenAI takes them) are refused
    #: with a 400 that says so: the embedding engines here embed text
    input: str | list[str] | list[StrictInt] | list[list[StrictInt]] = Field(min_length=1)
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: StrictInt | None = Field(default=None, ge=1)
    user: str | None = None

    @field_validator("input")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        if isinstance(value, list) and any(not isinstance(item, str) for item in value):
            raise ValueError(
                "input as token ids is not supported: the embedding models here take text,"
                " send the text (a string or a list of strings)"
            )
        return value

    def texts(self) -> list[str]:
        return [self.input] if isinstance(self.input, str) else [str(t) for t in self.input]


class Embedding(WireModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingUsage(WireModel):
    prompt_tokens: int = 0
    total_tokens: int = 0


class EmbeddingResponse(WireModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage

"""``POST /tokenize`` and ``POST /detokenize`` in vLLM's request and response shapes."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from .chat import ChatMessage
from .common import RequestModel, WireModel


class TokenizeRequest(RequestModel):
    """A ``prompt`` as text, or chat ``messages`` rendered with the model's chat template
    (exactly as a chat completion would be)."""

    model: str = Field(min_length=1)
    prompt: str | None = None
    messages: list[ChatMessage] | None = None
    add_special_tokens: bool | None = None  # default: True for a prompt, False for messages
    add_generation_prompt: bool = True
    return_token_strs: bool = False

    @model_validator(mode="after")
    def _one_input(self) -> TokenizeRequest:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give exactly one of 'prompt' or 'messages'")
        if self.messages is not None and not self.messages:
            raise ValueError("'messages' must not be empty")
        return self


class TokenizeResponse(WireModel):
    count: int
    max_model_len: int | None = None
    tokens: list[int]
    token_strs: list[str] | None = None


class DetokenizeRequest(RequestModel):
    model: str = Field(min_length=1)
    tokens: list[int] = Field(min_length=1)


class DetokenizeResponse(WireModel):
    prompt: str


class PriceEntry(WireModel):
    input: float  # USD per 1M input tokens
    output: float  # USD per 1M output tokens


class PriceList(WireModel):
    """``GET /v1/prices``: what a million tokens cost at each usage tier."""

    object: str = "prices"
    unit: str = "usd_per_million_tokens"
    data: dict[str, PriceEntry]
    model: str | None = None  # ``data`` is this model's price per tier
    models: dict[str, PriceEntry] = {}  # each priced model's own (real-time) price

    def as_table(self) -> dict[str, dict[str, Any]]:
        return {tier: p.model_dump() for tier, p in self.data.items()}

"""Text completions (the legacy prompt-in, text-out endpoint)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .common import SamplingFields, Usage, WireModel


class CompletionRequest(SamplingFields):
    model: str = Field(min_length=1)
    prompt: str | list[str] = Field(min_length=1)
    echo: bool = False


class CompletionChoice(WireModel):
    index: int = 0
    text: str
    finish_reason: str | None = None
    logprobs: Any = None


class Completion(WireModel):
    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage | None = None

"""Text completions (the legacy prompt-in, text-out endpoint)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, StrictInt

from .common import CompletionLogprobs, SamplingFields, Usage, WireModel


class CompletionRequest(SamplingFields):
    model: str = Field(min_length=1)
    prompt: str | list[str] = Field(min_length=1)
    echo: StrictBool = False
    logprobs: StrictInt | None = Field(default=None, ge=0, le=5)

    def logprob_alternatives(self) -> int | None:
        return self.logprobs


class CompletionChoice(WireModel):
    index: int = 0
    text: str
    finish_reason: str | None = None
    logprobs: CompletionLogprobs | None = None


class Completion(WireModel):
    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage | None = None
    service_tier: str | None = None

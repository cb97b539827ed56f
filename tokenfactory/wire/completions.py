"""Text completions (the legacy prompt-in, text-out endpoint)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, StrictInt, ValidationInfo, field_validator

from .common import MAX_CHOICES, CompletionLogprobs, SamplingFields, Usage, WireModel

#: A prompt: text, several texts, token ids, or several lists of token ids (as OpenAI takes it)
Prompt = str | list[str] | list[StrictInt] | list[list[StrictInt]]


class CompletionRequest(SamplingFields):
    model: str = Field(min_length=1)
    prompt: Prompt = Field(min_length=1)
    echo: StrictBool = False
    logprobs: StrictInt | None = Field(default=None, ge=0, le=5)
    #: text after the completion (fill-in-the-middle): a 400 where the model cannot do it
    suffix: str | None = None
    #: only equal to ``n`` (the best of more candidates than returned is not offered)
    best_of: StrictInt | None = Field(default=None, ge=1, le=MAX_CHOICES)

    @field_validator("prompt")
    @classmethod
    def _no_empty_prompt(cls, value: Prompt) -> Prompt:
        if isinstance(value, list) and any(isinstance(p, list) and not p for p in value):
            raise ValueError("a list of token ids must not be empty")
        return value

    @field_validator("best_of")
    @classmethod
    def _best_of_is_n(cls, value: int | None, info: ValidationInfo) -> int | None:
        n = info.data.get("n") or 1
        if value is not None and value != n:
            raise ValueError(
                f"best_of ({value}) must equal n ({n}): only the choices returned are generated"
            )
        return value

    def prompt_list(self) -> list[str | list[int]]:
        """Each prompt: a text or a list of token ids."""
        p = self.prompt
        if isinstance(p, str):
            return [p]
        if p and all(isinstance(t, int) for t in p):
            return [list(p)]  # type: ignore[arg-type]
        return list(p)  # type: ignore[arg-type]

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

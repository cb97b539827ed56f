"""Text completions (the legacy prompt-in, text-out endpoint)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from .common import MAX_CHOICES, CompletionLogprobs, SamplingFields, Usage, WireModel

#: A prompt: text, several texts, token ids, or several lists of token ids (as OpenAI takes it)
Prompt = str | list[str] | list[StrictInt] | list[list[StrictInt]]


class CompletionRequest(SamplingFields):
    #: 0 only with ``echo``: the prompt (and its logprobs) comes back, nothing is generated
    max_tokens: StrictInt | None = Field(default=None, ge=0, le=4096)
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

    @model_validator(mode="before")
    @classmethod
    def _zero_tokens_only_with_echo(cls, data: Any) -> Any:
        """``max_tokens`` below 1 is a 400 naming it, unless it is 0 with ``echo``."""
        if not isinstance(data, dict):
            return data
        asked = data.get("max_tokens")
        if type(asked) is int and asked < 1 and not (asked == 0 and data.get("echo") is True):
            message = "Input should be greater than or equal to 1 (0 only with 'echo': true)"
            error = InitErrorDetails(
                type=PydanticCustomError("greater_than_equal", message),
                loc=("max_tokens",),
                input=asked,
            )
            raise ValidationError.from_exception_data(cls.__name__, [error])
        return data

    @property
    def prompt_only(self) -> bool:
        """``echo`` with ``max_tokens: 0``: the prompt (and its logprobs), nothing generated."""
        return self.echo and self.asked_max_tokens == 0

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

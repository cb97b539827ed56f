"""Pieces shared by several wire models."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from ..config import DEFAULT_MAX_TOKENS

#: OpenAI's seed range: an unsigned 64-bit integer
MAX_SEED = 2**64 - 1
#: ``n``: how many choices one request may ask for
MAX_CHOICES = 16
#: ``logit_bias``: OpenAI's range of a bias, and how many tokens one request may bias
MAX_LOGIT_BIAS = 100.0
MAX_LOGIT_BIAS_ENTRIES = 1024
ServiceTier = Literal["auto", "default", "flex", "scale", "priority"]


def unsupported(field: str, why: str) -> PydanticCustomError:
    """The error of an OpenAI field this gateway refuses (a 400 naming the field)."""
    return PydanticCustomError(
        "unsupported_parameter", "'{field}' is not supported: {why}", {"field": field, "why": why}
    )


class WireModel(BaseModel):
    """Responses: attribute access, ``model_dump()``, unknown fields kept."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())


class RequestModel(BaseModel):
    """Requests: unknown OpenAI fields are accepted and ignored, not an error."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())


class Usage(WireModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class StreamOptions(RequestModel):
    include_usage: StrictBool = False


class SamplingFields(RequestModel):
    """The sampling parameters chat and completions share, with the API's ranges and JSON types
    (a bool or a string is not a number; an integer is a float): every bound an engine needs is
    here, so a request valid on the wire is valid on every engine."""

    max_tokens: StrictInt | None = Field(default=None, ge=1, le=4096)
    max_completion_tokens: StrictInt | None = Field(default=None, ge=1, le=4096)
    temperature: StrictFloat | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    presence_penalty: StrictFloat | None = Field(default=None, ge=-2.0, le=2.0)
    frequency_penalty: StrictFloat | None = Field(default=None, ge=-2.0, le=2.0)
    stop: str | list[str] | None = None
    seed: StrictInt | None = Field(default=None, ge=0, le=MAX_SEED)
    n: StrictInt | None = Field(default=None, ge=1, le=MAX_CHOICES)
    #: token id (as a string, JSON's object keys) -> bias added to its logit before sampling
    logit_bias: dict[str, StrictInt | StrictFloat] | None = None
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    user: str | None = None
    service_tier: ServiceTier | None = None  # echoed; every request is served the same way
    # vLLM's sampling extensions, as vLLM's OpenAI server accepts them in the body
    top_k: StrictInt | None = Field(default=None, ge=-1)  # 0 or -1: no limit
    min_p: StrictFloat | None = Field(default=None, ge=0.0, le=1.0)
    repetition_penalty: StrictFloat | None = Field(default=None, gt=0.0, le=100.0)
    min_tokens: StrictInt | None = Field(default=None, ge=0, le=4096)
    ignore_eos: StrictBool | None = None

    @field_validator("logit_bias")
    @classmethod
    def _bias_keys_are_token_ids(
        cls, value: dict[str, int | float] | None
    ) -> dict[str, int | float] | None:
        if value is None:
            return None
        if len(value) > MAX_LOGIT_BIAS_ENTRIES:
            raise ValueError(f"at most {MAX_LOGIT_BIAS_ENTRIES} tokens may be biased")
        for key, bias in value.items():
            if not (key.isascii() and key.isdigit()):
                raise ValueError(f"keys are token ids (non-negative integers), got {key!r}")
            if not -MAX_LOGIT_BIAS <= bias <= MAX_LOGIT_BIAS:
                raise ValueError(f"the bias of token {key} is {bias}, outside [-100, 100]")
        return value

    @field_validator("min_tokens")
    @classmethod
    def _min_tokens_within_max(cls, value: int | None, info: ValidationInfo) -> int | None:
        asked = info.data.get("max_completion_tokens")
        asked = info.data.get("max_tokens") if asked is None else asked
        if value is not None and asked is not None and value > asked:
            raise ValueError(f"min_tokens ({value}) must not exceed max_tokens ({asked})")
        return value

    @property
    def choices_wanted(self) -> int:
        """How many choices each prompt answers with (``n``, default 1)."""
        return self.n or 1

    def token_biases(self) -> dict[int, float]:
        return {int(k): float(v) for k, v in (self.logit_bias or {}).items()}

    @property
    def asked_max_tokens(self) -> int | None:
        """The output limit the request named (``max_completion_tokens`` wins), if any."""
        return self.max_completion_tokens or self.max_tokens

    @property
    def output_limit(self) -> int:
        """The output tokens it may generate: what it asked, else the API default."""
        asked = self.asked_max_tokens
        return DEFAULT_MAX_TOKENS if asked is None else asked

    @property
    def echoed_service_tier(self) -> str:
        """The ``service_tier`` a response carries: the one asked for, ``default`` when it
        asked none or ``auto`` (as OpenAI answers)."""
        return "default" if self.service_tier in (None, "auto") else self.service_tier

    def stop_list(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)


class TopLogprob(WireModel):
    token: str
    logprob: float
    bytes: list[int] | None = None


class TokenLogprobEntry(TopLogprob):
    top_logprobs: list[TopLogprob] = []


class ChoiceLogprobs(WireModel):
    """``choices[].logprobs`` of chat: one entry per generated token."""

    content: list[TokenLogprobEntry] | None = None


class CompletionLogprobs(WireModel):
    """``choices[].logprobs`` of text completions (the legacy shape)."""

    tokens: list[str] = []
    #: None for an echoed prompt's first token (nothing before it to predict it from)
    token_logprobs: list[float | None] = []
    top_logprobs: list[dict[str, float] | None] | None = None
    text_offset: list[int] = []

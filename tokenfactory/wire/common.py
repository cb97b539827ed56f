"""Pieces shared by several wire models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt

from ..config import DEFAULT_MAX_TOKENS

#: OpenAI's seed range: an unsigned 64-bit integer
MAX_SEED = 2**64 - 1


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
    n: StrictInt | None = Field(default=None, ge=1, le=1)
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    user: str | None = None

    @property
    def asked_max_tokens(self) -> int | None:
        """The output limit the request named (``max_completion_tokens`` wins), if any."""
        return self.max_completion_tokens or self.max_tokens

    @property
    def output_limit(self) -> int:
        """The output tokens it may generate: what it asked, else the API default."""
        return self.asked_max_tokens or DEFAULT_MAX_TOKENS

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
    token_logprobs: list[float] = []
    top_logprobs: list[dict[str, float]] | None = None
    text_offset: list[int] = []

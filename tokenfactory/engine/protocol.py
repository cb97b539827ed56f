"""The contract between the gateway's services and an inference engine.

The services above the engine do chat templating, detokenisation, stop strings, tool-call
parsing and usage; an engine only turns prompt token ids into generated token ids (and texts
into vectors). Every engine behaves the same because everything else is built once above it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from ..config import DEFAULT_MAX_TOKENS

FinishReason = Literal["stop", "length", "abort"]
Modality = Literal["chat", "embedding"]
ModelStatus = Literal["available", "loading", "loaded", "failed", "downloading"]

#: Lower runs first. Interactive traffic is 0; batch jobs use BATCH_1H / BATCH_24H.
PRIORITY_INTERACTIVE = 0
PRIORITY_BATCH_1H = 10
PRIORITY_BATCH_24H = 20


@dataclass(frozen=True)
class SamplingParams:
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = 0.7
    top_p: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    seed: int | None = None
    top_k: int = 0  # 0: no limit
    min_p: float = 0.0
    repetition_penalty: float = 1.0  # 1: none; on prompt and output tokens, as HF and vLLM
    min_tokens: int = 0  # end-of-sequence tokens are masked until this many were generated
    ignore_eos: bool = False  # an end-of-sequence token does not end the generation
    #: (token id, bias added to its logit), token ids checked against the vocabulary above
    logit_bias: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class StructuredSpec:
    """A decoding constraint, validated above the engine. Exactly one of the fields is set."""

    json_schema: dict[str, Any] | None = None  # a JSON Schema document, parsed
    json_object: bool = False  # any single JSON object
    regex: str | None = None
    ebnf: str | None = None  # GBNF/EBNF grammar (xgrammar and vLLM both accept it)


@dataclass(frozen=True)
class TokenLogprob:
    """The log-probability of one generated token, and of the most likely alternatives."""

    token_id: int
    logprob: float
    top: tuple[tuple[int, float], ...] = ()  # (token id, logprob), most likely first


@dataclass
class GenerationRequest:
    request_id: str
    model: str
    prompt_token_ids: list[int]
    sampling: SamplingParams = field(default_factory=SamplingParams)
    structured: StructuredSpec | None = None
    adapter: str | None = None  # name of a loaded LoRA adapter, None for the base model
    priority: int = PRIORITY_INTERACTIVE
    #: None: no logprobs. N >= 0: each output token's logprob plus its N most likely alternatives.
    logprobs: int | None = None
    #: None: none. N >= 0: each prompt token's logprob given the tokens before it, plus its N
    #: most likely alternatives (an engine that can declares ``supports_prompt_logprobs``).
    prompt_logprobs: int | None = None


@dataclass
class GenerationOutput:
    """One step of a generation: the new token ids since the previous output.

    The final output has ``finished=True`` and a ``finish_reason``: ``stop`` (end of sequence
    or a structured-output grammar that completed), ``length`` (``max_tokens`` or the context
    ran out; also when a grammar had not completed), or ``abort``.
    """

    token_ids: list[int]
    finished: bool = False
    finish_reason: FinishReason | None = None
    num_prompt_tokens: int = 0
    #: One entry per ``token_ids`` entry when the request asked for logprobs, else None.
    logprobs: list[TokenLogprob] | None = None
    #: On the first output when the request asked for ``prompt_logprobs``: one entry per
    #: prompt token, the first None (nothing comes before it to predict it from).
    prompt_logprobs: list[TokenLogprob | None] | None = None


@dataclass
class EmbeddingResult:
    vectors: list[list[float]]
    num_tokens: int


@dataclass
class ModelInfo:
    id: str
    modality: Modality
    status: ModelStatus
    engine: str
    context_length: int | None = None
    size_bytes: int | None = None
    path: str | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class EngineHealth:
    ready: bool
    engine: str
    device: str
    models: list[ModelInfo]
    requests_running: int = 0
    requests_waiting: int = 0
    adapters: list[str] = field(default_factory=list)
    detail: str | None = None


@runtime_checkable
class Engine(Protocol):
    """What every engine provides. Errors are raised as ``tokenfactory.errors`` types."""

    name: str

    async def start(self) -> None:
        """Load the configured models. Returns once they are ready."""

    def generate(self, request: GenerationRequest) -> AsyncIterator[GenerationOutput]:
        """Stream the generation. Closing the iterator early aborts the request."""

    async def abort(self, request_id: str) -> None: ...

    async def embed(self, model: str, texts: list[str]) -> EmbeddingResult: ...

    def tokenizer(self, model: str) -> Any:
        """The Hugging Face tokenizer of a loaded model (for templating and counting)."""

    def models(self) -> list[ModelInfo]: ...

    async def load_model(self, model: str) -> ModelInfo: ...

    async def unload_model(self, model: str) -> None: ...

    async def load_adapter(self, name: str, path: str, base_model: str) -> None: ...

    async def unload_adapter(self, name: str) -> None: ...

    def adapters(self) -> dict[str, str]:
        """Loaded adapters: name -> base model id."""

    def health(self) -> EngineHealth: ...

    async def sleep(self) -> None:
        """Free accelerator memory (weights stay known); generation waits until wake()."""

    async def wake(self) -> None: ...

    async def shutdown(self) -> None:
        """Stop serving and release memory, so another engine can start in this process."""

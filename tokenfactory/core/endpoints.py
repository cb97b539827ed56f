"""The endpoint table: the one place an inference operation is spelled.

Each :class:`Endpoint` says what its path takes and answers (the wire models), which
inference service runs it, the usage tier of an interactive call, the modality of the model
it needs and its path below an OpenAI-compatible upstream's ``/v1``. Routes, the metering
middleware, batch validation and execution (local and Ray), remote models and the model
checks read it; nothing else writes ``"/v1/chat/completions"``.

A service registers itself for its endpoint (``Core.serve``) and a door asks for it by the
endpoint (``Core.service``): ``core.service(CHAT)`` is typed
``InferenceDoor[ChatCompletionRequest, ChatCompletion]``, so a batch line's call into its
service is typed from the line's body to the answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from ..engine.protocol import Modality
from ..wire.chat import ChatCompletion, ChatCompletionRequest
from ..wire.common import SamplingFields
from ..wire.completions import Completion, CompletionRequest
from ..wire.embeddings import EmbeddingRequest, EmbeddingResponse
from ..wire.responses import ResponseCreateRequest, ResponseObject

if TYPE_CHECKING:
    from .records import Call
    from .run import Run

Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp", bound=BaseModel)
Req_contra = TypeVar("Req_contra", bound=BaseModel, contravariant=True)


@dataclass(frozen=True)
class Endpoint(Generic[Req, Resp]):
    path: str  # ours, e.g. /v1/chat/completions
    request: type[Req]
    response: type[Resp]
    service: str  # the inference service that runs it
    tier: str  # the usage tier of an interactive (not batch) call
    modality: Modality  # what the model it names must be
    upstream_path: str  # below an upstream's /v1 base URL

    def __str__(self) -> str:
        return self.path


CHAT = Endpoint(
    "/v1/chat/completions",
    ChatCompletionRequest,
    ChatCompletion,
    "chat",
    "realtime",
    "chat",
    "/chat/completions",
)
COMPLETIONS = Endpoint(
    "/v1/completions",
    CompletionRequest,
    Completion,
    "completions",
    "realtime",
    "chat",
    "/completions",
)
EMBEDDINGS = Endpoint(
    "/v1/embeddings",
    EmbeddingRequest,
    EmbeddingResponse,
    "embeddings",
    "embeddings",
    "embedding",
    "/embeddings",
)
RESPONSES = Endpoint(
    "/v1/responses",
    ResponseCreateRequest,
    ResponseObject,
    "responses",
    "realtime",
    "chat",
    "/responses",
)

#: Every inference endpoint by its path.
ENDPOINTS: dict[str, Endpoint[Any, Any]] = {
    e.path: e for e in (CHAT, COMPLETIONS, EMBEDDINGS, RESPONSES)
}


def endpoint_of(request: BaseModel) -> Endpoint[Any, Any]:
    """The endpoint whose request model ``request`` is (a service may run another's request:
    the Responses API runs a chat request)."""
    found = next((e for e in ENDPOINTS.values() if type(request) is e.request), None)
    if found is None:
        raise TypeError(f"no endpoint takes a {type(request).__name__}")
    return found


def endpoint_for_modality(modality: str) -> Endpoint[Any, Any]:
    """The endpoint a model of this modality serves (the hint in a wrong-modality error)."""
    return EMBEDDINGS if modality == "embedding" else CHAT


#: Tokens a chat template may add beyond the request's own JSON, where no tokenizer can say (a
#: remote model): a default system prompt and the instructions some templates put around tools
#: (Qwen's, Llama 3's: under 200 tokens). Each message's own markers are covered by the bytes of
#: its ``{"role": ..., "content": ...}``.
TEMPLATE_TOKENS = 512
#: what a tokenizer adds to each text it is given (BOS/EOS, [CLS]/[SEP])
SPECIAL_TOKENS_PER_TEXT = 2


def upper_bound_tokens(request: BaseModel) -> int:
    """The most tokens a request may spend, with no tokenizer at hand (a remote model's, or a
    batch line's when its model cannot prepare it now), for admission and wallet checks.

    Never fewer than a byte-level tokenizer counts: each token covers at least one byte of UTF-8
    (a byte-level BPE's, and a SentencePiece's with byte fallback), so the UTF-8 bytes of the
    request's JSON (every message, tool and schema, with the keys and quotes around them) bound
    its text's tokens; on top come the template's own (:data:`TEMPLATE_TOKENS`), each text's
    special tokens, and the output it may generate: ``max_tokens`` (or the API default, which a
    remote request is sent with) for each choice of each prompt. Counting characters (``// 3``)
    undercounts Chinese text and emoji (one character, up to four tokens).
    """
    text_bytes = len(
        json.dumps(request.model_dump(mode="json", exclude_none=True), ensure_ascii=False).encode()
    )
    output = 0
    texts = 1
    template = 0
    if isinstance(request, CompletionRequest):
        texts = len(request.prompt_list())
        output = request.output_limit * request.choices_wanted * texts
    elif isinstance(request, SamplingFields):  # chat
        template = TEMPLATE_TOKENS
        output = request.output_limit * request.choices_wanted
    elif isinstance(request, ResponseCreateRequest):
        template = TEMPLATE_TOKENS
        output = request.output_limit
    elif isinstance(request, EmbeddingRequest):
        texts = len(request.texts())
    return text_bytes + template + SPECIAL_TOKENS_PER_TEXT * texts + output


class InferenceDoor(Protocol[Req_contra, Resp]):
    """What an inference service offers every door: validate and admit a request, then hand
    back its metered run. (A remote model's run answers the upstream's JSON as it came.)"""

    async def start(self, req: Req_contra, call: Call) -> Run[Resp, Any]: ...

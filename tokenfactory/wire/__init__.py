"""Pydantic models of the /v1 wire format, shared by the gateway and the SDK.

Never imports torch, transformers or vllm.
"""

from .chat import (
    ChatChoice,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatMessage,
    ChoiceDelta,
    ChunkChoice,
    FunctionCall,
    ResponseFormat,
    ResponseMessage,
    Tool,
    ToolCall,
    ToolCallDelta,
    ToolCallDeltaFunction,
)
from .common import Usage
from .completions import Completion, CompletionChoice, CompletionRequest
from .embeddings import Embedding, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage
from .errors import ErrorDetail, ErrorResponse
from .models import Model, ModelList

__all__ = [
    "ChatChoice",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "ChatMessage",
    "ChoiceDelta",
    "ChunkChoice",
    "Completion",
    "CompletionChoice",
    "CompletionRequest",
    "Embedding",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "EmbeddingUsage",
    "ErrorDetail",
    "ErrorResponse",
    "FunctionCall",
    "Model",
    "ModelList",
    "ResponseFormat",
    "ResponseMessage",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallDeltaFunction",
    "Usage",
]

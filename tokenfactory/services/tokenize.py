"""Tokenize and detokenize with a served model's own tokenizer, exactly as generation does:
``messages`` go through the same chat template (and the same template inputs) as a chat
completion, so ``count`` is the ``prompt_tokens`` that request would be billed for."""

from __future__ import annotations

from typing import Any

from ..core import Core
from ..errors import InvalidRequestError
from ..store import Principal
from ..wire.chat import ChatCompletionRequest
from ..wire.tokenize import (
    DetokenizeRequest,
    DetokenizeResponse,
    TokenizeRequest,
    TokenizeResponse,
)
from .tool_render import has_native_tools, template_input
from .tools import ToolPlan


class TokenizeService:
    def __init__(self, core: Core) -> None:
        self.core = core

    def _tokenizer(self, model: str, principal: Principal) -> tuple[Any, int | None]:
        target = self.core.resolve_model(model, "chat", principal)
        tokenizer = target.engine.tokenizer(target.model)
        info = next((m for m in target.engine.models() if m.id == target.model), None)
        return tokenizer, info.context_length if info else None

    def tokenize(self, req: TokenizeRequest, principal: Principal) -> TokenizeResponse:
        tokenizer, context = self._tokenizer(req.model, principal)
        if req.messages is not None:
            chat = ChatCompletionRequest(model=req.model, messages=req.messages)
            native = has_native_tools(tokenizer)
            messages, kwargs = template_input(chat, ToolPlan("none"), native)
            ids = list(
                tokenizer.apply_chat_template(
                    messages,
                    add_generation_prompt=req.add_generation_prompt,
                    tokenize=True,
                    return_dict=False,
                    **kwargs,
                )
            )
            if req.add_special_tokens:
                bos = getattr(tokenizer, "bos_token_id", None)
                if bos is not None and (not ids or ids[0] != bos):
                    ids = [bos, *ids]
        else:
            special = True if req.add_special_tokens is None else req.add_special_tokens
            ids = list(tokenizer.encode(req.prompt or "", add_special_tokens=special))
        strs = None
        if req.return_token_strs:
            strs = [tokenizer.decode([t], skip_special_tokens=False) for t in ids]
        return TokenizeResponse(count=len(ids), max_model_len=context, tokens=ids, token_strs=strs)

    def detokenize(self, req: DetokenizeRequest, principal: Principal) -> DetokenizeResponse:
        tokenizer, _ = self._tokenizer(req.model, principal)
        vocab = _vocab_size(tokenizer)
        bad = [t for t in req.tokens if t < 0 or (vocab is not None and t >= vocab)]
        if bad:
            raise InvalidRequestError(
                f"Token ids {bad[:5]} are outside the vocabulary of '{req.model}' (0..{vocab})",
                param="tokens",
                code="invalid_token_id",
            )
        return DetokenizeResponse(prompt=tokenizer.decode(list(req.tokens)))


def _vocab_size(tokenizer: Any) -> int | None:
    try:
        return len(tokenizer)
    except TypeError:
        return getattr(tokenizer, "vocab_size", None)

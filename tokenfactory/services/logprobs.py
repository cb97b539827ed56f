"""Logprobs: ask the engine for them and shape what it returns, for chat and for completions.

A request that asks for logprobs on an engine that cannot give them is a 400, never ignored.
"""

from __future__ import annotations

import math
from typing import Any

from ..engine.protocol import TokenLogprob
from ..errors import InvalidRequestError
from ..wire.chat import ChatCompletionRequest
from ..wire.common import ChoiceLogprobs, CompletionLogprobs, TokenLogprobEntry, TopLogprob
from ..wire.completions import CompletionRequest

#: What JSON can carry for a token the model (or a grammar mask) ruled out: -inf is not JSON.
LOGPROB_FLOOR = -9999.0


def requested(req: Any, engine: Any) -> int | None:
    """None (no logprobs) or how many alternatives per token the engine is asked for."""
    if isinstance(req, ChatCompletionRequest) and req.top_logprobs is not None and not req.logprobs:
        raise InvalidRequestError(
            "'top_logprobs' needs 'logprobs': true", param="top_logprobs", code="invalid_parameter"
        )
    alternatives = req.logprob_alternatives()
    if alternatives is not None and not getattr(engine, "supports_logprobs", False):
        raise InvalidRequestError(
            f"'logprobs' is not supported by the {engine.name} engine",
            param="logprobs",
            code="unsupported_parameter",
        )
    return alternatives


def prompt_requested(req: CompletionRequest, engine: Any, alternatives: int | None) -> int | None:
    """With ``echo`` and ``logprobs``, the prompt's own logprobs (as OpenAI's legacy
    completions return them): None or how many alternatives per prompt token."""
    if not req.echo or alternatives is None:
        return None
    if not getattr(engine, "supports_prompt_logprobs", False):
        raise InvalidRequestError(
            f"'echo' with 'logprobs' (the prompt's logprobs) is not supported by the"
            f" {engine.name} engine",
            param="echo",
            code="unsupported_parameter",
        )
    return alternatives


def _finite(value: float) -> float:
    return value if math.isfinite(value) else LOGPROB_FLOOR


class LogprobFormatter:
    """Token texts come from the tokenizer; special tokens (end of sequence) are not shown."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.special = set(getattr(tokenizer, "all_special_ids", None) or [])
        self._texts: dict[int, str] = {}

    def text(self, token_id: int) -> str:
        if token_id not in self._texts:
            self._texts[token_id] = self.tokenizer.decode([token_id], skip_special_tokens=False)
        return self._texts[token_id]

    def visible(self, entries: list[TokenLogprob]) -> list[TokenLogprob]:
        return [e for e in entries if e.token_id not in self.special]

    def _top(self, token_id: int, logprob: float) -> TopLogprob:
        text = self.text(token_id)
        return TopLogprob(token=text, logprob=_finite(logprob), bytes=list(text.encode()))

    def chat(self, entries: list[TokenLogprob]) -> ChoiceLogprobs:
        content = []
        for e in self.visible(entries):
            top = self._top(e.token_id, e.logprob)
            alternatives = [self._top(t, lp) for t, lp in e.top]
            content.append(TokenLogprobEntry(**top.model_dump(), top_logprobs=alternatives))
        return ChoiceLogprobs(content=content)

    def completion(
        self, entries: list[TokenLogprob], offset: int, alternatives: int
    ) -> CompletionLogprobs:
        out = CompletionLogprobs(top_logprobs=[] if alternatives > 0 else None)
        for e in self.visible(entries):
            text = self.text(e.token_id)
            out.tokens.append(text)
            out.token_logprobs.append(_finite(e.logprob))
            out.text_offset.append(offset)
            offset += len(text)
            if out.top_logprobs is not None:
                out.top_logprobs.append({self.text(t): _finite(lp) for t, lp in e.top})
        return out

    def prompt(
        self, token_ids: list[int], entries: list[TokenLogprob | None], alternatives: int
    ) -> CompletionLogprobs:
        """An echoed prompt's logprobs, ``text_offset`` from 0. Every prompt token has its
        entry (special ones too, so positions line up with the token ids); the first token's
        logprob and alternatives are None: nothing comes before it."""
        out = CompletionLogprobs(top_logprobs=[] if alternatives > 0 else None)
        offset = 0
        for token_id, e in zip(token_ids, entries, strict=True):
            text = self.text(token_id)
            out.tokens.append(text)
            out.text_offset.append(offset)
            offset += len(text)
            out.token_logprobs.append(None if e is None else _finite(e.logprob))
            if out.top_logprobs is not None:
                top = None if e is None else {self.text(t): _finite(lp) for t, lp in e.top}
                out.top_logprobs.append(top)
        return out


def joined(first: CompletionLogprobs, second: CompletionLogprobs) -> CompletionLogprobs:
    """One choice's logprobs: the echoed prompt's, then the completion's."""
    tops = None
    if first.top_logprobs is not None or second.top_logprobs is not None:
        tops = [*(first.top_logprobs or []), *(second.top_logprobs or [])]
    return CompletionLogprobs(
        tokens=first.tokens + second.tokens,
        token_logprobs=first.token_logprobs + second.token_logprobs,
        top_logprobs=tops,
        text_offset=first.text_offset + second.text_offset,
    )

"""Constrained decoding with xgrammar: a compiled grammar per model, a matcher per request.

Each decode step the scheduler asks every constrained row for its allowed-token bitmask, masks
the logits, samples, and feeds the chosen token back. A row whose grammar has completed ends
with ``finish_reason="stop"``; one that hits ``max_tokens`` first ends with ``"length"`` (its
output is not valid, and is never reported as if it were).
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from ...errors import UnsupportedSchemaError
from ..protocol import StructuredSpec


class GrammarCompiler:
    """Compiles :class:`StructuredSpec` constraints for one tokenizer (cached by xgrammar)."""

    def __init__(self, tokenizer: Any, vocab_size: int) -> None:
        import xgrammar as xgr

        self._xgr = xgr
        self.vocab_size = vocab_size
        info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size)
        self._compiler = xgr.GrammarCompiler(info, max_threads=1)
        self._lock = threading.Lock()

    def compile(self, spec: StructuredSpec) -> Any:
        """Raises :class:`UnsupportedSchemaError` for a spec xgrammar cannot enforce (a
        capability, not input validation), so the request fails before it starts."""
        with self._lock:
            try:
                if spec.json_schema is not None:  # a parsed, validated schema (see the services)
                    return self._compiler.compile_json_schema(
                        json.dumps(spec.json_schema), any_whitespace=False
                    )
                if spec.json_object:
                    return self._compiler.compile_json_schema(
                        '{"type": "object"}', any_whitespace=False, strict_mode=False
                    )
                if spec.regex is not None:
                    return self._compiler.compile_regex(spec.regex)
                if spec.ebnf is not None:
                    return self._compiler.compile_grammar(spec.ebnf)
            except (RuntimeError, ValueError) as exc:
                kind = "JSON schema" if spec.json_schema is not None else "constraint"
                raise UnsupportedSchemaError(
                    f"The {kind} cannot be enforced: {_first_line(exc)}",
                    param="response_format",
                ) from exc
        raise AssertionError(f"an empty structured-output constraint: {spec}")

    def constraint(self, spec: StructuredSpec) -> Constraint:
        return Constraint(self._xgr, self.compile(spec), self.vocab_size)


class Constraint:
    """The grammar state of one request."""

    def __init__(self, xgr: Any, compiled: Any, vocab_size: int) -> None:
        self._xgr = xgr
        self.matcher = xgr.GrammarMatcher(compiled)
        self.vocab_size = vocab_size

    def fill_bitmask(self, bitmask: Any, row: int) -> None:
        self.matcher.fill_next_token_bitmask(bitmask, row)

    def accept(self, token_id: int) -> bool:
        return self.matcher.accept_token(token_id)

    @property
    def completed(self) -> bool:
        return self.matcher.is_terminated()


def allocate_bitmask(batch_size: int, vocab_size: int) -> Any:
    import xgrammar as xgr

    return xgr.allocate_token_bitmask(batch_size, vocab_size)


def apply_bitmask(logits: Any, bitmask: Any, rows: list[int], vocab_size: int) -> None:
    import xgrammar as xgr

    xgr.apply_token_bitmask_inplace(logits, bitmask, vocab_size=vocab_size, indices=rows)


def _first_line(exc: Exception) -> str:
    """xgrammar's message without its ``[time] file.cc:line:`` prefix."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return re.sub(r"^\[[\d:]+\]\s+\S+:\d+:\s*", "", line)

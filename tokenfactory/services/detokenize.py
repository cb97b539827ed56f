"""Incremental detokenisation: text deltas from a growing list of token ids.

Decoding token by token breaks multi-byte characters and word-joining spaces; this decodes a
small window and only releases text once it no longer ends in an incomplete character.
"""

from __future__ import annotations

from typing import Any


class IncrementalDetokenizer:
    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.ids: list[int] = []
        self._prefix_offset = 0
        self._read_offset = 0

    def push(self, token_ids: list[int]) -> str:
        self.ids.extend(token_ids)
        decode = self.tokenizer.decode
        prefix = decode(self.ids[self._prefix_offset : self._read_offset], skip_special_tokens=True)
        full = decode(self.ids[self._prefix_offset :], skip_special_tokens=True)
        if len(full) > len(prefix) and not full.endswith("\ufffd"):
            delta = full[len(prefix) :]
            self._prefix_offset = self._read_offset
            self._read_offset = len(self.ids)
            return delta
        return ""

    def flush(self) -> str:
        """Whatever is still held back at the end (a dangling partial character)."""
        prefix = self.tokenizer.decode(
            self.ids[self._prefix_offset : self._read_offset], skip_special_tokens=True
        )
        full = self.tokenizer.decode(self.ids[self._prefix_offset :], skip_special_tokens=True)
        self._read_offset = len(self.ids)
        return full[len(prefix) :] if len(full) > len(prefix) else ""

"""SSE ``data:`` events for streamed wire models, encoded as cheaply as the stream allows."""

from __future__ import annotations

import json

from pydantic import BaseModel

#: Stands in for the text of a content delta while a stream's chunk template is encoded.
_SLOT = "tf-sse-text-slot-3f9c1e"


def event(chunk: BaseModel) -> bytes:
    """One ``data:`` event for a wire model (fields that are None are left out)."""
    return b"data: " + chunk.model_dump_json(exclude_none=True).encode() + b"\n\n"


class TextEvents:
    """``data:`` events of one stream that differ only in one text field.

    The template (a chunk whose text is :data:`TextEvents.SLOT`) is encoded once; each delta
    then costs one ``json.dumps`` of its text instead of building and dumping pydantic models.
    """

    SLOT = _SLOT

    def __init__(self, template: BaseModel) -> None:
        encoded = template.model_dump_json(exclude_none=True)
        head, slot, tail = encoded.partition(json.dumps(_SLOT))
        if not slot:
            raise ValueError("the template chunk does not carry TextEvents.SLOT")
        self._head = b"data: " + head.encode()
        self._tail = tail.encode() + b"\n\n"

    def __call__(self, text: str) -> bytes:
        return self._head + json.dumps(text, ensure_ascii=False).encode() + self._tail

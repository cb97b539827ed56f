"""Input limits every engine enforces the same way (the conformance suite pins them)."""

from __future__ import annotations

from ..errors import InvalidRequestError


def check_embedding_inputs(model_id: str, token_ids: list[list[int]], limit: int) -> None:
    """An embedding input longer than the model accepts is a 400 naming ``input``, never
    silently truncated: a truncated text's vector would stand for words it never saw."""
    for i, row in enumerate(token_ids):
        if len(row) > limit:
            raise InvalidRequestError(
                f"input[{i}] has {len(row)} tokens; model '{model_id}' accepts at most"
                f" {limit} tokens per input",
                code="context_length_exceeded",
                param="input",
            )

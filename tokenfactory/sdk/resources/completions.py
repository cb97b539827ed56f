"""``client.completions``: the prompt-in, text-out endpoint."""

from __future__ import annotations

from typing import Any

from typing_extensions import Unpack

from .._resource import Resource
from ..types import Completion
from ._params import CompletionParams


class Completions(Resource):
    def create(
        self,
        *,
        model: str,
        prompt: str | list[str],
        stream: bool = False,
        **params: Unpack[CompletionParams],
    ) -> Any:
        """A text completion; with ``stream=True`` a Stream of Completion chunks."""
        body = {"model": model, "prompt": prompt, **params}
        if stream:
            return self._stream("/completions", body=body, chunk_type=Completion)
        return self._post("/completions", body=body, cast_to=Completion)

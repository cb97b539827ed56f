"""Text embeddings: tokenize, sort by length, run in padded batches, pool, normalise.

Sorting by length keeps padding small (the batch is as long as its longest text); the vectors
come back in the caller's order. Work is split into batches so the engine thread can run
decode steps between them: :meth:`Embedder.batches` yields after each batch.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from ...errors import InvalidRequestError
from ..input_limits import check_embedding_inputs
from .loader import LoadedEmbeddingModel

BATCH_SIZE = 64


class Embedder:
    def __init__(self, loaded: LoadedEmbeddingModel, model_id: str) -> None:
        self.loaded = loaded
        self.model_id = model_id

    @property
    def dimensions(self) -> int:
        return self.loaded.dimensions

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        """Token ids per text; raises for an empty text or one past the model's limit."""
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise InvalidRequestError(
                    f"input[{i}] is empty; every input must be a non-empty string", param="input"
                )
        ids = self.loaded.tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
        check_embedding_inputs(self.model_id, ids, self.loaded.max_tokens)
        return ids

    def batches(
        self, token_ids: list[list[int]], out: list[list[float]], batch_size: int = BATCH_SIZE
    ) -> Iterator[None]:
        """Embed into ``out`` (in input order), yielding after each batch."""
        order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
        out[:] = [[] for _ in token_ids]
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            vectors = self._embed_batch([token_ids[i] for i in chunk])
            for i, vector in zip(chunk, vectors, strict=True):
                out[i] = vector
            yield

    @torch.inference_mode()
    def _embed_batch(self, rows: list[list[int]]) -> list[list[float]]:
        loaded = self.loaded
        pad = loaded.tokenizer.pad_token_id or 0
        width = max(len(r) for r in rows)
        input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            input_ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
        input_ids, mask = input_ids.to(loaded.device), mask.to(loaded.device)
        hidden = loaded.model(input_ids=input_ids, attention_mask=mask).last_hidden_state.float()
        if loaded.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
        if loaded.normalize:
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=-1)
        return pooled.cpu().tolist()

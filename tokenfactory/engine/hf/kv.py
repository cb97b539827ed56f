"""The running batch's key/value cache: rows join (merge), leave (select) and the shared
left padding is trimmed.

Rows are left-padded to a common length; the 2-D attention mask marks real tokens, and each
row carries its own position ids, so rows of different lengths decode together. The cache is a
transformers ``DynamicCache`` whose per-layer tensors are ``[batch, kv_heads, time, head_dim]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class BatchCache:
    cache: object  # transformers DynamicCache
    mask: torch.Tensor  # [batch, time] long, 1 = real token

    @property
    def size(self) -> int:
        return self.mask.shape[0]

    @property
    def length(self) -> int:
        return self.mask.shape[1]

    def layers(self) -> list:
        return list(self.cache.layers)


def left_pad(prompts: list[list[int]], pad_id: int, device: str) -> tuple[torch.Tensor, ...]:
    """input ids, attention mask and position ids for a left-padded prefill batch."""
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, prompt in enumerate(prompts):
        ids[i, width - len(prompt) :] = torch.tensor(prompt, dtype=torch.long)
        mask[i, width - len(prompt) :] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return ids.to(device), mask.to(device), positions.to(device)


def _pad_time(t: torch.Tensor, extra: int) -> torch.Tensor:
    if extra == 0:
        return t
    # pad the time axis (dim -2 for k/v, dim -1 for the mask) on the left with zeros
    return F.pad(t, (0, 0, extra, 0)) if t.dim() == 4 else F.pad(t, (extra, 0))


def merge(running: BatchCache | None, joining: BatchCache) -> BatchCache:
    """Append ``joining``'s rows below ``running``'s, left-padding the shorter one."""
    if running is None or running.size == 0:
        return joining
    width = max(running.length, joining.length)
    pad_a, pad_b = width - running.length, width - joining.length
    for a, b in zip(running.layers(), joining.layers(), strict=True):
        a.keys = torch.cat([_pad_time(a.keys, pad_a), _pad_time(b.keys, pad_b)], dim=0)
        a.values = torch.cat([_pad_time(a.values, pad_a), _pad_time(b.values, pad_b)], dim=0)
    mask = torch.cat([_pad_time(running.mask, pad_a), _pad_time(joining.mask, pad_b)], dim=0)
    return BatchCache(running.cache, mask)


def select(batch: BatchCache, keep: list[int]) -> BatchCache | None:
    """Keep only the rows ``keep`` (in that order); trim columns that are padding in all."""
    if not keep:
        return None
    mask = batch.mask
    if len(keep) != batch.size:
        index = torch.tensor(keep, dtype=torch.long, device=mask.device)
        mask = mask.index_select(0, index)
        for layer in batch.layers():
            layer.keys = layer.keys.index_select(0, index)
            layer.values = layer.values.index_select(0, index)
    used = mask.any(dim=0).nonzero()
    start = int(used[0]) if len(used) else 0
    if start > 0:
        mask = mask[:, start:]
        for layer in batch.layers():
            layer.keys = layer.keys[:, :, start:].contiguous()
            layer.values = layer.values[:, :, start:].contiguous()
    return BatchCache(batch.cache, mask)


def extend_mask(batch: BatchCache) -> torch.Tensor:
    """The attention mask for one more decode step (every row adds one real token)."""
    ones = torch.ones((batch.size, 1), dtype=batch.mask.dtype, device=batch.mask.device)
    return torch.cat([batch.mask, ones], dim=1)

"""The running batch's key/value cache: rows join (merge), leave (select) and the shared
left padding is trimmed.

Rows are left-padded to a common length; the 2-D attention mask marks real tokens, and each
row carries its own position ids, so rows of different lengths decode together. The cache is a
transformers ``DynamicCache`` whose per-layer tensors are ``[batch, kv_heads, time, head_dim]``,
kept in :class:`GrowingLayer` buffers so that a decode step writes one column in place instead
of copying the whole cache (``DynamicLayer`` concatenates on every step).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from transformers.cache_utils import CacheLayerMixin, DynamicCache, DynamicLayer


class GrowingLayer(DynamicLayer):
    """A ``DynamicLayer`` whose keys/values are views into buffers with spare time columns."""

    SPARE = 64

    def __init__(self) -> None:
        self._k: torch.Tensor | None = None
        self._v: torch.Tensor | None = None
        self._k_len = self._v_len = 0
        super().__init__()

    @property
    def keys(self) -> torch.Tensor | None:
        return _used(self._k, self._k_len)

    @keys.setter
    def keys(self, tensor: torch.Tensor | None) -> None:
        self._k, self._k_len = tensor, _time_len(tensor)

    @property
    def values(self) -> torch.Tensor | None:
        return _used(self._v, self._v_len)

    @values.setter
    def values(self, tensor: torch.Tensor | None) -> None:
        self._v, self._v_len = tensor, _time_len(tensor)

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        n, new = self._k_len, key_states.shape[-2]
        k, v = self._k, self._v
        if k is None or v is None or k.dim() != 4 or k.shape[-2] < n + new:
            capacity = n + new + max(self.SPARE, (n + new) // 4)
            k = self._k = _regrow(k, key_states, n, capacity)
            v = self._v = _regrow(v, value_states, n, capacity)
        k[:, :, n : n + new] = key_states
        v[:, :, n : n + new] = value_states
        self._k_len = self._v_len = n + new
        return k[:, :, : n + new], v[:, :, : n + new]


def _time_len(tensor: torch.Tensor | None) -> int:
    return tensor.shape[-2] if tensor is not None and tensor.dim() == 4 else 0


def _used(buffer: torch.Tensor | None, length: int) -> torch.Tensor | None:
    if buffer is None or buffer.dim() != 4:
        return buffer
    return buffer[:, :, :length]


def _regrow(old: torch.Tensor | None, like: torch.Tensor, used: int, capacity: int) -> torch.Tensor:
    batch, heads, _, dim = like.shape
    buffer = like.new_empty((batch, heads, capacity, dim))
    if used and old is not None:
        buffer[:, :, :used] = old[:, :, :used]
    return buffer


def new_cache() -> DynamicCache:
    """An empty ``DynamicCache`` that creates :class:`GrowingLayer` layers."""
    cache = DynamicCache()
    cache.layer_class_to_replicate = GrowingLayer
    return cache


def cache_argument(model: Any) -> str:
    """The name the model's ``forward`` takes the KV cache under: ``cache`` in the transformers
    versions that renamed it (they warn on ``past_key_values``), ``past_key_values`` before."""
    parameters = inspect.signature(model.forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"


@dataclass
class BatchCache:
    cache: DynamicCache
    mask: torch.Tensor  # [batch, time] long, 1 = real token

    @property
    def size(self) -> int:
        return self.mask.shape[0]

    @property
    def length(self) -> int:
        return self.mask.shape[1]

    def layers(self) -> list[CacheLayerMixin]:
        found: list[CacheLayerMixin] = []
        for layer in self.cache.layers:
            if not isinstance(layer, CacheLayerMixin):
                raise TypeError(f"{type(layer).__name__}: only key/value cache layers can batch")
            found.append(layer)
        return found


def _kv(layer: CacheLayerMixin) -> tuple[torch.Tensor, torch.Tensor]:
    """A filled layer's keys and values (every layer of a batch has run a prefill)."""
    if layer.keys is None or layer.values is None:
        raise RuntimeError("a cache layer of the running batch holds no keys/values")
    return layer.keys, layer.values


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
        (a_keys, a_values), (b_keys, b_values) = _kv(a), _kv(b)
        a.keys = torch.cat([_pad_time(a_keys, pad_a), _pad_time(b_keys, pad_b)], dim=0)
        a.values = torch.cat([_pad_time(a_values, pad_a), _pad_time(b_values, pad_b)], dim=0)
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
            keys, values = _kv(layer)
            layer.keys = keys.index_select(0, index)
            layer.values = values.index_select(0, index)
    used = mask.any(dim=0).nonzero()
    start = int(used[0]) if len(used) else 0
    if start > 0:
        mask = mask[:, start:]
        for layer in batch.layers():
            keys, values = _kv(layer)
            layer.keys = keys[:, :, start:].contiguous()
            layer.values = values[:, :, start:].contiguous()
    return BatchCache(batch.cache, mask)


def extend_mask(batch: BatchCache) -> torch.Tensor:
    """The attention mask for one more decode step (every row adds one real token)."""
    ones = torch.ones((batch.size, 1), dtype=batch.mask.dtype, device=batch.mask.device)
    return torch.cat([batch.mask, ones], dim=1)

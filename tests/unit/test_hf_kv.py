"""Merging, selecting and trimming the running batch's KV cache (no model)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from tokenfactory.engine.hf.kv import BatchCache, extend_mask, left_pad, merge, select  # noqa: E402


def cache_of(rows: list[list[int]], mask_rows: list[list[int]], layers: int = 2) -> BatchCache:
    """A cache whose key at (row, time) holds the token value, to follow rows around."""
    keys = torch.tensor(rows, dtype=torch.float32)[:, None, :, None].repeat(1, 1, 1, 2)
    data = [(keys.clone(), -keys.clone()) for _ in range(layers)]
    return BatchCache(transformers.DynamicCache(data), torch.tensor(mask_rows))


def tokens(batch: BatchCache, layer: int = 0) -> list[list[int]]:
    return batch.cache.layers[layer].keys[:, 0, :, 0].long().tolist()


def test_left_pad_aligns_prompts_to_the_right_with_positions_from_zero():
    ids, mask, positions = left_pad([[5, 6, 7], [8]], pad_id=0, device="cpu")
    assert ids.tolist() == [[5, 6, 7], [0, 0, 8]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    assert positions.tolist() == [[0, 1, 2], [0, 0, 0]]


def test_merge_left_pads_the_shorter_batch():
    running = cache_of([[1, 2, 3]], [[1, 1, 1]])
    joining = cache_of([[7], [8]], [[1], [1]])
    merged = merge(running, joining)
    assert tokens(merged) == [[1, 2, 3], [0, 0, 7], [0, 0, 8]]
    assert merged.mask.tolist() == [[1, 1, 1], [0, 0, 1], [0, 0, 1]]
    assert merged.cache.layers[1].values[:, 0, :, 0].long().tolist()[2] == [0, 0, -8]

    longer = merge(cache_of([[4]], [[1]]), cache_of([[5, 6]], [[1, 1]]))
    assert tokens(longer) == [[0, 4], [5, 6]]
    assert longer.mask.tolist() == [[0, 1], [1, 1]]


def test_select_keeps_rows_in_order_and_trims_shared_padding():
    batch = cache_of([[1, 2, 3], [0, 0, 7], [0, 5, 6]], [[1, 1, 1], [0, 0, 1], [0, 1, 1]])
    kept = select(batch, [2, 1])
    assert tokens(kept) == [[5, 6], [0, 7]]
    assert kept.mask.tolist() == [[1, 1], [0, 1]]
    assert select(batch, []) is None


def test_extend_mask_adds_one_real_column():
    batch = cache_of([[0, 1]], [[0, 1]])
    assert extend_mask(batch).tolist() == [[0, 1, 1]]


def kv(rows: list[list[float]]) -> torch.Tensor:
    """``[batch, 1 head, time, 2]`` with each row's values along time."""
    return torch.tensor(rows)[:, None, :, None].repeat(1, 1, 1, 2)


def test_growing_layer_appends_in_place_and_survives_merge_and_select():
    from tokenfactory.engine.hf.kv import GrowingLayer, new_cache

    cache = new_cache()
    keys, values = cache.update(kv([[0, 1, 2], [3, 4, 5]]), -kv([[0, 1, 2], [3, 4, 5]]), 0)
    assert values[:, 0, :, 0].tolist() == [[0, -1, -2], [-3, -4, -5]]
    layer = cache.layers[0]
    assert isinstance(layer, GrowingLayer)
    buffer = layer._k
    keys, _ = cache.update(kv([[9], [8]]), kv([[0], [0]]), 0)
    assert layer._k is buffer  # written into spare room, not copied
    assert keys[:, 0, :, 0].tolist() == [[0, 1, 2, 9], [3, 4, 5, 8]]
    assert cache.get_seq_length() == 4

    batch = BatchCache(cache, torch.ones(2, 4, dtype=torch.long))
    joined = merge(batch, cache_of([[7]], [[1]], layers=1))
    assert tokens(joined) == [[0, 1, 2, 9], [3, 4, 5, 8], [0, 0, 0, 7]]
    kept = select(joined, [2])
    assert tokens(kept) == [[7]] and kept.mask.tolist() == [[1]]
    keys, _ = cache.update(kv([[6]]), kv([[0]]), 0)
    assert keys[:, 0, :, 0].tolist() == [[7, 6]]

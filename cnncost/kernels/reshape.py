"""Ops that only move or select data: flatten, channel shuffle, chunk, split, and the inference no-ops."""
from __future__ import annotations

import numpy as np

from .base import on_first


def _channel_shuffle(x: np.ndarray, attrs: dict) -> np.ndarray:
    """ShuffleNet's shuffle: channels as (groups, C/groups), transposed, flattened back."""
    n, c, *spatial = x.shape
    g = attrs["groups"]
    return x.reshape(n, g, c // g, *spatial).swapaxes(1, 2).reshape(x.shape)


def _chunk(x: np.ndarray, attrs: dict) -> np.ndarray:
    """torch.chunk along channels: pieces of ceil(C / chunks), the last one shorter (or absent)."""
    c = x.shape[1]
    size = -(-c // attrs["chunks"])
    start = attrs["index"] * size
    if start >= c:
        raise ValueError(f"torch.chunk of {c} channels into {attrs['chunks']} has no piece {attrs['index']}")
    return x[:, start : start + size]


def _split(x: np.ndarray, attrs: dict) -> np.ndarray:
    sizes, index = attrs["sizes"], attrs["index"]
    if sum(sizes) != x.shape[1]:
        raise ValueError(f"split sizes {tuple(sizes)} do not add up to {x.shape[1]} channels")
    start = sum(sizes[:index])
    return x[:, start : start + sizes[index]]


KERNELS = {
    "flatten": on_first(lambda x, attrs: x.reshape(x.shape[0], -1)),
    "channel_shuffle": on_first(_channel_shuffle),
    "chunk": on_first(_chunk),
    "split": on_first(_split),
    "dropout": on_first(lambda x, attrs: x),
    "identity": on_first(lambda x, attrs: x),
}

"""Ops that only move or select data: flatten, permute, reshape, channel shuffle, chunk, split, the inference no-ops."""
from __future__ import annotations

import numpy as np

from .base import array_axis, on_first


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


def _permute(x: np.ndarray, attrs: dict) -> np.ndarray:
    """torch.permute with the batch axis left in front; copied, so the next op reads contiguous memory."""
    per_sample = x.ndim - 1
    return np.ascontiguousarray(x.transpose(0, *(array_axis(a % per_sample) for a in attrs["axes"])))


KERNELS = {
    "flatten": on_first(lambda x, attrs: x.reshape(x.shape[0], -1)),
    "permute": on_first(_permute),
    "reshape": on_first(lambda x, attrs: x.reshape(x.shape[0], *attrs["shape"])),
    "channel_shuffle": on_first(_channel_shuffle),
    "chunk": on_first(_chunk),
    "split": on_first(_split),
    "dropout": on_first(lambda x, attrs: x),
    "identity": on_first(lambda x, attrs: x),
}

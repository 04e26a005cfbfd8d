"""pad as torch.nn.functional.pad and crop as a slice; spatial axes only, per-axis (before, after) in spec order."""
from __future__ import annotations

import numpy as np

from .base import Kernel

# torch's pad modes in numpy's words: reflect mirrors without repeating the edge in both.
_NUMPY_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _per_axis(value, axes: int, pairs: bool = False):
    single = isinstance(value[0], int) if pairs else not isinstance(value, tuple)
    return [value] * axes if single else list(value)


def _pad(x: np.ndarray, attrs: dict) -> np.ndarray:
    pads = [(0, 0), (0, 0), *_per_axis(attrs["padding"], x.ndim - 2, pairs=True)]
    mode = attrs["mode"]
    if mode == "constant":
        return np.pad(x, pads, mode="constant", constant_values=np.float32(attrs["value"]))
    return np.pad(x, pads, mode=_NUMPY_MODE[mode])


def _crop(attrs: dict, inputs: list, params: dict, buffers: dict, counter) -> np.ndarray:
    x = inputs[0]
    spatial = x.shape[2:]
    target = inputs[1].shape[2:] if attrs["like"] else _per_axis(attrs["size"], len(spatial))
    if attrs["offset"] is None:
        offsets = [(n - t) // 2 for n, t in zip(spatial, target)]
    else:
        offsets = _per_axis(attrs["offset"], len(spatial))
    if any(t > n or o + t > n for n, t, o in zip(spatial, target, offsets)):
        raise ValueError(f"crop of {tuple(target)} at {tuple(offsets)} runs past an input of {tuple(spatial)}")
    return np.ascontiguousarray(x[(..., *(slice(o, o + t) for o, t in zip(offsets, target)))])


KERNELS = {
    "pad": Kernel(run=lambda attrs, inputs, params, buffers, counter: _pad(inputs[0], attrs)),
    "crop": Kernel(run=_crop),
}

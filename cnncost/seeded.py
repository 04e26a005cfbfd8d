"""The random input and weights of a run: verify computes with them and export writes them, so one seed gives
the same arrays in numpy, in an exported ONNX file and in onnxruntime. Each layer's weights come from its own
generator, keyed by its name, so they do not depend on the order layers are drawn in."""
from __future__ import annotations

import zlib


def layer_rng(seed: int, name: str):
    import numpy as np

    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def input_array(seed: int, batch: int, shape: tuple):
    import numpy as np

    return np.random.default_rng([seed, 0]).standard_normal((batch, *shape), dtype=np.float32)


def layer_weights(node, input_shapes: list, seed: int):
    """(params, buffers) of one layer, float32, for inputs of these shapes (batch first)."""
    from cnncost.kernels import init_weights

    return init_weights(node.op, node.attrs, input_shapes, layer_rng(seed, node.name))

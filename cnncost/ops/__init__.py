"""The op registry: every op name the spec format knows, defined once."""
from __future__ import annotations

from cnncost.ops.base import Op

OPS: dict[str, Op] = {}


def register(*ops: Op) -> None:
    for op in ops:
        assert op.name not in OPS, op.name
        OPS[op.name] = op


from cnncost.ops import activation, border, conv, linear, merge, norm, pool, reshape, resample  # noqa: E402,F401  (they register)

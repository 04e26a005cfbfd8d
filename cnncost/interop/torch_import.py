"""`cnncost import package.module:factory`: not built yet (issue #12 item 1, the torch.fx route).

Until it is, the honest answer is a clean error pointing at the ONNX route, which works for any PyTorch model.
"""
from __future__ import annotations

from cnncost.errors import CnnCostError


def import_torch(source: str, input_text: str | None, args: tuple) -> str:
    raise CnnCostError(
        f"importing a PyTorch factory ({source!r}) directly is not available yet",
        None,
        "export the model with torch.onnx.export(model, example_input, 'model.onnx') and run "
        "`cnncost import model.onnx -o spec.yaml`",
    )

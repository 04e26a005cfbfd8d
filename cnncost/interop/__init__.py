"""Bridges to other formats and engines: ONNX export and import, PyTorch import, onnxruntime. Each imports its
optional package lazily, so commands that do not need it never load it."""

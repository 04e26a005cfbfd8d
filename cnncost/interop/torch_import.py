"""`cnncost import package.module:factory --input CxHxW`: a PyTorch module as a readable cnncost spec.

The factory is imported and called (keyword arguments from `--arg key=value`, values read as YAML scalars), the
module is put in eval mode and traced with torch.fx, and the traced graph is run once on a zero input of batch 1:
that run gives every tensor's shape and the value of everything that does not depend on the input's values
(sizes, shapes, parameters), which is folded into the layers' settings. What remains is translated node by node
by cnncost.interop.torch_ops. A node with no translation stops the import with a list of every such operation,
its node names and counts: never a partial spec.
"""
from __future__ import annotations

import importlib
import os
import sys

from cnncost.errors import CnnCostError
from cnncost.interop.spec_text import sanitised, spec_text


def require_torch():
    try:
        import torch
        import torch.fx  # noqa: F401
    except ImportError:
        raise CnnCostError("importing a PyTorch factory needs torch", None, "pip install 'cnncost[torch]'") from None
    return torch


def import_torch(source: str, input_text: str | None, args: tuple) -> str:
    """The spec text for the module that `source` (package.module:factory) builds with keyword arguments `args`."""
    from cnncost.spec import parse_shape

    if input_text is None:
        raise CnnCostError("importing a PyTorch factory needs --input CxHxW, the input size to trace at", None,
                           "e.g. --input 3x224x224")
    shape = parse_shape(input_text, None, "--input")
    kwargs = factory_kwargs(args)
    module_name, _, attribute = source.partition(":")
    if not module_name or not attribute:
        raise CnnCostError(f"cannot read {source!r} as a PyTorch factory", None,
                           "write package.module:factory, e.g. torchvision.models:resnet18, or give an .onnx file")
    torch = require_torch()
    factory = _factory(module_name, attribute, source)
    try:
        model = factory(**kwargs)
    except Exception as exc:  # the factory's own validation: TypeError for an unknown keyword, ValueError, …
        raise CnnCostError(f"{source}({_call_text(kwargs)}) failed: {type(exc).__name__}: {_first_line(exc)}", None,
                           "check the --arg values against the factory's signature") from None
    if not isinstance(model, torch.nn.Module):
        raise CnnCostError(f"{source}({_call_text(kwargs)}) returned a {type(model).__name__}, not a torch.nn.Module", None)
    from cnncost.interop.torch_ops import translate_graph

    model.eval()
    traced = _trace(torch, model, source)
    layers, outputs, labels = translate_graph(traced, shape, source)
    header = [f"Imported by cnncost from {source}({_call_text(kwargs)}), traced with torch.fx (torch {torch.__version__}) "
              f"at input {'x'.join(map(str, shape))}.",
              "One layer per operation, named by module path; sizes and shapes computed in forward() were folded."]
    name = sanitised(attribute.rsplit(".", 1)[-1], "imported")
    return spec_text(header, name, "input", shape, layers, outputs, lambda layer: labels[layer.name], source)


def factory_kwargs(args) -> dict:
    """`--arg key=value` pairs; each value is read as YAML (10 → int, 0.5 → float, true → bool, [1, 2] → list)."""
    import yaml

    kwargs = {}
    for text in args:
        key, equals, value = text.partition("=")
        if not equals or not key.isidentifier():
            raise CnnCostError(f"cannot read --arg {text!r}", None, "write --arg key=value, e.g. --arg num_classes=10")
        try:
            kwargs[key] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise CnnCostError(f"cannot read the value of --arg {text!r} as YAML: {_first_line(exc)}", None) from None
    return kwargs


def _factory(module_name: str, attribute: str, source: str):
    # The cnncost script, unlike `python -m`, does not put the working directory on sys.path: a model file next
    # to the user is what they mean.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ModuleNotFoundError, or whatever the module raises while it loads
        raise CnnCostError(f"cannot import module {module_name!r} for {source!r}: {type(exc).__name__}: {_first_line(exc)}",
                           None, "is the package installed, or the file in the current directory?") from None
    target = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise CnnCostError(f"module {module_name!r} has no {attribute!r}", None,
                               f"name a function or class of {module_name}, e.g. {module_name}:{_example(module)}")
        target = getattr(target, part)
    if not callable(target):
        raise CnnCostError(f"{source!r} is a {type(target).__name__}, not a callable that builds a model", None)
    return target


def _trace(torch, model, source: str):
    from cnncost.interop.torch_ops import Tracer

    try:
        graph = Tracer().trace(model)
    except Exception as exc:  # torch.fx's TraceError, or what forward() raises on a Proxy
        raise CnnCostError(f"torch.fx cannot trace {source}: {type(exc).__name__}: {_first_line(exc)}", None,
                           "forward() branches on tensor values; export the model with torch.onnx.export and "
                           "import the .onnx file instead") from None
    return torch.fx.GraphModule(model, graph)


def _example(module) -> str:
    names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
    return names[0] if names else "factory"


def _call_text(kwargs: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def _first_line(exc) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]


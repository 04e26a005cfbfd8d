"""The text of an imported spec, shared by the ONNX and the PyTorch importer: one flow-style line per layer with
only the keys that differ from the op's defaults, `inputs:` only where a layer does not read the one before it,
and names made from the source's own (module paths, node names), sanitised and made unique."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from cnncost.errors import CnnCostError, Location


@dataclass
class Layer:
    op: str
    name: str  # the importer's key for the tensor this layer writes (an ONNX tensor name, a torch.fx node)
    inputs: list  # keys of the tensors it reads
    attrs: dict = field(default_factory=dict)


def unsupported_error(what: str, names_by_type: dict, path: str) -> CnnCostError:
    """Every operation type with no translation, its node names (the first five) and counts, in one error."""
    listing = "; ".join(f"{kind} ×{len(names)} ({', '.join(names[:5])}{', …' if len(names) > 5 else ''})"
                        for kind, names in sorted(names_by_type.items()))
    return CnnCostError(f"unsupported {what}: {listing}", Location(path),
                        "cnncost has no op for these yet; `cnncost ops` lists what it can describe")


def sanitised(text: str, fallback: str) -> str:
    """A spec layer name from any text: runs of other characters become one underscore."""
    return re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_") or fallback


def spec_text(header: list, name: str, input_key, input_shape: tuple, layers: list, outputs: list, label, path: str) -> str:
    """`label(layer)` is the readable name wanted for a layer; repeats get _2, _3 … in graph order."""
    from cnncost.ops import OPS

    names, used = {input_key: "input"}, {"input", "in"}
    for layer in layers:
        base = label(layer)
        unique, n = base, 1
        while unique in used:
            n += 1
            unique = f"{base}_{n}"
        used.add(unique)
        names[layer.name] = unique
    lines = [*(f"# {line}" for line in header), f"name: {_yaml_text(name)}",
             f"input: {'x'.join(str(d) for d in input_shape)}", "layers:"]
    previous = input_key
    for layer in layers:
        settings = {"name": names[layer.name]}
        inputs = [names.get(key) for key in layer.inputs]
        if None in inputs:
            raise CnnCostError(f"tensor {layer.inputs[inputs.index(None)]!r} comes from no supported layer", Location(path))
        if inputs != [names[previous]]:
            settings["inputs"] = inputs[0] if len(inputs) == 1 else inputs
        keys = {key.name: key for key in OPS[layer.op].keys}
        order = list(keys)
        for key_name, value in sorted(layer.attrs.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)):
            key = keys.get(key_name)
            if key is not None and key.type in ("ints", "padding") and isinstance(value, list) and value and len(set(value)) == 1:
                value = value[0]  # one number means the same on every axis
            if key is None or key.default != value:
                settings[key_name] = value
        lines.append(f"  - {layer.op}: {{{', '.join(f'{k}: {_yaml_value(v)}' for k, v in settings.items())}}}")
        previous = layer.name
    written = [names[key] for key in outputs]
    if written != [names[layers[-1].name]]:
        lines.append(f"outputs: [{', '.join(written)}]" if len(written) > 1 else f"output: {written[0]}")
    return "\n".join(lines) + "\n"


def _yaml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(float(f"{value:.7g}"))  # ONNX stores float32: 1e-05, not 9.999999747378752e-06
        mantissa, e, exponent = text.partition("e")
        return f"{mantissa}.0e{exponent}" if e and "." not in mantissa else text  # YAML 1.1 reads 1e-05 as text
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return _yaml_text(value)
    if value is None:
        return "null"
    return str(int(value)) if hasattr(value, "__index__") else str(value)


def _yaml_text(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", text) and text not in ("true", "false", "null", "yes", "no", "on", "off") else repr(text)

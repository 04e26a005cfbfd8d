"""The spec format as JSON Schema (draft 2020-12), generated from the op registry and the spec's key lists.

For editors (completion, hover docs, red squiggles) and other validators. cnncost's own loader stays the
authority: a schema cannot know block names, so `- myblock: {...}` is accepted with any arguments, and
cross-references (inputs, shapes) are checked only by `cnncost check`.
"""
from __future__ import annotations

from cnncost.budget import METRICS
from cnncost.ops import OPS
from cnncost.ops.base import REQUIRED
from cnncost.spec import REQUIRED_TOP, TOP_KEYS, _SHAPE
from cnncost.spec.expand import BLOCK_KEYS, LAYER_KEYS
from cnncost.units import BYTE_SUFFIXES, COUNT_SUFFIXES, DURATION_SUFFIXES

# The schema uses only keywords that draft 7 has too, and its $refs are plain JSON pointers, so it can
# declare draft 7 for editors whose validators stop there (the YAML language server, for one).
DRAFTS = {"2020-12": "https://json-schema.org/draft/2020-12/schema", "7": "http://json-schema.org/draft-07/schema#"}
EXPRESSION = {"$ref": "#/$defs/expression"}
TEXT = {"type": "string"}


def spec_schema(draft: str = "2020-12") -> dict:
    reference = {
        "type": "object",
        "description": "published numbers the spec is tested against",
        "properties": {
            "params": _amount("count", "published parameter count"),
            "macs": _amount("count", "published multiply-adds, e.g. 4.089G"),
            "top1": {"type": "number", "description": "published top-1 accuracy, %"},
            "top5": {"type": "number", "description": "published top-5 accuracy, %"},
            "source": {**TEXT, "description": "where the numbers come from"},
            "args": {"type": "object", "description": "the spec's args these numbers are for (default: any)"},
        },
    }
    top = {
        "name": {**TEXT, "description": "model name shown in reports"},
        "description": {**TEXT, "description": "one-line description"},
        "source": {**TEXT, "description": "citation of the architecture"},
        "input": {
            "description": "input shape per sample: C, C×L, C×H×W or C×D×H×W, e.g. 3x224x224",
            "anyOf": [
                {"type": "string", "pattern": _SHAPE.pattern},
                {"type": "string", "pattern": r"\$", "description": "computed from the spec's args, e.g. 3x${res}x${res}"},
                {"type": "integer", "minimum": 1},
                {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1, "maxItems": 4},
            ],
        },
        "layers": {"$ref": "#/$defs/layers"},
        "blocks": {"type": "object", "description": "reusable blocks, used like ops", "additionalProperties": {"$ref": "#/$defs/block"}},
        "output": {**TEXT, "description": "name of the output layer (default: the last layer)"},
        "outputs": {
            "type": "array",
            "items": TEXT,
            "minItems": 1,
            "uniqueItems": True,
            "description": "several outputs, the main one first (instead of `output`); layers reaching none are unused",
        },
        "reference": reference,
        "references": {
            "type": "array",
            "items": reference,
            "description": "published numbers for other members of the family, each with the `args` it applies to",
        },
        "args": {
            "type": "object",
            "description": "the spec's arguments and defaults (null = required), set with --set NAME=VALUE; "
            "usable as $name in every value",
        },
        "imports": {
            "type": "array",
            "items": TEXT,
            "description": "spec files (relative to this one) or bundled names whose blocks are usable as `stem.block`",
        },
        "functions": {
            "type": "object",
            "description": "`name(a, b): expression`, callable from any expression; functions cannot recurse",
            "additionalProperties": {"type": ["string", "number"]},
        },
        "budget": {
            "type": "object",
            "description": "limits for `cnncost check`; `layer_*` limits apply to every single layer",
            "properties": {key: _amount(unit, f"limit on {key}") for key, unit in METRICS.items()},
            "additionalProperties": False,
        },
    }
    return {
        "$schema": DRAFTS[draft],
        "title": "cnncost spec",
        "description": "A convolutional network for cnncost: its input, layers and reusable blocks.",
        "type": "object",
        "required": list(REQUIRED_TOP),
        "properties": {key: top[key] for key in TOP_KEYS},
        "additionalProperties": False,
        "$defs": {
            "layers": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/layer"}},
            "layer": {
                "description": "an op or block name (`- relu`), or one op or block with its settings (`- conv2d: {out: 64, kernel: 3}`)",
                "anyOf": [
                    {"enum": list(OPS)},
                    {"type": "string", "description": "a block defined under `blocks:`"},
                    {
                        "type": "object",
                        "minProperties": 1,
                        "maxProperties": 1,
                        "properties": {name: {"$ref": f"#/$defs/op.{name}"} for name in OPS},
                        "additionalProperties": {"$ref": "#/$defs/block_call"},
                    },
                ],
            },
            "block": {
                "type": "object",
                "required": ["layers"],
                "properties": {key: _block_key(key) for key in BLOCK_KEYS},
                "additionalProperties": False,
            },
            "block_call": {
                "type": ["object", "null"],
                "description": "a block's arguments, plus the keys every layer accepts",
                "properties": _layer_keys(),
            },
            "expression": {
                "type": "string",
                "pattern": r"\$",
                "description": "`$arg` or `${expression}`, computed when the block is expanded",
            },
            **{f"op.{name}": _op(op) for name, op in OPS.items()},
        },
    }


def _op(op) -> dict:
    required = [key.name for key in op.keys if key.required]
    return {
        "type": "object" if required else ["object", "null"],
        "description": op.doc,
        "properties": {**_layer_keys(), **{key.name: _key(key, op.spatial) for key in op.keys}},
        **({"required": required} if required else {}),
        "additionalProperties": False,
    }


def _key(key, spatial) -> dict:
    """One op key: its type's schema, or an expression; with its doc and default for hover text."""
    integer = {"type": "integer"}
    at_least = lambda low: {"type": "integer", "minimum": low}  # noqa: E731
    per_axis = lambda low: {  # noqa: E731
        "anyOf": [at_least(low), {"type": "array", "items": at_least(low), "minItems": spatial or 1, "maxItems": spatial or 1}]
    }
    number = {"type": "number", "exclusiveMinimum": 0}
    any_rank = lambda item: {"anyOf": [item, {"type": "array", "items": item, "minItems": spatial or 1, "maxItems": spatial or 3}]}  # noqa: E731
    pair = {"type": "array", "items": at_least(0), "minItems": 2, "maxItems": 2}
    by_type = {
        "int": lambda: at_least(1),
        "counts": lambda: any_rank(at_least(0)),
        "sizes": lambda: any_rank(at_least(1)),
        "scale": lambda: any_rank(number),
        "pairs": lambda: any_rank({"anyOf": [at_least(0), pair]}),
        "layer": lambda: {"type": "string", "description": "a layer name"},
        "count": lambda: at_least(0),
        "axis": lambda: integer,
        "ints": lambda: per_axis(0 if key.name == "padding" else 1),
        "padding": lambda: {"anyOf": [*per_axis(0)["anyOf"], {"enum": ["same", "valid"]}]},
        "bool": lambda: {"type": "boolean"},
        "float": lambda: {"type": "number"},
        "fraction": lambda: {"type": "number", "minimum": 0, "maximum": 1},
        "choice": lambda: {"enum": list(key.choices)},
        "int_list": lambda: {"type": "array", "items": at_least(1), "minItems": 1},
        "axis_list": lambda: {"type": "array", "items": integer, "minItems": 1},
        "shape": lambda: {"type": "array", "items": {"type": "integer", "minimum": -1}, "minItems": 1},
    }
    out = {"description": key.doc, "anyOf": [by_type[key.type](), EXPRESSION]}
    if key.default is not REQUIRED and key.default is not None:
        out["default"] = key.default
    return out


def _layer_keys() -> dict:
    schemas = {
        "name": {**TEXT, "description": "the row's name (default `<op>_<n>`)"},
        "inputs": {
            "description": "a layer name or a list of names (default: the layer before)",
            "anyOf": [TEXT, {"type": "array", "items": TEXT, "minItems": 1}],
        },
        "repeat": {"description": "stack N copies, named name.0, name.1, …", "anyOf": [{"type": "integer", "minimum": 1}, EXPRESSION]},
        "first": {"type": "object", "description": "with `repeat`: settings for the first copy only"},
        "index_as": {**TEXT, "description": "with `repeat` of a block: the block argument that receives each copy's number (0, 1, …)"},
        "when": {"description": "false skips the layer; it then stands for its input", "anyOf": [{"type": "boolean"}, EXPRESSION]},
    }
    return {key: schemas[key] for key in LAYER_KEYS}


def _block_key(key: str) -> dict:
    return {
        "args": {"type": ["object", "null"], "description": "argument names and defaults (null = required)"},
        "layers": {"$ref": "#/$defs/layers"},
        "output": {**TEXT, "description": "the block's output layer (default: its last)"},
        "description": TEXT,
    }[key]


def _amount(unit: str, description: str) -> dict:
    """A count (5M, 600k, 1.2G) or a size (64MiB, 2GiB) as cnncost.units reads it, or a plain number; a
    duration (10ms) always has its unit."""
    if unit == "seconds":
        units_ = "|".join(sorted(DURATION_SUFFIXES, key=len, reverse=True))
        return {"description": description, "type": "string", "pattern": rf"^\s*(\d+(\.\d+)?|\.\d+)\s*({units_})\s*$"}
    suffixes = "|".join(sorted((s for s in (BYTE_SUFFIXES if unit == "bytes" else COUNT_SUFFIXES) if s), key=len, reverse=True))
    pattern = rf"^\s*(\d+(\.\d+)?|\.\d+)\s*({suffixes})?\s*$"
    return {"description": description, "anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": pattern}]}

"""From a spec file or bundled name to a validated graph: the one parsed form both computations share."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from cnncost.errors import CnnCostError, Location, Mistakes
from cnncost.gcpause import gc_paused
from cnncost.graph import Graph, Node, build_graph
from cnncost.limits import MAX_COUNT
from cnncost.ops import OPS
from cnncost.ops.base import OpError, settings_key, unknown_key_message
from cnncost.spec.args import bind_spec_args, matching_reference, spec_functions
from cnncost.spec.bundled import resolve_source
from cnncost.spec.expand import BLOCK_KEYS, GRAPH_INPUT, Expander, Ref, Scope
from cnncost.spec.expr import FUNCTIONS, ExprError, has_reference, substitute
from cnncost.spec.yamlload import STDIN, LocDict, LocList, load_yaml, name_control_character, read_spec_text

TOP_KEYS = (
    "name", "description", "source", "input", "layers", "blocks", "output", "outputs", "reference", "budget", "args",
    "functions", "references", "imports",
)
REQUIRED_TOP = ("name", "input", "layers")
_SHAPE = re.compile(r"^\s*\d+(\s*[x×,]\s*\d+)*\s*$")


@dataclass(frozen=True)
class Spec:
    """A parsed spec: its metadata and its graph."""

    name: str
    path: str
    graph: Graph
    description: str = ""
    source: str = ""
    reference: dict = field(default_factory=dict)
    budget: dict = field(default_factory=dict)
    budget_locs: dict = field(default_factory=dict)
    block_instances: tuple = ()  # every block instance and repeat, for the subtotal rows
    args: dict = field(default_factory=dict)  # the spec's `args:` as used, --set overrides applied


def load(source: str, input_shape: tuple | None = None, args: dict | None = None) -> Spec:
    """Load a spec file, a bundled name (`alexnet`) or `-` (stdin); `input_shape` overrides the spec's input,
    `args` its `args:` defaults (as `--set` does)."""
    path = STDIN if source == "-" else resolve_source(source)
    if path.endswith(".onnx"):  # a model from any framework, described as a spec on the fly (extra 'onnx')
        from cnncost.interop.onnx_import import import_onnx

        return load_text(import_onnx(path), path, input_shape)
    text = read_spec_text(path)
    return load_text(text, path, input_shape, args)


@gc_paused
def load_text(text: str, path: str = "<spec>", input_shape: tuple | None = None, args: dict | None = None) -> Spec:
    return build(load_yaml(text, path), path, input_shape, args)


def build(doc, path: str = "<spec>", input_shape: tuple | None = None, args: dict | None = None) -> Spec:
    """A parsed YAML document → Spec. Never changes `doc`, so a sweep parses the YAML once for all its points."""
    if not isinstance(doc, LocDict):
        raise CnnCostError("a spec must be a mapping with `name`, `input` and `layers`", getattr(doc, "loc", Location(path, 1)))
    mistakes = Mistakes()  # independent mistakes are reported together (up to 20), not one per run
    check_top_keys(doc, mistakes)
    functions = spec_functions(doc)
    values = bind_spec_args(doc, args, functions)
    env = {**values, FUNCTIONS: functions}
    shape = input_shape
    with mistakes.collecting():
        shape = input_shape or parse_shape(_substituted(doc["input"], env, doc.value_loc("input")), doc.value_loc("input"))
    with mistakes.collecting():
        check_budget_keys(doc)
    from cnncost.spec.imports import imported_blocks

    blocks = {**imported_blocks(doc, path), **check_blocks(doc.get("blocks"), doc)}
    layers = doc["layers"]
    if not isinstance(layers, LocList) or not layers:
        mistakes.add(CnnCostError("`layers` must be a non-empty list", doc.value_loc("layers")))
        mistakes.raise_if_any()
    expander = Expander(blocks, env, mistakes)
    top = Scope("", dict(env), None)
    top.input_ref = Ref(top, GRAPH_INPUT, doc.value_loc("input"))
    last = expander.expand_list(top, layers)
    names = {GRAPH_INPUT, *(node.name for node in expander.nodes)}
    nodes = []
    expanded = not mistakes.errors  # after a failed entry, references may point into it: check attributes only
    normalized: dict = {}
    for spec_node in expander.nodes:
        with mistakes.collecting():
            nodes.append(make_node(spec_node, expander, names, normalized) if expanded else node_attrs(spec_node))
    mistakes.raise_if_any()
    outputs = [expander.resolve(Ref(top, name, where), names) for name, where in output_refs(doc, last)]
    graph = build_graph(shape, nodes, outputs, Location(path))
    for instance in expander.instances:
        instance.output = expander.resolve(expander.aliases[instance.name], names)
    budget = doc.get("budget") or {}
    return Spec(
        name=_text(doc, "name"),
        path=path,
        graph=graph,
        description=_text(doc, "description"),
        source=_text(doc, "source"),
        reference=matching_reference(doc, values),
        budget=dict(budget),
        budget_locs=dict(getattr(budget, "value_locs", {})),
        block_instances=tuple(expander.instances),
        args=values,
    )


def _substituted(value, env: dict, loc: Location):
    """`input: 3x${res}x${res}`: the spec's args reach its input shape too."""
    if not has_reference(value):
        return value
    try:
        return substitute(value, env)
    except ExprError as exc:
        raise CnnCostError(str(exc), loc) from None


def output_refs(doc: LocDict, last: str) -> list[tuple[str, Location]]:
    """`output: name`, or `outputs: [main, aux, ...]` (the main output first), or else the last layer written."""
    if "output" in doc and "outputs" in doc:
        raise CnnCostError("give `output` (one layer) or `outputs` (a list), not both", doc.key_loc("outputs"))
    if "output" in doc:
        if not isinstance(doc["output"], str):
            raise CnnCostError("`output` must be a layer name", doc.value_loc("output"), "for several outputs use `outputs: [a, b]`")
        return [(doc["output"], doc.value_loc("output"))]
    if "outputs" not in doc:
        return [(last, doc.value_loc("layers"))]
    names = doc["outputs"]
    if not isinstance(names, LocList) or not names or not all(isinstance(name, str) for name in names):
        raise CnnCostError("`outputs` must be a non-empty list of layer names", doc.value_loc("outputs"))
    if len(set(names)) < len(names):
        raise CnnCostError("`outputs` names a layer twice", doc.value_loc("outputs"))
    return [(name, names.item_loc(i)) for i, name in enumerate(names)]


def node_attrs(spec_node, normalized: dict | None = None) -> dict:
    """A layer's attributes, checked against its op's declared keys. `normalized` keeps each (op, settings as
    written)'s result for the layers that repeat them (a block's every instance); each layer gets its own copy."""
    key = settings_key(spec_node.op, spec_node.raw) if normalized is not None else None  # None for a list among them
    if key is not None and key in normalized:
        return dict(normalized[key])
    try:
        attrs = OPS[spec_node.op].normalize(spec_node.raw)
    except OpError as exc:
        where = spec_node.attr_locs.get(exc.key, spec_node.loc) if exc.key else spec_node.loc
        raise CnnCostError(f"layer {spec_node.name!r}: {exc}", where) from None
    if key is not None:
        normalized[key] = dict(attrs)
    return attrs


def make_node(spec_node, expander: Expander, names: set, normalized: dict | None = None) -> Node:
    op = OPS[spec_node.op]
    attrs = node_attrs(spec_node, normalized)
    inputs = tuple(expander.resolve(ref, names) for ref in spec_node.inputs)
    named = [key for key in op.layer_keys if attrs.get(key) is not None]
    if named:  # their references were appended to the inputs, in this order; keep the resolved names
        attrs = {**attrs, **dict(zip(named, inputs[len(inputs) - len(named):]))}
    return Node(spec_node.name, spec_node.op, attrs, inputs, spec_node.loc, spec_node.attr_locs)


def check_top_keys(doc: LocDict, mistakes: Mistakes) -> None:
    """Every top-level mistake at once; a missing required key stops here, as nothing after it can be read."""
    import difflib

    meant = set()  # `layer:` for `layers:` is one mistake, not also a missing `layers`
    for key in doc:
        if key not in TOP_KEYS:
            mistakes.add(CnnCostError(unknown_key_message(key, TOP_KEYS, "a spec"), doc.key_loc(key)))
            meant.update(difflib.get_close_matches(str(key), TOP_KEYS, n=1, cutoff=0.6))
    for key in REQUIRED_TOP:
        if key not in doc and key not in meant:
            mistakes.add(CnnCostError(f"spec is missing `{key}`", doc.loc, "a spec needs `name`, `input` and `layers`"))
    if any(key not in doc for key in REQUIRED_TOP):
        mistakes.raise_if_any()
    for key in ("name", "description", "source"):
        if key in doc and not isinstance(doc[key], str):
            mistakes.add(CnnCostError(f"`{key}` must be text, not {doc[key]!r}", doc.value_loc(key), yaml11_hint(doc[key])))
    if isinstance(doc.get("name"), str) and name_control_character(doc["name"]):
        mistakes.add(CnnCostError(f"`name` holds the control character {name_control_character(doc['name'])}", doc.value_loc("name"), "a spec name is one line of printable text"))
    for key in ("reference", "budget"):
        if key in doc and doc[key] is not None and not isinstance(doc[key], dict):
            mistakes.add(CnnCostError(f"`{key}` must be a mapping", doc.value_loc(key)))


def yaml11_hint(value) -> str | None:
    """YAML 1.1 reads on/off/yes/no (any case) as booleans and 1:30 or 010 as numbers: say so, and how to quote."""
    if isinstance(value, bool):
        return "YAML reads on/off/yes/no/true/false as booleans; quote it to mean text, e.g. name: 'on'"
    if isinstance(value, (int, float)):
        return "YAML read a number here; quote it to mean text, e.g. name: '1.0'"
    return None


def check_budget_keys(doc: LocDict) -> None:
    """A spec's `budget:` is read the way `check` reads it, by every command, so `parms:` is never silently ignored."""
    budget = doc.get("budget")
    if isinstance(budget, LocDict):
        from cnncost.budget import read_limits

        read_limits(budget, "spec", budget.key_loc)


def check_blocks(blocks, doc: LocDict) -> dict:
    if blocks is None:
        return {}
    if not isinstance(blocks, LocDict):
        raise CnnCostError("`blocks` must map block names to definitions", doc.value_loc("blocks"))
    for name, block in blocks.items():
        where = blocks.key_loc(name)
        if name in OPS:
            raise CnnCostError(f"block name {name!r} is already an op", where, "choose another name")
        if not isinstance(block, LocDict):
            raise CnnCostError(f"block {name!r} must be a mapping with `layers`", where)
        for key in block:
            if key not in BLOCK_KEYS:
                raise CnnCostError(unknown_key_message(key, BLOCK_KEYS, f"block {name!r}"), block.key_loc(key))
        if not isinstance(block.get("layers"), LocList) or not block["layers"]:
            raise CnnCostError(f"block {name!r} needs a non-empty `layers` list", block.loc)
        if "output" in block and not isinstance(block["output"], str):
            raise CnnCostError(f"`output` of block {name!r} must be a layer name", block.value_loc("output"))
        args = block.get("args")
        if args is not None and not isinstance(args, LocDict):
            raise CnnCostError(f"`args` of block {name!r} must map names to defaults (null = required)", block.value_loc("args"))
    return dict(blocks)


def parse_shape(value, loc: Location | None = None, what: str = "input") -> tuple:
    """`3x224x224`, `3×224×224` or [3, 224, 224]: one sample's shape, channels first."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, str) and _SHAPE.match(value):
        try:
            dims = tuple(int(part) for part in re.split(r"[x×,]", value.replace(" ", "")))
        except ValueError:  # Python refuses integers of more than 4,300 digits
            raise CnnCostError(f"{what} shape has a dimension over the limit of 10^100", loc) from None
    elif isinstance(value, list) and value and all(isinstance(d, int) and not isinstance(d, bool) for d in value):
        dims = tuple(value)
    else:
        raise CnnCostError(f"cannot read {what} shape {value!r}", loc, "write it as C×H×W, e.g. 3x224x224")
    if not 1 <= len(dims) <= 4:
        raise CnnCostError(f"{what} shape {value!r} must have 1 to 4 dims (C, C×L, C×H×W or C×D×H×W)", loc)
    if any(d < 1 for d in dims):
        raise CnnCostError(f"{what} shape {value!r} has a dimension below 1", loc)
    if any(d > MAX_COUNT for d in dims):
        raise CnnCostError(f"{what} shape has a dimension over the limit of 10^100", loc)
    return dims


def _text(doc: LocDict, key: str) -> str:
    return str(doc.get(key) or "")

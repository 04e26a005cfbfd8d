"""Expand a spec's layer list (blocks, repeats, `when`, `$args`) into flat, named nodes.

Naming: a layer's name is its `name`, or `<op>_<n>` counting that op within its scope from 1.
A block instance or repeat prefixes its layers: `layer3.2.conv1`. Inputs are references
resolved after expansion, so a reference may name any layer; graph.py rejects cycles.
A layer skipped by `when: false` stands for its input, so references to it pass through.
Names inside a block are local: a block reads the outside only through its input, `in`.
Every value expansion makes and all the work it does are charged to an ExpansionWork budget (spec/work.py).
"""
from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field

from cnncost.errors import CnnCostError, Location
from cnncost.limits import MAX_BLOCK_DEPTH, MAX_NAME_CHARS, MAX_NODES, MAX_REPEAT
from cnncost.ops import OPS
from cnncost.ops.base import unknown_key_message
from cnncost.spec.expr import ExprError, has_reference, references, substitute
from cnncost.spec.work import ExpansionLimit, ExpansionWork, bounded_size
from cnncost.spec.yamlload import LocDict, LocList, located, name_control_character

LAYER_KEYS = ("name", "inputs", "repeat", "first", "index_as", "when")
BLOCK_KEYS = ("args", "layers", "output", "description")
GRAPH_INPUT = "input"
BLOCK_INPUT = "in"


@dataclass
class Ref:
    """A name as written in a scope, resolved once every layer exists."""

    scope: "Scope"
    name: str
    loc: Location


@dataclass
class NodeSpec:
    name: str
    op: str
    raw: dict
    inputs: list
    loc: Location
    attr_locs: dict


@dataclass
class BlockInstance:
    """A block instance or a repeat: its rows share the `name.` prefix."""

    name: str
    block: str  # the block's name, or "<op or block> ×N" for a repeat
    loc: Location
    output: str = ""  # the node whose output is the instance's, filled in once names resolve


@dataclass
class Scope:
    prefix: str
    env: dict
    input_ref: Ref | None
    stack: tuple = ()
    names: dict = field(default_factory=dict)  # local name -> full name
    counters: Counter = field(default_factory=Counter)
    arg_locs: dict = field(default_factory=dict)  # argument name -> where its value was written


class Expander:
    def __init__(self, blocks: dict, spec_env: dict | None = None, mistakes=None):
        self.blocks = blocks
        self.spec_env = spec_env or {}  # the spec's args and functions, seen in every block
        self.mistakes = mistakes  # collects the top level's independent mistakes; nested lists stop at the first
        self.nodes: list[NodeSpec] = []
        self.aliases: dict[str, Ref] = {}
        self.instances: list[BlockInstance] = []
        self.count = 0  # layers built so far (MAX_NODES)
        self.work = ExpansionWork()
        self.sizes: dict[str, int] = {}  # block name -> smallest(block)
        self.resolved: dict[str, str] = {}  # alias -> the layer it stands for, once known

    # -- scopes and entries -------------------------------------------------

    def expand_list(self, scope: Scope, layers: LocList) -> str | None:
        """Expand a layer list; return the local name of its last entry."""
        last = None
        for index, entry in enumerate(layers):
            default_input = Ref(scope, last, layers.item_loc(index)) if last else scope.input_ref
            if self.mistakes is None or scope.prefix:
                last = self.expand_entry(scope, entry, layers.item_loc(index), default_input)
                continue
            with self.mistakes.collecting():
                last = self.expand_entry(scope, entry, layers.item_loc(index), default_input)
        return last

    def expand_entry(self, scope: Scope, entry, loc: Location, default_input: Ref | None) -> str:
        self.charge(1, loc)
        op, params = self.parse_entry(scope, entry, loc)
        params = self.substitute_all(scope, params)
        layer = {key: params.pop(key) for key in LAYER_KEYS if key in params}
        local = self.local_name(scope, op, layer.get("name"), params, loc)
        inputs = self.input_refs(scope, layer.get("inputs"), params, loc, default_input)
        full = scope.prefix + local
        if len(full) > MAX_NAME_CHARS:
            raise CnnCostError(
                f"layer name {full[:40] + '…'!r} is {len(full):,} characters long; the limit is {MAX_NAME_CHARS}",
                params.value_locs.get("name", loc),
                "use shorter names or fewer block levels",
            )
        scope.names[local] = full
        if not self.is_enabled(layer.get("when"), params, loc):
            if not inputs:
                raise CnnCostError(f"layer {full!r} is skipped by `when` but has no input to stand for", loc)
            self.alias(full, inputs[0])
            return local
        for key in ("first", "index_as"):
            if key in layer and "repeat" not in layer:
                raise CnnCostError(f"`{key}` only applies with `repeat`", params.key_loc(key), f"add `repeat: N` or remove `{key}`")
        if "repeat" in layer:
            self.expand_repeat(scope, full, op, params, layer, inputs, loc)
        else:
            self.instance(scope, full, op, params, inputs, loc)
        return local

    def parse_entry(self, scope: Scope, entry, loc: Location):
        """A layer is `op` or `op: {key: value, ...}`; ops and block names are interchangeable, and a block
        argument may choose one (`- $act`)."""
        if isinstance(entry, str):
            return self.check_op(scope, entry, loc), located(loc, {})
        if isinstance(entry, dict) and len(entry) == 1:
            (op, params), = entry.items()
            op = self.check_op(scope, op, entry.key_loc(op))
            if params is None:
                params = located(loc, {})
            if not isinstance(params, dict):
                raise CnnCostError(
                    f"the settings of {op!r} must be a mapping like {{key: value}}, not {params!r}",
                    entry.value_loc(op),
                    f"write `- {op}: {{...}}`",
                )
            return op, LocDict(params) if not isinstance(params, LocDict) else _copy(params)
        if isinstance(entry, dict) and "op" in entry:
            raise CnnCostError("write a layer as `- conv2d: {out: 64, ...}`, not with an `op:` key", loc)
        raise CnnCostError(
            "a layer must be an op name (`- relu`) or one op with its settings (`- conv2d: {out: 64, kernel: 3}`)", loc
        )

    def check_op(self, scope: Scope, name, loc: Location) -> str:
        chosen = ""
        if has_reference(name):
            written = name
            try:
                name = substitute(written, scope.env)
            except (ExprError, ExpansionLimit) as exc:
                raise CnnCostError(f"cannot choose an op with {written!r}: {exc}", loc) from None
            chosen = f" (chosen by {written!r})"
            loc = next((where for arg, where in scope.arg_locs.items() if arg in references(written)), loc)
        if isinstance(name, str) and (name in OPS or name in self.blocks):
            return name
        close = difflib.get_close_matches(str(name), [*OPS, *self.blocks], n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else "`cnncost ops` lists them; blocks are defined under `blocks:`"
        raise CnnCostError(f"unknown op or block {name!r}{chosen}", loc, hint)

    def substitute_all(self, scope: Scope, params: LocDict) -> LocDict:
        for key in list(params):
            params[key] = self.substitute_value(scope, params[key], params.value_loc(key))
        return params

    def substitute_value(self, scope: Scope, value, loc: Location):
        """A value with its `$…` replaced; anything made here (text, a list holding arguments' lists) is measured
        and charged before it is kept, so no level of blocks can multiply sizes unseen."""
        if isinstance(value, LocDict):
            out = self.substitute_all(scope, _copy(value))
        elif isinstance(value, list):
            if not any(isinstance(item, (str, list, dict)) for item in value):
                return value
            out = located(loc, [self.substitute_value(scope, item, loc) for item in value])
            if isinstance(value, LocList):
                out.item_locs = value.item_locs
        elif has_reference(value):
            try:
                out = substitute(value, scope.env)
            except (ExprError, ExpansionLimit) as exc:
                raise CnnCostError(str(exc), loc) from None
            if not isinstance(out, str):
                return out  # a number, or an argument's value shared as it is
        else:
            return value
        try:
            self.work.charge(1 + bounded_size(out) // 64)  # text costs by its memory, 64 characters a step
        except ExpansionLimit as exc:
            raise CnnCostError(str(exc), loc, "block arguments must not multiply text or lists level by level") from None
        return out

    def local_name(self, scope: Scope, op: str, name, params: LocDict, loc: Location) -> str:
        scope.counters[op] += 1
        if name is None:
            name = f"{op}_{scope.counters[op]}"
            while name in scope.names:
                name += "_"
            return name
        where = params.value_loc("name") if "name" in params.value_locs else loc
        if not isinstance(name, str) or not name:
            raise CnnCostError(f"a layer name must be text, not {name!r}", where)
        if name_control_character(name):
            raise CnnCostError(f"layer name {name[:40]!r} holds the control character {name_control_character(name)}", where, "names are one line of printable text")
        if "." in name or name in (GRAPH_INPUT, BLOCK_INPUT):
            raise CnnCostError(f"layer name {name!r} is reserved or contains '.'", where, "dots separate block levels")
        if name in scope.names:
            raise CnnCostError(f"duplicate layer name {scope.prefix + name!r}", where, "names must be unique in a block")
        return name

    def input_refs(self, scope: Scope, inputs, params: LocDict, loc: Location, default: Ref | None) -> list:
        if inputs is None:
            return [default] if default else []
        where = params.value_loc("inputs") if "inputs" in params.value_locs else loc
        names = [inputs] if isinstance(inputs, str) else inputs
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise CnnCostError(f"`inputs` must be a layer name or a list of names, not {inputs!r}", where)
        return [Ref(scope, name, where) for name in names]

    def is_enabled(self, when, params: LocDict, loc: Location) -> bool:
        if when is None:
            return True
        if not isinstance(when, bool):
            raise CnnCostError(f"`when` must be true or false, not {when!r}", params.value_locs.get("when", loc))
        return when

    # -- instances ---------------------------------------------------------------

    def expand_repeat(self, scope, full, op, params, layer, inputs, loc):
        repeat, where = layer["repeat"], params.value_locs.get("repeat", loc)
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
            raise CnnCostError(f"`repeat` must be a positive integer, not {repeat!r}", where)
        if repeat > MAX_REPEAT:
            raise CnnCostError(f"`repeat: {repeat}` is over the limit of {MAX_REPEAT:,}", where)
        first = layer.get("first", {})
        if not isinstance(first, dict):
            raise CnnCostError("`first` must be a mapping of settings for the first repeat", params.value_loc("first"))
        if self.count + repeat * self.smallest(op) > MAX_NODES:  # refuse now, not after a million layers
            raise CnnCostError(f"the spec expands to more than {MAX_NODES:,} layers", where, "lower a repeat count")
        counter = self.repeat_index(op, layer, params, loc)
        self.instances.append(BlockInstance(full, f"{op} ×{repeat}", loc))
        previous = inputs
        for index in range(repeat):
            args = _copy(params)
            if counter:
                args[counter], args.value_locs[counter] = index, params.value_locs.get("index_as", loc)
            if index == 0:
                for key, value in first.items():
                    args[key] = value
                    args.value_locs[key] = first.value_loc(key) if isinstance(first, LocDict) else loc
            name = f"{full}.{index}"
            self.instance(scope, name, op, args, previous, loc)
            previous = [Ref(scope, name, loc)]
        self.alias(full, previous[0])

    def repeat_index(self, op, layer, params, loc) -> str | None:
        """`index_as: s` hands each copy its number (0, 1, …) as the block argument `s`, so a stage can read its own
        entry of a per-stage list (`out: ${widths[s]}`)."""
        name = layer.get("index_as")
        if name is None:
            return None
        where = params.value_locs.get("index_as", loc)
        if op not in self.blocks:
            raise CnnCostError(f"`index_as` passes the copy's number to a block argument; {op!r} is an op, not a block", where)
        if not isinstance(name, str) or name not in (self.blocks[op].get("args") or {}):
            declared = ", ".join(self.blocks[op].get("args") or {}) or "none"
            raise CnnCostError(f"`index_as: {name}` must name an argument of block {op!r} (its arguments: {declared})", where)
        return name

    def instance(self, scope, full, op, params, inputs, loc):
        if op in self.blocks:
            self.block_instance(scope, full, op, params, inputs, loc)
            return
        self.bump(loc)
        self.nodes.append(NodeSpec(full, op, params, [*inputs, *self.layer_key_refs(scope, op, params, loc)], loc,
                                   dict(params.value_locs)))

    def layer_key_refs(self, scope, op, params, loc) -> list:
        """Keys an op declares as naming a layer (crop's `like`) add that layer as an input, resolved like `inputs`."""
        refs = []
        for key in OPS[op].layer_keys:
            if key in params:
                where = params.value_locs.get(key, loc)
                if not isinstance(params[key], str) or not params[key]:
                    raise CnnCostError(f"`{key}` must be a layer name, not {params[key]!r}", where)
                refs.append(Ref(scope, params[key], where))
        return refs

    def block_instance(self, scope, full, block_name, params, inputs, loc):
        if block_name in scope.stack:
            chain = " → ".join([*scope.stack, block_name])
            raise CnnCostError(f"block {block_name!r} uses itself ({chain})", loc, "blocks cannot be recursive")
        if len(scope.stack) >= MAX_BLOCK_DEPTH:
            raise CnnCostError(f"blocks nested deeper than {MAX_BLOCK_DEPTH} levels", loc)
        if len(inputs) > 1:
            raise CnnCostError(f"block {block_name!r} takes one input, got {len(inputs)}", loc)
        block = self.blocks[block_name]
        try:
            env, arg_locs = bind_args(block_name, block, params, loc, self.spec_env)
        except ExpansionLimit as exc:
            raise CnnCostError(str(exc), loc) from None
        inner = Scope(full + ".", env, inputs[0] if inputs else None, (*scope.stack, block_name), arg_locs=arg_locs)
        inner.names[BLOCK_INPUT] = full + "." + BLOCK_INPUT
        if inputs:
            self.alias(inner.names[BLOCK_INPUT], inputs[0])
        self.instances.append(BlockInstance(full, block_name, loc))
        inner.input_ref = Ref(inner, BLOCK_INPUT, loc) if inputs else None
        last = self.expand_list(inner, block["layers"])
        output = block.get("output", last)
        self.alias(full, Ref(inner, output, block.value_loc("output") if "output" in block else loc))

    def smallest(self, op: str, depth: int = 0) -> int:
        """A lower bound on the layers one instance of `op` expands to: an op is 1; a block is the sum over its
        entries of a literal `repeat` times the entry's own bound (0 if `when` may skip it, or anything is unclear)."""
        if op not in self.blocks or depth > MAX_BLOCK_DEPTH:
            return 1
        if op not in self.sizes:
            self.sizes[op] = 1  # a recursive block is refused when it is expanded
            total = 0
            for entry in self.blocks[op]["layers"]:
                name, params = _as_written(entry)
                repeat = params.get("repeat")
                copies = repeat if isinstance(repeat, int) and not isinstance(repeat, bool) and 1 <= repeat <= MAX_REPEAT else 1
                sure = params.get("when", True) is True and isinstance(name, str) and not has_reference(name)
                total += copies * self.smallest(name, depth + 1) if sure else 0
            self.sizes[op] = total
        return self.sizes[op]

    def alias(self, full: str, target: Ref):
        self.charge(1, target.loc)
        self.aliases[full] = target

    def bump(self, loc: Location):
        self.charge(1, loc)
        self.count += 1
        if self.count > MAX_NODES:
            raise CnnCostError(f"the spec expands to more than {MAX_NODES:,} layers", loc, "lower a repeat count")

    def charge(self, units: int, loc: Location):
        try:
            self.work.charge(units)
        except ExpansionLimit as exc:
            raise CnnCostError(str(exc), loc, "lower a repeat count or use fewer block levels") from None

    # -- resolution --------------------------------------------------------------

    def resolve(self, ref: Ref, node_names: set) -> str:
        """The layer a reference reads, through any chain of aliases; every alias passed is remembered, so
        10,000 block outputs along one chain of skipped layers cost 10,000 steps, not 10,000²."""
        seen: dict = {}
        while True:
            full = self.lookup(ref, node_names)
            full = self.resolved.get(full, full)
            if full in node_names:
                break
            if full in seen:
                raise CnnCostError(f"reference {ref.name!r} goes round in a loop of skipped layers", ref.loc)
            seen[full] = True
            ref = self.aliases[full]
        if seen:
            self.resolved.update(dict.fromkeys(seen, full))
        return full

    def lookup(self, ref: Ref, node_names: set) -> str:
        scope, name = ref.scope, ref.name
        if name in scope.names:
            return scope.names[name]
        for candidate in (scope.prefix + name, name):  # a local path (`inner.conv`), or a full name made here
            if candidate.startswith(scope.prefix) and (candidate in node_names or candidate in self.aliases):
                return candidate
        if name == GRAPH_INPUT and not scope.prefix:
            return GRAPH_INPUT
        known = [*scope.names, *([GRAPH_INPUT] if not scope.prefix else [])]
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"known here: {', '.join(known[:12]) or 'none'}"
        where = f"in block {scope.prefix[:-1]!r}" if scope.prefix else "in the spec"
        if scope.prefix and (name in node_names or name in self.aliases or name == GRAPH_INPUT):
            hint = f"names inside a block are local; {name!r} is outside it: pass it in as the block's input (`in`)"
        raise CnnCostError(f"unknown layer {name!r} {where}", ref.loc, hint)


def bind_args(block_name: str, block: LocDict, given: LocDict, loc: Location, spec_env: dict | None = None) -> tuple[dict, dict]:
    """Block arguments: given values first, then defaults (which may refer to earlier args or the spec's args);
    null = required. Returns the values (the spec's args beneath) and where each was written."""
    declared = block.get("args") or {}
    for name in given:
        if name not in declared:
            raise CnnCostError(unknown_key_message(name, declared, f"block {block_name!r}"), given.key_loc(name))
    env, locs = {}, {}
    for name, default in declared.items():
        locs[name] = given.value_loc(name) if name in given else declared.value_loc(name)
        if name in given:
            env[name] = given[name]
        elif default is None:
            raise CnnCostError(f"block {block_name!r} needs argument {name!r}", loc, f"add `{name}: ...`")
        else:
            env[name] = default
    for name, value in env.items():
        if has_reference(value):
            try:
                env[name] = substitute(value, {**(spec_env or {}), **{k: v for k, v in env.items() if not has_reference(v)}})
            except (ExprError, ExpansionLimit) as exc:
                raise CnnCostError(f"default of {name!r}: {exc}", declared.value_loc(name)) from None
    return {**(spec_env or {}), **env}, locs


def _as_written(entry) -> tuple:
    """A layer entry's op name and settings before any checks; (None, {}) if it is malformed."""
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, dict) and len(entry) == 1:
        ((op, params),) = entry.items()
        return op, params if isinstance(params, dict) else {}
    return None, {}


def _copy(params: LocDict) -> LocDict:
    out = LocDict(params)
    out.loc, out.key_locs, out.value_locs = params.loc, dict(params.key_locs), dict(params.value_locs)
    return out

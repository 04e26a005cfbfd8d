"""A spec's own arguments (`args:`), their `--set` overrides, and its `functions:`: what makes a spec a family.

`args: {alpha: 1.0, res: 224, width: "${int(32 * alpha)}"}` declares names every expression in the spec may use
(input, layers, blocks); a default may use earlier args, null means the argument must be given. `--set alpha=0.5`
replaces a default before later defaults are computed from it.
"""
from __future__ import annotations

import difflib
import re

from cnncost.errors import CnnCostError, Location
from cnncost.spec.expr import FUNCTIONS, ExprError, Function, has_reference, substitute
from cnncost.spec.yamlload import LocDict

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SIGNATURE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*)?\s*\)\s*$")


def parse_value(text: str):
    """A `--set` value as YAML would read it: 3 → int, 0.75 → float, true/false → bool, else text."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for number_type in (int, float):
        try:
            value = number_type(text)
        except ValueError:
            continue
        if number_type is float and value != value or value in (float("inf"), float("-inf")):
            break
        return value
    return text.strip()


def parse_assignment(text: str, flag: str = "--set") -> tuple[str, str]:
    """`name=value` → (name, value text); anything else is a usage error."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not _NAME.match(name) or not value.strip():
        raise CnnCostError(f"{flag} {text!r} must be NAME=VALUE", None, f"e.g. {flag} alpha=0.75")
    return name, value


def parse_overrides(texts) -> dict:
    """Repeated `--set name=value` → {name: value}; a name given twice is an error, not a silent last-wins."""
    values = {}
    for text in texts or ():
        name, value = parse_assignment(text)
        if name in values:
            raise CnnCostError(f"--set gives {name!r} twice", None, "give each argument once")
        values[name] = parse_value(value)
    return values


def bind_spec_args(doc: LocDict, overrides: dict | None, functions: dict) -> dict:
    """The spec's argument values: overrides first, then defaults (which may use earlier args)."""
    declared = doc.get("args")
    overrides = dict(overrides or {})
    if declared is None:
        declared = LocDict()
    elif not isinstance(declared, LocDict):
        raise CnnCostError("`args` must map argument names to defaults (null = required)", doc.value_loc("args"))
    where = getattr(doc, "loc", None) or Location("<spec>")
    for name in overrides:
        if name not in declared:
            close = difflib.get_close_matches(name, list(declared), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"its arguments: {', '.join(declared) or 'none'}"
            raise CnnCostError(f"--set {name}: the spec {doc.get('name')!r} has no argument {name!r}", None, hint)
    values = {}
    for name, default in declared.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise CnnCostError(f"argument name {name!r} must be a plain name", declared.key_loc(name))
        if name in overrides:
            values[name] = overrides[name]
            continue
        if default is None:
            raise CnnCostError(f"the spec needs argument {name!r}", declared.key_loc(name) or where, f"give it with --set {name}=...")
        if has_reference(default):
            try:
                default = substitute(default, {**values, FUNCTIONS: functions})
            except ExprError as exc:
                raise CnnCostError(f"default of {name!r}: {exc}", declared.value_loc(name)) from None
        values[name] = default
    return values


def spec_functions(doc: LocDict) -> dict:
    """`functions: {"make_divisible(v, d)": "max(d, int(v + d / 2) // d * d)"}`: one expression each."""
    written = doc.get("functions")
    if written is None:
        return {}
    if not isinstance(written, LocDict):
        raise CnnCostError("`functions` must map `name(params)` to one expression", doc.value_loc("functions"))
    functions = {}
    for signature, body in written.items():
        match = _SIGNATURE.match(str(signature))
        if not match:
            raise CnnCostError(f"cannot read function signature {signature!r}", written.key_loc(signature), "write it as name(a, b)")
        name = match.group(1)
        params = tuple(p.strip() for p in (match.group(2) or "").split(",") if p.strip())
        if len(set(params)) < len(params):
            raise CnnCostError(f"function {name!r} names a parameter twice", written.key_loc(signature))
        if name in functions:
            raise CnnCostError(f"function {name!r} is defined twice", written.key_loc(signature))
        if isinstance(body, bool) or not isinstance(body, (str, int, float)):
            raise CnnCostError(f"the body of {name!r} must be one expression", written.value_loc(signature))
        functions[name] = Function(name, params, str(body))
    return functions


def matching_reference(doc: LocDict, values: dict) -> dict:
    """The published figures for this point of the family: `reference:` or an entry of `references:` whose
    `args:` all equal the values used (an entry without `args:` matches any point); {} when none does."""
    listed = doc.get("references") or []
    if not isinstance(listed, list) or not all(isinstance(entry, dict) for entry in listed):
        raise CnnCostError("`references` must be a list of mappings like `{args: {...}, top1: 70.6}`", doc.value_loc("references"))
    for entry in [*([doc["reference"]] if doc.get("reference") else []), *listed]:  # no `reference:` is no entry
        wanted = entry.get("args") or {}
        if all(name in values and values[name] == value for name, value in wanted.items()):
            return {key: value for key, value in entry.items() if key != "args"}
    return {}

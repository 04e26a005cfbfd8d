"""Device profiles: what a machine can do per second, for the roofline estimate (cnncost.roofline).

A profile is a small YAML file (docs/roofline.md):

    name: my-laptop
    kind: measured            # measured (cnncost calibrate) or published (a vendor's data sheet)
    peak_flops: {float32: 150G}          # FLOP/s per dtype (1 MAC = 2 FLOPs)
    memory_bandwidth: 20GB/s             # bytes per second
    cache_bytes: 8MiB                    # optional, recorded
    overhead: 20us                       # optional, added to every layer that runs
    op_overhead: {conv2d: 180us}         # optional: an op's (or `OP VARIANT`'s) own overhead instead
    efficiency: {default: 0.5, conv2d: 0.3, conv2d depthwise: 0.05}  # optional: the share of the roofline an op
                                         # reaches; op names, `OP VARIANT` (`cnncost.ops` Op.variants) or `default`
    shape_efficiency:                    # optional: an op's efficiency measured at a few product shapes
      conv2d: [{rows: 64, depth: 576, columns: 3136, efficiency: 0.7}]  # (Op.product_shape); interpolated between
    sources: {peak_flops: "..."}         # where each figure comes from (required for a published profile)

Bundled profiles sit beside this module and are found by name (`cnncost summary resnet50 --device a100-sxm4`).
"""
from __future__ import annotations

import difflib
import os
from math import log2
from dataclasses import dataclass, field
from pathlib import Path

from cnncost.errors import CnnCostError, Location

KINDS = ("published", "measured")
KEYS = ("name", "description", "kind", "peak_flops", "memory_bandwidth", "cache_bytes", "overhead", "efficiency",
        "op_overhead", "shape_efficiency", "sources", "measurements")
REQUIRED = ("name", "kind", "peak_flops", "memory_bandwidth")
DEFAULT = "default"  # the efficiency of any op the profile does not name
SHAPE_KEYS = ("rows", "depth", "columns", "efficiency")  # one measured product shape in shape_efficiency


@dataclass(frozen=True)
class Profile:
    """A device's peak rates. Rates are whole numbers per second; efficiency is a share of the peak."""

    name: str
    kind: str
    peak_flops: dict  # dtype -> FLOP/s
    memory_bandwidth: int  # bytes/s
    path: str
    description: str = ""
    cache_bytes: int | None = None
    overhead_ns: int = 0
    efficiency: dict = field(default_factory=dict)  # op, "op variant" or "default" -> (0, 1]: the share of the roofline reached
    sources: dict = field(default_factory=dict)
    op_overhead_ns: dict = field(default_factory=dict)  # op or "op variant" -> ns, instead of overhead_ns
    peak_locations: dict = field(default_factory=dict, compare=False)  # dtype -> where the rate is written
    shape_efficiency: dict = field(default_factory=dict)  # op -> ((rows, depth, columns, efficiency), ...)

    def efficiency_of(self, op: str, variant: str | None = None, shape: tuple | None = None) -> float:
        """The share interpolated between the product shapes nearest `shape` if the profile measured the op's
        variant (else the op) at shapes; else the op's variant's share if the profile names it, else the op's, else the default's, else 1."""
        shapes = most_specific(self.shape_efficiency, op, variant, None) if shape is not None else None
        if shapes:
            return efficiency_at(shapes, shape)
        return most_specific(self.efficiency, op, variant, self.efficiency.get(DEFAULT, 1.0))

    def overhead_seconds(self, op: str, variant: str | None = None) -> float:
        """The op's variant's own overhead if the profile names it, else the op's, else `overhead`."""
        return most_specific(self.op_overhead_ns, op, variant, self.overhead_ns) / 1e9


def most_specific(values: dict, op: str, variant: str | None, otherwise):
    """values['OP VARIANT'] if given, else values['OP'], else `otherwise` (profiles and calibrate alike)."""
    for key in ([f"{op} {variant}"] if variant else []) + [op]:
        if key in values:
            return values[key]
    return otherwise


def efficiency_at(measured, shape: tuple) -> float:
    """The efficiency at product shape (rows, depth, columns), interpolated from the measured (rows, depth,
    columns, efficiency): a weighted geometric mean, each weighted by 1 / its distance⁴ (Shepard's inverse distance
    weighting; a power above the 3 dimensions keeps it local, else the many far shapes outweigh the near ones),
    the distance measured in log2 of each dimension (2× more columns is as far as 2× fewer). A measured shape
    itself gets its own efficiency."""
    weights = []
    for *at, efficiency in measured:
        squared = sum(log2(a / b) ** 2 for a, b in zip(at, shape))
        if squared == 0:
            return efficiency
        weights.append((1 / squared**2, efficiency))
    return 2 ** (sum(weight * log2(efficiency) for weight, efficiency in weights) / sum(weight for weight, _ in weights))


def bundled_dir() -> Path:
    return Path(__file__).resolve().parent


def bundled_names() -> list[str]:
    return sorted(path.stem for path in bundled_dir().glob("*.yaml"))


def load_profile(source: str) -> Profile:
    """A profile file, or a bundled profile's name; anything wrong is a CnnCostError naming file:line:col."""
    from cnncost.spec.yamlload import load_yaml, read_spec_text

    path = _resolve(source)
    return read_profile(load_yaml(read_spec_text(path), path), path)


def read_profile(doc, path: str) -> Profile:
    from cnncost.spec.yamlload import LocDict

    from cnncost.ops import OPS
    from cnncost.ops.base import Op, unknown_key_message
    from cnncost.report import DTYPE_BYTES
    from cnncost.units import parse_bytes, parse_count, parse_duration

    if not isinstance(doc, LocDict):
        raise CnnCostError("a device profile must be a mapping with name, kind, peak_flops and memory_bandwidth",
                           getattr(doc, "loc", Location(path, 1)), "see docs/roofline.md")
    for key in doc:
        if key not in KEYS:
            raise CnnCostError(unknown_key_message(key, KEYS, "a device profile"), doc.key_loc(key))
    for key in REQUIRED:
        if key not in doc:
            raise CnnCostError(f"a device profile needs `{key}`", doc.loc, "see docs/roofline.md")

    def read(key, parse, text, where):
        try:
            return parse(text, key)
        except CnnCostError as exc:
            raise CnnCostError(exc.message, where, exc.hint) from None

    def text(key) -> str:
        value = doc.get(key, "")
        if not isinstance(value, str):
            raise CnnCostError(f"`{key}` must be text, not {value!r}", doc.value_loc(key))
        return value

    def mapping(key) -> LocDict:
        value = doc.get(key)
        if value is None:
            return {}
        if not isinstance(value, LocDict):
            raise CnnCostError(f"`{key}` must be a mapping", doc.value_loc(key))
        return value

    name, kind = text("name"), text("kind")
    if not name:
        raise CnnCostError("`name` must not be empty", doc.value_loc("name"))
    if kind not in KINDS:
        raise CnnCostError(f"`kind` must be {' or '.join(KINDS)}, not {kind!r}", doc.value_loc("kind"),
                           "published: figures from a data sheet; measured: figures from `cnncost calibrate`")
    peaks = mapping("peak_flops")
    if not peaks:
        raise CnnCostError("`peak_flops` needs at least one dtype, e.g. {float32: 19.5T}", doc.value_loc("peak_flops"))
    peak_flops = {}
    for dtype, value in peaks.items():
        if dtype not in DTYPE_BYTES:
            raise CnnCostError(unknown_key_message(dtype, DTYPE_BYTES, "peak_flops (a dtype)"), peaks.key_loc(dtype))
        peak_flops[dtype] = _positive(read(f"peak_flops {dtype}", parse_count, value, peaks.value_loc(dtype)), peaks.value_loc(dtype))
    bandwidth = doc["memory_bandwidth"]
    bandwidth = bandwidth[:-2] if isinstance(bandwidth, str) and bandwidth.endswith("/s") else bandwidth
    memory_bandwidth = _positive(read("memory_bandwidth", parse_bytes, bandwidth, doc.value_loc("memory_bandwidth")),
                                 doc.value_loc("memory_bandwidth"))
    cache = doc.get("cache_bytes")
    cache_bytes = None if cache is None else read("cache_bytes", parse_bytes, cache, doc.value_loc("cache_bytes"))
    overhead_ns = read("overhead", parse_duration, doc["overhead"], doc.value_loc("overhead")) if "overhead" in doc else 0
    known = [*OPS, *(f"{name} {variant}" for name, op in OPS.items() for variant in op.variants)]
    op_overhead_ns = {}
    overheads = mapping("op_overhead")
    for op, value in overheads.items():
        if op not in known:
            raise CnnCostError(unknown_key_message(op, known, "op_overhead (an op name or `OP VARIANT`)"), overheads.key_loc(op))
        op_overhead_ns[op] = read(f"op_overhead {op}", parse_duration, value, overheads.value_loc(op))
    known.insert(0, DEFAULT)
    efficiency = {}
    factors = mapping("efficiency")
    for op, value in factors.items():
        if op not in known:
            raise CnnCostError(unknown_key_message(op, known, "efficiency (an op name, `OP VARIANT` or `default`)"),
                               factors.key_loc(op))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise CnnCostError(f"efficiency of {op} must be a share of the peak above 0 and at most 1, not {value!r}",
                               factors.value_loc(op))
        efficiency[op] = float(value)
    shape_efficiency = {}
    shapes = mapping("shape_efficiency")
    products = [f"{name}{suffix}" for name, op in OPS.items() if type(op).product_shape is not Op.product_shape
                for suffix in ("", *(f" {variant}" for variant in op.variants))]
    for op, entries in shapes.items():
        if op not in products:
            raise CnnCostError(unknown_key_message(op, products, "shape_efficiency (an op that runs as a matrix product, or `OP VARIANT`)"),
                               shapes.key_loc(op))
        shape_efficiency[op] = tuple(_shape_entry(entry, op, shapes.value_loc(op)) for entry in _entries(entries, op, shapes.value_loc(op)))
    sources = {str(key): str(value) for key, value in mapping("sources").items()}
    if kind == "published" and not sources:
        raise CnnCostError("a published profile must cite its sources", doc.loc,
                           "add `sources:` naming the data sheet and its date for each figure")
    mapping("measurements")
    return Profile(name, kind, peak_flops, memory_bandwidth, path, text("description"), cache_bytes, overhead_ns,
                   efficiency, sources, op_overhead_ns, {dtype: peaks.value_loc(dtype) for dtype in peaks}, shape_efficiency)


def _entries(entries, op: str, where) -> list:
    if not isinstance(entries, list) or not entries:
        raise CnnCostError(f"shape_efficiency of {op} must be a list of {{rows, depth, columns, efficiency}}, not {entries!r}", where)
    return entries


def _shape_entry(entry, op: str, where) -> tuple:
    """(rows, depth, columns, efficiency) of one measured shape: positive whole numbers and a share in (0, 1]."""
    from cnncost.spec.yamlload import LocDict

    where = getattr(entry, "loc", where)
    if not isinstance(entry, LocDict) or sorted(entry) != sorted(SHAPE_KEYS):
        raise CnnCostError(f"each shape_efficiency entry of {op} needs exactly {', '.join(SHAPE_KEYS)}, not {entry!r}", where)
    for key in SHAPE_KEYS[:3]:
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise CnnCostError(f"{key} of a shape_efficiency entry of {op} must be a whole number above 0, not {value!r}",
                               entry.value_loc(key))
    share = entry["efficiency"]
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
        raise CnnCostError(f"efficiency of a shape_efficiency entry of {op} must be above 0 and at most 1, not {share!r}",
                           entry.value_loc("efficiency"))
    return entry["rows"], entry["depth"], entry["columns"], float(share)


def _positive(value: int, where) -> int:
    if value <= 0:
        raise CnnCostError("a rate must be above zero", where)
    return value


def _resolve(source: str) -> str:
    if os.path.exists(source):
        return source
    candidate = bundled_dir() / f"{source}.yaml"
    if "/" not in source and os.sep not in source and candidate.is_file():
        return str(candidate)
    if source.endswith((".yaml", ".yml")) or "/" in source or os.sep in source:
        raise CnnCostError("no such device profile file", Location(source), "check the path, or use a bundled profile: " + ", ".join(bundled_names()))
    close = difflib.get_close_matches(source, bundled_names(), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else f"bundled profiles: {', '.join(bundled_names())}; or `cnncost calibrate -o FILE`"
    raise CnnCostError(f"{source!r} is neither a file nor a bundled device profile", None, hint)

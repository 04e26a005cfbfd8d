"""What an analysis returns: plain, frozen data that renderers and scripts read."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from cnncost.traffic import CONVENTION as TRAFFIC_CONVENTION, arithmetic_intensity

SCHEMA_VERSION = 1
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}


@dataclass(frozen=True)
class LayerRow:
    """One leaf layer. Shapes are per sample; macs, flops and activation_bytes cover the whole batch."""

    name: str
    op: str
    inputs: tuple
    input_shapes: tuple
    output_shape: tuple
    params: int
    buffers: int
    macs: int
    flops: int
    activation_bytes: int
    receptive_field: tuple  # AxisField (size, jump, start) per spatial axis of the network input
    warnings: tuple
    kind: str  # the `--group-by op` category
    attrs: dict = field(compare=False)
    location: str = ""
    global_context: bool = False  # read a broadcast input (a squeeze-excite gate) that saw the whole image
    unused: bool = False  # reaches no output: params count, but it does not run, so its MACs, FLOPs, memory do not
    bytes_read: int = 0  # inputs, weights; whole batch (cnncost.traffic)
    bytes_written: int = 0  # its output; whole batch
    estimated_seconds: float | None = None  # with a device profile (cnncost.roofline)
    bound: str | None = None  # with a device profile: "compute" or "memory"

    @property
    def arithmetic_intensity(self) -> float:
        return arithmetic_intensity(self.flops, self.bytes_read, self.bytes_written)


@dataclass(frozen=True)
class BlockRow:
    """A block instance, or a block's repeats taken together, with the subtotals of the layers under its name."""

    name: str
    block: str  # the block's name, or "<block> ×N" for its repeats
    depth: int
    layers: int
    output_shape: tuple
    receptive_field: tuple
    params: int
    macs: int
    flops: int
    activation_bytes: int


@dataclass(frozen=True)
class KindRow:
    """One line of `--group-by op`: a kind of layer with its totals and shares of the whole."""

    kind: str
    layers: int
    params: int
    macs: int
    param_share: float
    mac_share: float


@dataclass(frozen=True)
class Totals:
    params: int
    buffers: int
    macs: int
    flops: int
    activation_bytes: int  # every layer output, whole batch
    input_bytes: int
    param_bytes: int
    peak_activation_bytes: int  # inference, by liveness in execution order, input included
    peak_layer: str
    training_activation_bytes: int  # what autograd saves for the backward pass, each storage once (cnncost.training)
    optimizer: str | None = None  # with --optimizer: sgd, momentum, adam or adamw
    training_total_bytes: int | None = None  # with --optimizer: params + buffers + grads + state + saved + transient
    eager_peak_activation_bytes: int = 0  # inference as PyTorch's eager run holds it (cnncost.eager)
    eager_peak_layer: str = ""
    bytes_read: int = 0  # every running layer's bytes_read (cnncost.traffic)
    bytes_written: int = 0
    estimated_seconds: float | None = None  # with a device profile: the layers' estimates added up (cnncost.roofline)


@dataclass(frozen=True)
class Report:
    model: str
    path: str
    description: str
    source: str
    input_shape: tuple
    batch: int
    dtype: str
    layers: tuple
    blocks: tuple
    totals: Totals
    reference: dict
    unused: tuple = ()
    outputs: tuple = ()  # layer names of the model's outputs, the main one first
    kinds: tuple = ()  # KindRow per kind of layer (`--group-by op`)
    args: dict = field(default_factory=dict, compare=False)  # the spec's `args:` as used (--set applied)

    @property
    def label(self) -> str:
        """The model as titles name it: `mobilenet_v1 (alpha=0.75, res=192)` for a member of a family."""
        return f"{self.model} ({args_label(self.args)})" if self.args else self.model
    # (layer, live activation bytes while it runs) per step of inference, the input first; the peak is its maximum
    memory_timeline: tuple = field(default=(), compare=False)
    batchnorm_folded: bool = False  # analysed after folding each batchnorm into the conv before it (--fold-bn)
    device: str | None = None  # the device profile's name, when layers carry a latency estimate (cnncost.roofline)

    @property
    def dtype_bytes(self) -> int:
        return DTYPE_BYTES[self.dtype]

    @property
    def output_shape(self) -> tuple:
        row = self.output_row
        return row.output_shape if row else self.input_shape

    @property
    def output_row(self) -> LayerRow | None:
        """The main output's row (the last layer unless `outputs:` names another)."""
        if self.outputs:
            return next((row for row in reversed(self.layers) if row.name == self.outputs[0]), None)
        return self.layers[-1] if self.layers else None

    def __repr__(self) -> str:
        """One line, for a REPL or a notebook cell's text form (the full data is in to_dict())."""
        t = self.totals
        return (f"<Report {self.model}: {len(self.layers)} layers, {t.params:,} params, {t.macs:,} MACs, "
                f"peak {t.peak_activation_bytes:,} B, batch {self.batch}, {self.dtype}>")

    def _repr_html_(self) -> str:
        """Jupyter shows a report as the same table `summary` prints, as HTML."""
        from cnncost.render.views import standard_view
        from cnncost.render.html_table import view_to_html

        return view_to_html(standard_view(self))

    def to_pandas(self):
        """One row per layer, columns named as the JSON keys (needs pandas, which cnncost does not depend on)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("Report.to_pandas() needs pandas: pip install pandas") from None
        return pandas.DataFrame([_layer_dict(row, self.device is not None) for row in self.layers])

    def to_dict(self) -> dict:
        """The JSON contract (docs/conventions.md, "JSON output"); keys are only ever added."""
        return {
            "schema_version": SCHEMA_VERSION,
            "model": self.model,
            "source": self.source,
            "input_shape": list(self.input_shape),
            "batch": self.batch,
            "dtype": self.dtype,
            "dtype_bytes": self.dtype_bytes,
            "conventions": CONVENTIONS,
            "layers": [_layer_dict(row, self.device is not None) for row in self.layers],
            "blocks": [_block_dict(block) for block in self.blocks],
            "totals": asdict(self.totals),
            "unused_layers": list(self.unused),
            "outputs": list(self.outputs),
            "by_kind": [asdict(kind) for kind in self.kinds],
            "reference": _plain(self.reference),
            "args": _plain(self.args),
            "batchnorm_folded": self.batchnorm_folded,
            "device": self.device,
        }


def args_label(args: dict) -> str:
    """`alpha=0.75, res=192`: how a member of a family is named in titles and sweep rows."""
    return ", ".join(f"{name}={str(value).lower() if isinstance(value, bool) else value}" for name, value in args.items())


CONVENTIONS = {
    "macs": "multiply-accumulates of conv and linear layers; 1 MAC = 2 FLOPs",
    "flops": "2 per MAC plus each op's documented elementwise cost",
    "activation_bytes": "output elements × batch × bytes per element",
    "batch_included": "macs, flops and *_bytes cover the whole batch; shapes and params are per sample",
    "kib": "1 KiB = 1024 bytes",
    "training_activation_bytes": "the tensors PyTorch's autograd saves for the backward pass, each storage once "
    "(in-place ReLU and residual adds and views share storage; max-pool indices are int64)",
    "eager_peak_activation_bytes": "inference peak of a PyTorch-style eager run: the caller keeps the input, block "
    "inputs live until the block returns, ReLU and residual adds in place, views share storage, op temporaries "
    "(LRN's) counted; peak_activation_bytes is the ideal floor (each tensor freed after its last reader)",
    "training_total_bytes": "with an optimizer: params + buffers + one gradient per param + optimizer state (momentum 1, "
    "adam/adamw 2 copies of the params) + training_activation_bytes + the largest (output gradient + input gradients) of a layer",
    "unused": "layers that reach no output (an auxiliary head) keep their params in the totals but not their MACs, "
    "FLOPs or memory, since they do not run at inference",
    "bytes_read": TRAFFIC_CONVENTION,
    "estimated_seconds": "with --device: per layer max(flops / peak FLOP/s, (bytes_read + bytes_written) / bandwidth) "
    "/ the op's efficiency + the profile's per-layer overhead; bound names the larger term; the total adds the layers",
    "receptive_field": "per axis of the input: size (pixels one element sees, padding included), jump (pixels between "
    "neighbouring elements), start (centre of element 0's view); global: a broadcast gate saw the whole image",
}


def _layer_dict(row: LayerRow, estimated: bool = False) -> dict:
    out = {
        "name": row.name,
        "op": row.op,
        "inputs": list(row.inputs),
        "output_shape": list(row.output_shape),
        "params": row.params,
        "buffers": row.buffers,
        "macs": row.macs,
        "flops": row.flops,
        "activation_bytes": row.activation_bytes,
        "receptive_field": field_dicts(row.receptive_field, row.global_context),
        "warnings": list(row.warnings),
        "kind": row.kind,
        "attrs": _plain(row.attrs),
        "unused": row.unused,
        "bytes_read": row.bytes_read,
        "bytes_written": row.bytes_written,
        "arithmetic_intensity": row.arithmetic_intensity,
    }
    if estimated:
        out.update(estimated_seconds=row.estimated_seconds, bound=row.bound)
    return out


_SCALARS = frozenset((bool, int, float, str, type(None)))


def _plain(value):
    if type(value) in _SCALARS:  # most of a layer's attributes: returned as they are, without the checks below
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _block_dict(block: BlockRow) -> dict:
    """`receptive_field` keeps its first form, [[size, jump]] per axis; `receptive_field_axes` is the layers' form."""
    out = {"kind" if f.name == "block" else f.name: getattr(block, f.name) for f in fields(BlockRow)}  # JSON key kept
    out["output_shape"] = list(block.output_shape)  # flat values: no need for asdict's deep copy of every block
    out["receptive_field"] = [[_number(a.size), _number(a.jump)] for a in block.receptive_field]
    out["receptive_field_axes"] = field_dicts(block.receptive_field)
    return out


def field_dicts(axes: tuple, global_context: bool = False) -> list:
    """Per axis {size, jump, start, global}; sizes and jumps are ints unless upsampling made them fractional."""
    return [
        {"size": _number(a.size), "jump": _number(a.jump), "start": _number(a.start), "global": global_context}
        for a in axes
    ]


def _number(value):
    return value if isinstance(value, int) else float(value)

"""The eager inference peak against PyTorch: `eager_peak_activation_bytes` within ±10% of the bytes of tensors
alive at once during PyTorch's eager forward of the same spec (issue #14, item 2).

PyTorch side: benchmarks/torch_reference.py builds the model from the spec with torch.nn.functional and runs it
as torchvision's modules do (ReLU and residual adds in place, a block's inputs held until the block returns, the
caller holding the input), in inference mode. A TorchDispatchMode sees every tensor each aten op returns; after
each op it sums the bytes of the distinct storages still alive (weak references to them, so a storage counts from
its allocation until PyTorch frees it). Weights are model state, not counted; scratch inside a kernel that is not
a tensor (oneDNN's, im2col) is not seen.

Batch 1 and 8. Inputs of 224×224 run at 64×64 (227 at 67, the 1-D example at an eighth, the 3-D one at 32×32) to
keep the run short: every tensor scales with the spatial size.
"""
import sys
from pathlib import Path

import pytest

import cnncost
from cnncost.spec.bundled import bundled_names

torch = pytest.importorskip("torch")
BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
if not BENCHMARKS.exists():
    pytest.skip("benchmarks/ is not shipped in the package", allow_module_level=True)
sys.path.insert(0, str(BENCHMARKS))
from torch.multiprocessing.reductions import StorageWeakRef  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402
from torch.utils._pytree import tree_leaves  # noqa: E402
from torch_reference import TorchForward  # noqa: E402

from test_training_memory import smaller  # noqa: E402


class LiveTensorBytes(TorchDispatchMode):
    """The most bytes of distinct tensor storages alive at once, checked as every aten op returns (its inputs and
    outputs both alive then). `start` tensors count from the beginning; storages in `ignore` never count."""

    def __init__(self, start, ignore: set):
        super().__init__()
        self.ignore, self.live = ignore, {}
        for tensor in start:
            self._track(tensor)
        self.peak = self._current()

    def _track(self, tensor) -> None:
        storage = tensor.untyped_storage()
        pointer = storage.data_ptr()
        known = self.live.get(pointer)
        if pointer not in self.ignore and (known is None or known[0].expired()):
            self.live[pointer] = (StorageWeakRef(storage), storage.nbytes())

    def _current(self) -> int:
        self.live = {p: (ref, n) for p, (ref, n) in self.live.items() if not ref.expired()}
        return sum(n for _, n in self.live.values())

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for leaf in tree_leaves(out):
            if isinstance(leaf, torch.Tensor):
                self._track(leaf)
        self.peak = max(self.peak, self._current())
        return out


def torch_eager_peak(spec, batch: int) -> int:
    model = TorchForward(spec.graph, batch, blocks=spec.block_instances)
    weights = {t.untyped_storage().data_ptr() for w in model.weights.values() for t in w.values() if t is not None}
    with LiveTensorBytes([model.input], weights) as tracker:
        outputs = model()
    del outputs
    return tracker.peak


# One model of each family runs at batch 1 and 8; the others at batch 8, marked slow (deselect them with -m "not
# slow"). Every model at both batches measured 1.000 when this was written (docs/memory.md): every tensor scales
# with the batch, so batch 1 of the others adds time and no information.
FAMILIES = {"alexnet", "convnext_tiny", "conv1d_example", "conv3d_example", "densenet121", "googlenet_aux", "lenet5",
            "mobilenet_v2", "resnet50", "shufflenet_v2_x1_0", "squeezenet1_1", "unet", "vgg11_bn"}
CASES = [(name, batch) for name in bundled_names() for batch in (1, 8) if batch == 8 or name in FAMILIES]


@pytest.mark.parametrize("name, batch", [c if c[0] in FAMILIES else pytest.param(*c, marks=pytest.mark.slow) for c in CASES])
def test_eager_peak_matches_pytorch(name, batch):
    spec = smaller(name)
    ours = cnncost.analyze(spec, batch=batch).totals.eager_peak_activation_bytes
    theirs = torch_eager_peak(spec, batch)
    assert 0.9 <= ours / theirs <= 1.1, f"{name} batch {batch}: ours {ours:,} B, PyTorch {theirs:,} B, ratio {ours / theirs:.3f}"


def test_a_block_holds_its_input_until_it_returns(spec_file):
    """1×8×8 float32 tensors are 256 B each. While pair.conv_2 runs, PyTorch holds the input (the caller's), `stem`
    (pair's input: its forward(x) holds it), pair.conv_1 and the new output: 4 · 256 B. The ideal floor frees
    the input and `stem` once read: 2 · 256 B."""
    path = spec_file("name: t\ninput: [1, 8, 8]\nblocks:\n  two:\n    layers:\n      - conv2d: {out: 1, kernel: 1}\n"
                     "      - conv2d: {out: 1, kernel: 1}\nlayers:\n  - conv2d: {name: stem, out: 1, kernel: 1}\n"
                     "  - two: {name: pair}\n  - conv2d: {name: head, out: 1, kernel: 1}\n")
    totals = cnncost.analyze(str(path)).totals
    assert (totals.eager_peak_activation_bytes, totals.peak_activation_bytes) == (4 * 256, 2 * 256)
    assert totals.eager_peak_layer.startswith("pair.")


def test_lrn_holds_two_temporaries_the_size_of_its_input(spec_file):
    """F.local_response_norm on 4×4×4 (256 B), size 3: at its peak `div.mul(alpha).add(k)` has made two arrays
    while the pooled sum is alive, beside the input (the padded squares, 6 channels = 384 B, come earlier with
    one array less). Input 256 + pooled 256 + two links 512 = 1,024 B, the output (256 B) not made yet."""
    path = spec_file("name: t\ninput: [4, 4, 4]\nlayers:\n  - lrn: {size: 3}\n")
    assert cnncost.analyze(str(path)).totals.eager_peak_activation_bytes == 1024


def test_inference_dropout_and_a_crop_share_their_input(spec_file):
    """Eval-mode dropout returns its input and a crop is a slice of it: relu (in place on the conv's 1×8×8,
    256 B) → dropout → crop add nothing. Input 256 + conv 256 = 512 B."""
    path = spec_file("name: t\ninput: [1, 8, 8]\nlayers:\n  - conv2d: {out: 1, kernel: 1}\n  - relu\n"
                     "  - dropout: {p: 0.5}\n  - crop: {size: [4, 4]}\n")
    assert cnncost.analyze(str(path)).totals.eager_peak_activation_bytes == 512

"""The bundled fcn_resnet50 against torchvision: its published metadata always, its own model when installed.

Published: torchvision FCN_ResNet50_Weights.COCO_WITH_VOC_LABELS_V1 metadata, num_params 35,322,218 and
GFLOPS 152.717 (multiply-adds counted once, conv and linear, both heads, 3×520×520). The weights are loaded with
aux_loss=True, so both heads' params are in the count. (The table in tests/test_zoo.py checks the same figures.)
With torchvision installed, `fcn_resnet50(weights=None, weights_backbone=None, aux_loss=True)` is built on the meta
device and every convolution is compared by name: its geometry (kernel, stride, padding, dilation), its output
shape and its MACs (out elements · C_in/groups · k², counted from the module while it runs).
"""
import pytest

import cnncost
from cnncost.spec import load

PARAMS = 35_322_218  # FCN_ResNet50_Weights.COCO_WITH_VOC_LABELS_V1 meta["num_params"]
MACS_AT_520 = 152_716_512_000  # rounds to meta["_ops"] = 152.717 GFLOPS (multiply-adds once); exact from torch below


@pytest.fixture(scope="module")
def report():
    return cnncost.analyze("fcn_resnet50")


def test_published_params_and_gflops(report):
    assert report.totals.params == PARAMS
    assert round(report.totals.macs / 10**9, 3) == 152.717
    assert report.totals.macs == MACS_AT_520


def test_two_outputs_both_upsampled_to_the_input(report):
    rows = {row.name: row for row in report.layers}
    assert report.outputs == ("out", "aux") and report.unused == ()
    assert rows["out"].output_shape == rows["aux"].output_shape == (21, 520, 520)
    # output stride 8: 520 → conv1 260 → maxpool 130 → layer2 65, and layer3/layer4 keep 65 (dilated, stride 1)
    assert rows["classifier.4"].output_shape == (21, 65, 65) and rows["aux_classifier.4"].output_shape == (21, 65, 65)
    assert rows["aux_classifier.0"].inputs == ("layer3.5.relu_3",)  # the aux head reads layer3's last block


def test_input_size_carries_through_to_both_outputs():
    """Upsampling by the output stride gives back any input size that is a multiple of 8, as torchvision does."""
    small = cnncost.analyze(load("fcn_resnet50", (3, 256, 256)))
    assert {row.output_shape for row in small.layers if row.name in ("out", "aux")} == {(21, 256, 256)}


def torch_name(name: str) -> str:
    """torchvision's module name for a spec layer: backbone.* for the ResNet, downsample.0 for downsample_conv."""
    if name.startswith(("classifier.", "aux_classifier.")):
        return name
    return "backbone." + name.replace("downsample_conv", "downsample.0")


def test_every_convolution_is_torchvisions(report):
    torch = pytest.importorskip("torch")
    segmentation = pytest.importorskip("torchvision.models.segmentation")
    model = segmentation.fcn_resnet50(weights=None, weights_backbone=None, aux_loss=True)
    convs = {name: m for name, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)}
    seen = {}

    def record(name):
        def hook(module, inputs, output):
            k = module.kernel_size[0] * module.kernel_size[1]
            seen[name] = (tuple(output.shape[1:]), output.numel() * module.in_channels // module.groups * k)
        return hook

    for name, module in convs.items():
        module.register_forward_hook(record(name))
    with torch.no_grad():
        out = model.to("meta").eval()(torch.zeros(1, 3, 520, 520, device="meta"))
    assert {key: tuple(value.shape[1:]) for key, value in out.items()} == {"out": (21, 520, 520), "aux": (21, 520, 520)}
    assert sum(p.numel() for p in model.parameters()) == report.totals.params == PARAMS
    assert sum(macs for _, macs in seen.values()) == report.totals.macs == MACS_AT_520

    rows = {torch_name(row.name): row for row in report.layers if row.op == "conv2d"}
    assert set(rows) == set(convs)
    for name, module in convs.items():
        row, (shape, macs) = rows[name], seen[name]
        attrs = row.attrs
        geometry = tuple(tuple(attrs[key]) if isinstance(attrs[key], (list, tuple)) else (attrs[key],) * 2
                         for key in ("kernel", "stride", "padding", "dilation"))
        assert geometry == (module.kernel_size, module.stride, module.padding, module.dilation), name
        assert (row.output_shape, row.macs) == (shape, macs), name
        assert row.params == sum(p.numel() for p in module.parameters()), name

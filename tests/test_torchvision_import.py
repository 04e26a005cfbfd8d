"""torchvision's models imported both ways — traced with torch.fx, and exported by torch.onnx.export then read back —
give a spec whose params and conv+linear MACs equal torch's own counts (issue #12). Skipped without torchvision.

The reference is computed here from the torch model alone, independent of cnncost: params are the sum of
`numel()` over `model.parameters()`; MACs come from forward hooks on every Conv and Linear module, each
output element costing (in_channels / groups) · prod(kernel) multiply-accumulates for a conv and in_features
for a linear layer. All models are built with weights=None (nothing is downloaded).
"""
from __future__ import annotations

import functools
from math import prod

import pytest

from cnncost.analysis import analyze_spec
from cnncost.spec import load_text

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

pytestmark = pytest.mark.torchvision

# name → (module, --arg values, input size). googlenet and inception_v3: aux_logits=False, because their auxiliary
# classifiers run only in training mode (their parameters would count in torch's numel but in no traced
# layer), and init_weights=False, which only skips the truncated-normal initialisation (no effect on counts) and
# the warning torchvision prints when it is left unset. fcn_resnet50: weights_backbone=None, or torchvision would
# download the ImageNet backbone.
MODELS = {
    "resnet18": ("torchvision.models", (), (3, 224, 224)),
    "mobilenet_v3_large": ("torchvision.models", (), (3, 224, 224)),
    "efficientnet_b0": ("torchvision.models", (), (3, 224, 224)),
    "googlenet": ("torchvision.models", ("aux_logits=false", "init_weights=false"), (3, 224, 224)),
    "densenet121": ("torchvision.models", (), (3, 224, 224)),
    "inception_v3": ("torchvision.models", ("aux_logits=false", "init_weights=false"), (3, 299, 299)),
    "regnet_y_400mf": ("torchvision.models", (), (3, 224, 224)),
    "convnext_tiny": ("torchvision.models", (), (3, 224, 224)),
    "fcn_resnet50": ("torchvision.models.segmentation", ("weights_backbone=null",), (3, 224, 224)),
}


def build(name: str):
    import yaml

    module, args, _ = MODELS[name]
    kwargs = {key: yaml.safe_load(value) for key, value in (arg.split("=", 1) for arg in args)}
    return getattr(__import__(module, fromlist=[name]), name)(weights=None, **kwargs).eval()


@functools.lru_cache(maxsize=1)  # the tests run model by model: one model alive at a time
def torch_counts(name: str) -> tuple:
    """(params, conv+linear MACs) of the torch model at batch 1, counted from torch alone."""
    model, shape = build(name), MODELS[name][2]
    macs = []

    def conv(m, inputs, output):
        macs.append(output.numel() * (m.in_channels // m.groups) * prod(m.kernel_size))

    def linear(m, inputs, output):
        macs.append(output.numel() * m.in_features)

    for m in model.modules():
        if isinstance(m, torch.nn.modules.conv._ConvNd):
            m.register_forward_hook(conv)
        elif isinstance(m, torch.nn.Linear):
            m.register_forward_hook(linear)
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    return sum(p.numel() for p in model.parameters()), sum(macs)


def spec_counts(text: str) -> tuple:
    report = analyze_spec(load_text(text))
    return report.totals.params, report.totals.macs


def via_fx(name: str, tmp_path) -> str:
    from cnncost.interop.torch_import import import_torch

    module, args, shape = MODELS[name]
    return import_torch(f"{module}:{name}", "x".join(map(str, shape)), args)


def via_onnx(name: str, tmp_path) -> str:
    pytest.importorskip("onnx")
    from cnncost.interop.onnx_import import import_onnx

    path = tmp_path / f"{name}.onnx"
    # The TorchScript-based exporter (the dynamo one needs onnxscript, which the onnx extra does not bring), in
    # PRESERVE mode: its EVAL mode folds each BatchNorm into the conv before it, and the file then holds C
    # parameters fewer per BatchNorm (a conv bias instead of the norm's scale and shift) than torch's module.
    torch.onnx.export(build(name), (torch.zeros(1, *MODELS[name][2]),), str(path), dynamo=False, opset_version=18,
                      training=torch.onnx.TrainingMode.PRESERVE)
    return import_onnx(str(path))


ROUTES = {"torch.fx": via_fx, "onnx": via_onnx}


@pytest.mark.parametrize("name,route", [(name, route) for name in MODELS for route in ROUTES])
def test_imported_spec_has_torchs_params_and_macs(name, route, tmp_path):
    assert spec_counts(ROUTES[route](name, tmp_path)) == torch_counts(name)


def test_resnet18_matches_the_numbers_in_issue_12(tmp_path):
    """The issue's 50-line converter prototype found 11,689,512 params and 1,814,073,344 MACs at 3x224x224;
    torchvision's ResNet18_Weights.IMAGENET1K_V1 metadata publishes 11,689,512 params and 1.814 GFLOPS (its MACs)."""
    assert torch_counts("resnet18") == (11_689_512, 1_814_073_344)
    assert spec_counts(via_fx("resnet18", tmp_path)) == (11_689_512, 1_814_073_344)

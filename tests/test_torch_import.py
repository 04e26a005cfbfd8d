"""`cnncost import package.module:factory`: a small model file written here, traced with torch.fx (skipped
without torch). References: torch's own parameter count, and the arithmetic written out."""
from __future__ import annotations

import sys

import pytest

from cnncost.analysis import analyze_spec
from cnncost.spec import load_text

torch = pytest.importorskip("torch")

MODEL = '''
import torch
from torch import nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)) + x)


class Net(nn.Module):
    def __init__(self, num_classes=10, width=8):
        super().__init__()
        self.stem = nn.Conv2d(3, width, 3, stride=2, padding=1)
        self.block = Block(width)
        self.head = nn.Linear(2 * width, num_classes)

    def forward(self, x):
        x = self.stem(x)
        x = torch.cat([self.block(x), F.max_pool2d(x, 3, 1, 1)], dim=1)
        x = F.adaptive_avg_pool2d(x, 1)
        return self.head(x.view(x.size(0), -1))


def net(num_classes=10, width=8):
    return Net(num_classes, width)


class Trig(nn.Module):
    def forward(self, x):
        return torch.sin(torch.cos(torch.cos(x)))


def trig():
    return Trig()
'''


@pytest.fixture
def model_dir(tmp_path):
    (tmp_path / "tiny_models.py").write_text(MODEL)
    yield tmp_path
    sys.modules.pop("tiny_models", None)


def imported(cli, model_dir, *args):
    result = cli("import", "tiny_models:net", "-o", "net.yaml", *args, cwd=model_dir)
    assert result.returncode == 0, result.stderr
    return (model_dir / "net.yaml").read_text()


def test_a_module_next_to_the_user_imports_with_its_params_and_macs(cli, model_dir):
    text = imported(cli, model_dir, "--input", "3x16x16", "--arg", "num_classes=5")
    sys.path.insert(0, str(model_dir))
    try:
        import tiny_models
    finally:
        sys.path.remove(str(model_dir))
    params = sum(p.numel() for p in tiny_models.net(num_classes=5).parameters())
    report = analyze_spec(load_text(text))
    assert report.totals.params == params
    # stem 8·8·8 outputs × 3·9 taps; block conv 8·8·8 × 8·9; head 5 × 16
    assert report.totals.macs == 8 * 8 * 8 * 3 * 9 + 8 * 8 * 8 * 8 * 9 + 5 * 16


def test_the_spec_names_layers_by_module_path_and_branches_only_where_the_graph_does(cli, model_dir):
    text = imported(cli, model_dir, "--input", "3x16x16")
    assert text.startswith("# Imported by cnncost from tiny_models:net(), traced with torch.fx")
    layers = [line for line in text.splitlines() if line.startswith("  - ")]
    assert layers == [
        "  - conv2d: {name: stem, out: 8, kernel: 3, stride: 2, padding: 1}",
        "  - conv2d: {name: block_conv, out: 8, kernel: 3, padding: 1, bias: false}",
        "  - batchnorm: {name: block_bn}",
        "  - add: {name: block_add, inputs: [block_bn, stem]}",
        "  - relu: {name: block_relu}",
        "  - maxpool2d: {name: max_pool2d, inputs: stem, kernel: 3, stride: 1, padding: 1}",
        "  - concat: {name: cat, inputs: [block_relu, max_pool2d]}",
        "  - adaptive_avgpool2d: {name: adaptive_avg_pool2d, output: 1}",
        "  - flatten: {name: view}",
        "  - linear: {name: head, out: 10}",
    ]


def test_unsupported_operations_are_listed_with_names_and_counts_and_no_spec_is_written(cli, model_dir):
    result = cli("import", "tiny_models:trig", "--input", "3x4x4", "-o", "trig.yaml", cwd=model_dir)
    assert result.returncode == 2
    assert "unsupported PyTorch operations (or arguments): torch.cos ×2 (cos, cos_1); torch.sin ×1 (sin)" in result.stderr
    assert "Traceback" not in result.stderr and not (model_dir / "trig.yaml").exists()


@pytest.mark.parametrize("source,args,message", [
    ("no_such_module_here:net", ("--input", "3x8x8"), "cannot import module 'no_such_module_here'"),
    ("tiny_models:nope", ("--input", "3x8x8"), "module 'tiny_models' has no 'nope'"),
    ("tiny_models", ("--input", "3x8x8"), "write package.module:factory"),
    ("tiny_models:net", (), "needs --input CxHxW"),
    ("tiny_models:net", ("--input", "3x8x8", "--arg", "num_classes"), "cannot read --arg 'num_classes'"),
    ("tiny_models:net", ("--input", "3x8x8", "--arg", "depth=3"), "unexpected keyword argument 'depth'"),
    ("tiny_models:net", ("--input", "3x8x8", "--arg", "width=[1"), "cannot read the value of --arg 'width=[1' as YAML"),
    ("tiny_models:net", ("--input", "4x8x8"), "running the traced model at input 4x8x8 failed: RuntimeError"),
])
def test_bad_sources_and_arguments_are_one_line_and_exit_2(cli, model_dir, source, args, message):
    result = cli("import", source, "-o", "out.yaml", *args, cwd=model_dir)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (model_dir / "out.yaml").exists()


def test_dash_writes_the_spec_to_stdout(cli, model_dir):
    result = cli("import", "tiny_models:net", "--input", "3x16x16", "-o", "-", cwd=model_dir)
    assert result.returncode == 0 and result.stdout == imported(cli, model_dir, "--input", "3x16x16")
    assert not (model_dir / "-").exists()


def test_arg_values_are_yaml_scalars(cli, model_dir):
    from cnncost.interop.torch_import import factory_kwargs

    assert factory_kwargs(("a=10", "b=0.5", "c=true", "d=null", "e=text")) == {"a": 10, "b": 0.5, "c": True, "d": None, "e": "text"}


def test_without_torch_the_import_names_the_extra(tmp_path):
    import subprocess

    code = ("import sys; sys.modules['torch'] = None\nfrom cnncost.cli import main\n"
            f"main(['import', 'torchvision.models:resnet18', '--input', '3x8x8', '-o', {str(tmp_path / 'r.yaml')!r}])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 2
    assert "pip install 'cnncost[torch]'" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "r.yaml").exists()

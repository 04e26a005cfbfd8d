"""The verify speed benchmark runs end to end and prints every figure the README quotes from it.

Small bundled models keep this quick; the figures themselves are machine-dependent and only printed.
"""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "verify_speed.py"
ROW = re.compile(r"^(\w+)\s+(1|8)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d+%\s+\d+%\s+(\d+%|-)\s+(\d+%|-)\s+([\d.]+|-)\s+([\d.]+|-)\s+(pass|FAIL.*)$")
SECTION = re.compile(r"^(\w+), batch 8: where the forward's ([\d.]+) s go")
PART = re.compile(r"^  (\w[\w ]*?)\s+([\d.]+) ms\s+(?:[\d.]+%|[\d.]+ GMAC/s\s+(\d+)% of GEMM)$")


@pytest.mark.skipif(not SCRIPT.exists(), reason="benchmarks/ is not shipped in the package")
def test_verify_speed_prints_a_row_per_model_and_batch_with_checks():
    environment = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    result = subprocess.run([sys.executable, str(SCRIPT), "--repeats", "2", "--breakdown", "lenet5", "alexnet"],
                            capture_output=True, text=True, timeout=600, env=environment)
    assert result.returncode == 0, result.stderr
    rows = [ROW.match(line) for line in result.stdout.splitlines()]
    rows = [(m[1], m[2], m[3], m[7]) for m in rows if m]
    assert [(name, batch) for name, batch, _, _ in rows] == [("lenet5", "1"), ("lenet5", "8"), ("alexnet", "1"), ("alexnet", "8")]
    assert all(status == "pass" for *_, status in rows)
    assert "OPENBLAS_THREAD_TIMEOUT=4" in result.stdout
    # the PyTorch reference builds every op of the bundled models, LRN included: with torch, every column is filled
    shares = {share for _, _, share, _ in rows}
    assert shares == {"-"} if importlib.util.find_spec("torch") is None else "-" not in shares


def _breakdowns(stdout: str) -> dict[str, dict[str, tuple[float, int | None]]]:
    """model -> {part or summary line: (ms, share of GEMM or None)} from the --breakdown sections."""
    sections: dict[str, dict[str, tuple[float, int | None]]] = {}
    for line in stdout.splitlines():
        if section := SECTION.match(line):
            current = sections.setdefault(section[1], {"seconds": (float(section[2]) * 1e3, None)})
        elif part := PART.match(line):
            current[part[1]] = (float(part[2]), part[3] and int(part[3]))
    return sections


@pytest.mark.skipif(not SCRIPT.exists(), reason="benchmarks/ is not shipped in the package")
def test_breakdown_accounts_for_the_whole_forward():
    result = subprocess.run([sys.executable, str(SCRIPT), "--repeats", "1", "--breakdown", "alexnet"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    alexnet = _breakdowns(result.stdout)["alexnet"]
    summaries = {"seconds", "all of it", "matmuls alone", "all but conv copies"}
    parts = {part: ms for part, (ms, _) in alexnet.items() if part not in summaries}
    # the matmuls (convolution and linear), the rest of each convolution and of each linear layer, every other op
    assert set(parts) == {"matmuls", "conv copies", "linear", "relu", "lrn", "maxpool2d", "flatten", "dropout"}
    total = alexnet["all of it"][0]
    assert sum(parts.values()) == pytest.approx(total, abs=0.1 * len(parts))  # each printed to 0.1 ms
    assert alexnet["seconds"][0] == pytest.approx(total, abs=1)
    assert alexnet["matmuls alone"][0] == parts["matmuls"]
    assert alexnet["all but conv copies"][0] == pytest.approx(total - parts["conv copies"], abs=0.2)
    # less time for the same MACs is a larger share of GEMM
    assert alexnet["matmuls alone"][1] >= alexnet["all but conv copies"][1] >= alexnet["all of it"][1]


@pytest.fixture
def forward_breakdown(monkeypatch):
    if not SCRIPT.exists():
        pytest.skip("benchmarks/ is not shipped in the package")
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    import forward_breakdown

    return forward_breakdown


def test_breakdown_counts_every_mac_and_restores_numpy(forward_breakdown):
    import numpy as np

    from cnncost.analysis import analyze_spec
    from cnncost.kernels import counting
    from cnncost.spec import load

    spec = load("lenet5")
    seconds, macs = forward_breakdown.breakdown(spec.graph, batch=3)
    assert macs == analyze_spec(spec, batch=3).totals.macs
    assert counting.np is np
    assert set(seconds) == {"matmuls", "conv copies", "linear", "relu", "maxpool2d", "flatten"}


def test_breakdown_keeps_matmul_time_out_of_the_convolution_copies(forward_breakdown):
    """A pointwise convolution multiplies its input as it lies: nearly all of its time is the matmul."""
    from cnncost.spec import load_text

    spec = load_text("name: pointwise\ninput: 512x28x28\nlayers:\n  - conv2d: {out: 512, kernel: 1, bias: false}\n")
    seconds, _ = forward_breakdown.breakdown(spec.graph, batch=8)
    assert seconds["conv copies"] < 0.2 * seconds["matmuls"]


def test_summary_speed_prints_every_format_for_each_spec():
    script = SCRIPT.parent / "summary_speed.py"
    result = subprocess.run([sys.executable, str(script), "--quick", "--terminal"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    names = ("densenet201", "chain_1000", "varied_1000", "literal_1000")
    rows = [line.split() for line in result.stdout.splitlines() if line.split()[:1] and line.split()[0] in names]
    assert [row[0] for row in rows] == list(names) and all(len(row) == 7 for row in rows)
    assert all(re.fullmatch(r"[\d.]+/[\d.]+s", cell) for row in rows for cell in row[1:5])  # wall/CPU seconds per format
    assert all(re.fullmatch(r"[\d.]+", row[6]) for row in rows)  # the load average
    terminal = [line for line in result.stdout.splitlines() if "on a 160-column terminal" in line]
    assert [line.split()[0] for line in terminal] == [f"{name}.yaml" for name in names[1:]]


SWEEP_SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "sweep_speed.py"


@pytest.mark.skipif(not SWEEP_SCRIPT.exists(), reason="benchmarks/ is not shipped in the package")
def test_sweep_speed_prints_wall_and_cpu_figures_with_the_load():
    result = subprocess.run([sys.executable, str(SWEEP_SCRIPT), "40", "2"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^sweep mobilenet_v1: 40 points in [\d.]+ s = \d+ points/s on 2 processes \(load average [\d.]+;", result.stdout, re.M)
    assert re.search(r"^CPU time: [\d.]+ ms per point = \d+ points per CPU-second; \d+ free cores would give about \d+ points/s$", result.stdout, re.M)

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
ROW = re.compile(r"^(\w+)\s+(1|8)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d+%\s+\d+%\s+(\d+%|-)\s+(\d+%|-)\s+(pass|FAIL.*)$")


@pytest.mark.skipif(not SCRIPT.exists(), reason="benchmarks/ is not shipped in the package")
def test_verify_speed_prints_a_row_per_model_and_batch_with_checks():
    environment = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    result = subprocess.run([sys.executable, str(SCRIPT), "--repeats", "2", "lenet5", "alexnet"],
                            capture_output=True, text=True, timeout=600, env=environment)
    assert result.returncode == 0, result.stderr
    rows = [ROW.match(line) for line in result.stdout.splitlines()]
    rows = [(m[1], m[2], m[3], m[5]) for m in rows if m]
    assert [(name, batch) for name, batch, _, _ in rows] == [("lenet5", "1"), ("lenet5", "8"), ("alexnet", "1"), ("alexnet", "8")]
    assert all(status == "pass" for *_, status in rows)
    # alexnet has LRN, which the PyTorch reference does not build: its column stays empty instead of failing
    assert [torch_share for name, _, torch_share, _ in rows if name == "alexnet"] == ["-", "-"]
    assert "OPENBLAS_THREAD_TIMEOUT=4" in result.stdout
    lenet_torch = {share for name, _, share, _ in rows if name == "lenet5"}
    assert lenet_torch == {"-"} if importlib.util.find_spec("torch") is None else "-" not in lenet_torch

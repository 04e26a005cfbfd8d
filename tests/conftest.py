import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, cwd=None, input=None):
    """Run the real command in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "cnncost", *map(str, args)], capture_output=True, text=True, cwd=cwd, input=input
    )


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def spec_file(tmp_path):
    """Write a spec text to a file and return its path."""

    def write(text: str, name: str = "net.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


# --- Hypothesis profiles for the property tests (tests/test_properties.py) -------------------------------
# `quick` is the default run; CNNCOST_FUZZ=1 selects `fuzz`, the long run documented in docs/testing.md.
# Tests that set their own @settings(max_examples=...) (tests/test_kernels_torch.py) keep their counts.
import os  # noqa: E402

from hypothesis import settings  # noqa: E402

settings.register_profile("quick", max_examples=100, deadline=None)
settings.register_profile("fuzz", max_examples=3000, deadline=None)
settings.load_profile("fuzz" if os.environ.get("CNNCOST_FUZZ") else "quick")

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

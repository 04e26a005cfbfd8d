"""`verify` lets OpenBLAS's idle threads sleep at once, unless numpy is already loaded or the user chose a value.

Each case runs in a fresh interpreter: OpenBLAS reads the setting only when numpy first loads.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cnncost.blasenv import SLEEP_AT_ONCE


def child(script: str, **env: str) -> list[str]:
    environment = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"} | env
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, check=True)
    return result.stdout.split()


SET_THEN_LOAD = (
    "import os; from cnncost.blasenv import let_blas_threads_sleep as sleep; applied = sleep();"
    "from cnncost.kernels import parallel;"
    "print(applied, os.environ.get('OPENBLAS_THREAD_TIMEOUT', 'unset'), parallel._BLAS_WORKERS_SLEEP)"
)


def test_before_numpy_loads_the_timeout_is_set_and_the_kernels_split_elementwise_work():
    assert child(SET_THEN_LOAD) == ["True", SLEEP_AT_ONCE, "True"]


def test_a_value_the_user_set_is_kept():
    assert child(SET_THEN_LOAD, OPENBLAS_THREAD_TIMEOUT="28") == ["True", "28", "False"]


def test_once_numpy_is_loaded_nothing_changes():
    assert child("import numpy;" + SET_THEN_LOAD) == ["False", "unset", "False"]


@pytest.mark.parametrize("command", [["verify", "lenet5"], ["check", "lenet5", "--verify"]])
def test_commands_that_run_the_forward_pass_apply_it(command):
    script = (
        "import os; from click.testing import CliRunner; from cnncost.cli import cli;"
        f"result = CliRunner().invoke(cli, {command!r});"
        "from cnncost.kernels import parallel;"
        "print(result.exit_code, os.environ.get('OPENBLAS_THREAD_TIMEOUT', 'unset'), parallel._BLAS_WORKERS_SLEEP)"
    )
    assert child(script) == ["0", SLEEP_AT_ONCE, "True"]


def test_verify_spec_applies_it_in_a_program_that_has_not_loaded_numpy():
    script = (
        "import os; from cnncost.spec import load; from cnncost.verify import verify_spec;"
        "passed = verify_spec(load('lenet5')).passed; from cnncost.kernels import parallel;"
        "print(passed, os.environ.get('OPENBLAS_THREAD_TIMEOUT', 'unset'), parallel._BLAS_WORKERS_SLEEP)"
    )
    assert child(script) == ["True", SLEEP_AT_ONCE, "True"]

"""What a user installs: an sdist that carries its own tests, a license, typing marker and one version."""
import subprocess
import sys
import tarfile
from importlib import metadata

import pytest

from tests.conftest import ROOT, run_cli


@pytest.fixture(scope="module")
def sdist(tmp_path_factory):
    import re

    # the build backend as pip runs it, at the version pyproject.toml's [build-system] requires (PEP 639 license)
    floor = re.search(r'requires = \["setuptools>=([\d.]+)"\]', (ROOT / "pyproject.toml").read_text()).group(1)
    pytest.importorskip("setuptools", minversion=floor)
    import shutil

    # from a clean copy of the working tree: an old *.egg-info/SOURCES.txt would add files MANIFEST.in forgot
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0 or not (ROOT / ".git").exists():
        pytest.skip("builds the sdist from a git checkout; this tree is not one (an unpacked sdist runs its tests here)")
    tree = tmp_path_factory.mktemp("tree")
    files = listed.stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)
    out = tmp_path_factory.mktemp("sdist")
    code = f"from setuptools import build_meta; print(build_meta.build_sdist({str(out)!r}))"
    result = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return out / result.stdout.strip().splitlines()[-1]


def test_sdist_is_complete(sdist):
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    tracked = subprocess.run(["git", "ls-files", "tests", "specs", "docs"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    wanted = {"LICENSE", "README.md", ".pre-commit-hooks.yaml", "cnncost/py.typed", "tests/conftest.py", *tracked}
    assert not wanted - names, sorted(wanted - names)


def test_sdist_tests_run_unpacked(sdist, tmp_path):
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path)
    (unpacked,) = tmp_path.iterdir()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_units.py", "tests/test_cli.py::test_summary_table_states_its_conventions"],
                            cwd=unpacked, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:]


def test_version_is_written_once_and_printed():
    import cnncost

    assert 'version = "' not in (ROOT / "pyproject.toml").read_text()  # dynamic, from cnncost.__version__
    assert run_cli("--version").stdout.strip() == f"cnncost, version {cnncost.__version__}"
    assert metadata.version("cnncost") == cnncost.__version__


def test_license_is_mit_everywhere():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    meta = metadata.metadata("cnncost")
    assert meta.get("License-Expression") == "MIT"  # PEP 639, which replaced the license classifier
    assert (ROOT / "cnncost" / "py.typed").exists()

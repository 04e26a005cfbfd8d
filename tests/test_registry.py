"""Adding an op is complete only when every place that must know it does: the analytic rules (its op class),
a numpy kernel, a torch cross-check of that kernel, a JSON-schema entry and a row in the ops table of the docs."""
import ast
import re
from pathlib import Path

import pytest

from cnncost.kernels import KERNEL_OPS
from cnncost.ops import OPS
from cnncost.schema import spec_schema

ROOT = Path(__file__).resolve().parent.parent


def _op_names_used(path: Path) -> list:
    """Regexes for every string literal in a test file; an f-string's {placeholders} match any name part."""
    patterns = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            patterns.append(re.escape(node.value))
        elif isinstance(node, ast.JoinedStr):
            parts = [re.escape(v.value) if isinstance(v, ast.Constant) else "[a-z0-9]+" for v in node.values]
            patterns.append("".join(parts))
    return patterns


TORCH_CHECKED = _op_names_used(Path(__file__).parent / "test_kernels_torch.py")


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_a_numpy_kernel(name):
    assert name in KERNEL_OPS


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_a_torch_cross_check(name):
    """tests/test_kernels_torch.py names each op it checks (a string, or an f-string such as f"conv{nd}d")."""
    assert any(re.fullmatch(pattern, name) for pattern in TORCH_CHECKED), f"no torch cross-check names {name!r}"


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_a_schema_entry(name):
    assert f"op.{name}" in spec_schema()["$defs"]


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_a_docs_row(name):
    docs = "\n".join(path.read_text() for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))] if path.exists())
    if not docs:
        pytest.skip("the docs are not shipped in the package")
    assert re.search(rf"^\| `{re.escape(name)}` \|", docs, re.M), f"no row for {name!r} in the ops table"

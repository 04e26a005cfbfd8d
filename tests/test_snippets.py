"""Every command and spec snippet in README.md and docs/ runs as shown (issue 15, item 10).

Commands run in a scratch folder holding the files the docs name: YAML blocks that start with `# NAME.yaml`
(README's budgets file, design-space's stages.yaml) are written there as shown; the files a reader brings
themselves (their own `my_net.yaml`, a `specs/` folder, ...) are copies of bundled specs, listed in WORKSPACE.
"As shown" means: exit 0 or 1 (1 is a budget or check that failed, which some examples are about), never 2
(bad input) and never a traceback. A command that needs an optional extra that is not installed is skipped,
naming the extra.
"""
from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import textwrap

import pytest
import yaml

import cnncost
from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^ *```(\w*)\n(.*?)^ *```", re.S | re.M)  # also fences indented in a list item
NAMED_FILE = re.compile(r"^\s*# ([\w./-]+\.ya?ml)\b")

# Files a reader has and the docs only name, as bundled specs (file in the scratch folder: bundled spec).
WORKSPACE = {
    "my_net.yaml": "resnet18",
    "edge.yaml": "mobilenet_v2",
    "specs/net.yaml": "squeezenet1_1",  # the changed spec of docs/compare.md's diff ...
    "tmp/net_main.yaml": "squeezenet1_0",  # ... and its `git show main:` copy (/tmp in the docs)
    "specs/lenet5.yaml": "lenet5",
    "specs/alexnet.yaml": "alexnet",
    "models/edge/small.yaml": "lenet5",
}
# What a command needs beyond the runtime dependencies: (pattern in the command, module, extra).
EXTRAS = [
    (r"--plot\b", "matplotlib", "plot"),
    (r"\bexport\b|\bimport\s+\S+\.onnx|\.onnx\b", "onnx", "onnx"),
    (r"onnxruntime", "onnxruntime", "onnx"),
    (r"--scheduler\b", "dask", "dask"),
    (r"\bimport\s+torchvision\b", "torchvision", "torch, with torchvision"),
    (r"\bimport\s+[\w.]+:\w+", "torch", "torch"),
]
# files a command reads that the docs make with an earlier command: (made by, needs the module)
MADE = {"resnet18.yaml": ("resnet18", None), "model.onnx": ("resnet18", "onnx")}


def _blocks(langs: set):
    for path in DOCS:
        text = path.read_text()
        for match in FENCE.finditer(text):
            if match.group(1) in langs:
                yield path, text.count("\n", 0, match.start()) + 2, textwrap.dedent(match.group(2))


def _commands():
    for path, first_line, body in _blocks({"bash", "sh", "shell", ""}):
        body = body.replace("\\\n", " ")
        for offset, line in enumerate(body.splitlines()):
            for part in line.split("&&"):
                part = part.strip()
                if part.startswith("cnncost "):
                    yield pytest.param(part, id=f"{path.name}:{first_line + offset}")


def _named_files() -> dict:
    files = {}
    for _, _, body in _blocks({"yaml", "yml"}):
        match = NAMED_FILE.match(body)
        if match:
            files[match.group(1)] = body
    return files


def _specs():
    for path, line, body in _blocks({"yaml", "yml"}):
        data = yaml.safe_load(body)
        if isinstance(data, dict) and {"name", "input", "layers"} <= set(data) and isinstance(data["layers"], list):
            yield pytest.param(body, id=f"{path.name}:{line}")


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    for name, bundled in WORKSPACE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "specs" / f"{bundled}.yaml", tmp_path / name)
    for name, body in _named_files().items():
        (tmp_path / name).write_text(body)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _distinct(params):
    """README and docs/ may show the same command; it runs once."""
    seen = set()
    return [p for p in params if not (p.values[0] in seen or seen.add(p.values[0]))]


@pytest.mark.parametrize("command", _distinct(_commands()))
def test_command_runs_as_shown(command, workspace, capsys):
    from cnncost.cli import main

    for pattern, module, extra in EXTRAS:
        if re.search(pattern, command) and importlib.util.find_spec(module) is None:
            pytest.skip(f"needs the '{extra}' extra ({module} is not installed)")
    command = re.sub(r"\s+#.*$", "", command).replace("/tmp/", "tmp/")
    words = shlex.split(command)[1:]
    for name, (bundled, module) in MADE.items():  # read here, written by an earlier command of the docs
        if name in words and "-o" in words and words[words.index("-o") + 1] != name:
            if module is None:
                shutil.copy(ROOT / "specs" / f"{bundled}.yaml", workspace / name)
            else:
                from cnncost.interop.onnx_export import export_model

                (workspace / name).write_bytes(export_model(cnncost.load(bundled)).SerializeToString())
    target = None
    if ">" in words:  # `cnncost schema > file`: stdout to a file
        target = workspace / words[words.index(">") + 1]
        words = words[: words.index(">")]
    with pytest.raises(SystemExit) as info:
        main(words)
    out, err = capsys.readouterr()
    assert info.value.code in (0, 1, None), f"{command}\n{err[-2000:]}"
    assert "Traceback" not in err, err[-2000:]
    if target is not None:
        target.write_text(out)


@pytest.mark.parametrize("text", list(_specs()))
def test_spec_snippet_analyses_as_shown(text):
    report = cnncost.analyze(cnncost.load(text))
    assert report.layers and report.totals.params >= 0


def test_every_doc_has_its_snippets_collected():
    """The collectors find what a reader sees: README's three tutorial specs and its commands."""
    readme_specs = [p for p in _specs() if p.id.startswith("README.md")]
    assert len(readme_specs) == 3
    assert sum(p.id.startswith("README.md") for p in _commands()) >= 10


def test_readme_alexnet_is_the_bundled_one():
    """README's AlexNet is specs/alexnet.yaml's network: the same rows (names, ops, shapes, params, MACs)."""
    snippet = next(p.values[0] for p in _specs() if "name: alexnet" in p.values[0])
    rows = lambda report: [(r.name, r.op, r.output_shape, r.params, r.macs) for r in report.layers]  # noqa: E731
    assert rows(cnncost.analyze(cnncost.load(snippet))) == rows(cnncost.analyze("alexnet"))

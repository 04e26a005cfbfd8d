"""The command as a user runs it: formats, exit codes, messages, files."""
import csv
import io
import json

import pytest

from tests.conftest import ROOT


def test_summary_table_states_its_conventions(cli):
    result = cli("summary", "alexnet")
    assert result.returncode == 0, result.stderr
    assert "conv1" in result.stdout and "fc8" in result.stdout
    assert "1 MAC = 2 FLOPs" in result.stdout and "1 KiB = 1024 B" in result.stdout
    assert "batch 1 included" in result.stdout and "4 B/element" in result.stdout


def test_summary_json_contract(cli):
    result = cli("summary", "vgg16", "--format", "json", "--batch", "2")
    data = json.loads(result.stdout)
    for key in ("schema_version", "model", "input_shape", "batch", "dtype", "layers", "totals"):
        assert key in data
    layer = data["layers"][0]
    for key in ("name", "op", "inputs", "output_shape", "params", "macs", "flops", "activation_bytes", "receptive_field", "warnings"):
        assert key in layer
    assert layer["output_shape"] == [64, 224, 224]  # no batch dimension
    for key in ("params", "macs", "flops", "activation_bytes", "peak_activation_bytes", "training_activation_bytes", "param_bytes"):
        assert key in data["totals"]
    assert data["totals"]["macs"] == 2 * 15_470_264_320  # torchvision vgg16 GFLOPS 15.47, × batch 2
    assert data["totals"]["activation_bytes"] == sum(l["activation_bytes"] for l in data["layers"])


def test_summary_csv_has_raw_integers(cli):
    result = cli("summary", "lenet5", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    conv1 = rows[0]
    assert conv1["name"] == "conv1" and conv1["params"] == str(20 * 25 + 20)


def test_summary_markdown_and_lecture_columns(cli):
    result = cli("summary", "alexnet", "--columns", "lecture", "--format", "markdown")
    assert result.returncode == 0
    assert "| conv4 | 384 | 13 | 256 | 3 | 1 | 1 | 256 | 13 | 169 | 885 | 149.5 |" in result.stdout


def test_group_by_op(cli):
    result = cli("summary", "vgg16", "--group-by", "op", "--format", "csv")
    kinds = {row["kind"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    assert set(kinds) >= {"3×3 conv", "linear"}
    assert int(kinds["linear"]["macs"]) == 25088 * 4096 + 4096 * 4096 + 4096 * 1000


def test_input_override(cli):
    data = json.loads(cli("summary", "vgg16", "--input", "3x32x32", "--format", "json").stdout)
    assert data["input_shape"] == [3, 32, 32]


def test_list_shows_bundled_specs(cli):
    result = cli("list")
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert {"lenet5", "alexnet", "zfnet", "vgg11", "vgg13", "vgg16", "vgg19"} <= set(names)


def test_works_from_any_directory(cli, tmp_path):
    assert cli("summary", "alexnet", "--format", "json", cwd=tmp_path).returncode == 0


def one_error(result, *fragments):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    text = "\n".join(lines)
    for fragment in fragments:
        assert fragment in text, text
    return text


def test_missing_file(cli):
    one_error(cli("summary", "nope/net.yaml"), "nope/net.yaml", "no such file")


def test_unknown_bundled_name_suggests(cli):
    one_error(cli("summary", "alexnt"), "did you mean alexnet")


def test_bad_input_flag(cli):
    one_error(cli("summary", "alexnet", "--input", "3by224"), "--input", "3x224x224")


def test_bad_batch_and_dtype(cli):
    one_error(cli("summary", "alexnet", "--batch", "0"))
    one_error(cli("summary", "alexnet", "--dtype", "float64"), "float64")


def test_unknown_flag(cli):
    one_error(cli("summary", "alexnet", "--colour"), "--colour")


def test_typo_in_key_names_line_and_suggests(cli, spec_file):
    path = spec_file("name: t\ninput: 3x8x8\nlayers:\n  - conv2d: {out: 4, kernel: 3, strid: 2}\n")
    one_error(cli("summary", path), f"{path}:4:", "did you mean 'stride'")


def test_output_file_is_written_and_not_clobbered(cli, tmp_path):
    out = tmp_path / "report.json"
    assert cli("summary", "lenet5", "--format", "json", "-o", out).returncode == 0
    assert json.loads(out.read_text())["model"] == "lenet5"
    one_error(cli("summary", "alexnet", "--format", "json", "-o", out), "--force")
    assert json.loads(out.read_text())["model"] == "lenet5"
    assert cli("summary", "alexnet", "--format", "json", "-o", out, "--force").returncode == 0
    assert json.loads(out.read_text())["model"] == "alexnet"


def test_failed_run_leaves_no_output_file(cli, tmp_path, spec_file):
    bad = spec_file("name: t\ninput: 3x8x8\nlayers:\n  - conv2d: {out: 4, kernel: 30}\n")
    out = tmp_path / "r.md"
    one_error(cli("summary", bad, "--format", "markdown", "-o", out), "kernel spans 30")
    assert not out.exists()
    assert list(tmp_path.glob(".cnncost-*")) == []


def test_docs_op_table_is_current():
    from cnncost.render.opdocs import ops_markdown

    readme = (ROOT / "docs" / "ops.md").read_text()
    start = readme.index("\n", readme.index("<!-- ops-table:start")) + 1
    end = readme.index("<!-- ops-table:end")
    assert readme[start:end] == ops_markdown(), "regenerate with `cnncost ops --format markdown`"


@pytest.mark.parametrize("module", ["numpy", "onnx", "onnxruntime", "torch"])
def test_summary_does_not_import_numpy_or_any_extra(module):
    import subprocess
    import sys

    code = f"import sys; from cnncost.cli import main\ntry:\n main(['summary','vgg16','--format','json'])\nexcept SystemExit: pass\nprint({module!r} in sys.modules, file=sys.stderr)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stderr.strip().endswith("False")


def test_output_file_gets_the_usual_permissions(cli, tmp_path):
    import os
    import stat

    out = tmp_path / "report.csv"
    assert cli("summary", "lenet5", "--format", "csv", "-o", out).returncode == 0
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600
    out.chmod(0o640)
    assert cli("summary", "lenet5", "--format", "csv", "-o", out, "--force").returncode == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640  # an overwritten file keeps its mode


def test_fold_bn_says_so_in_the_table_and_json(cli):
    folded = cli("summary", "vgg11_bn", "--fold-bn")
    assert "batchnorm folded" in folded.stdout.splitlines()[0]
    assert "batchnorm folded" not in cli("summary", "vgg11_bn").stdout
    assert json.loads(cli("summary", "vgg11_bn", "--fold-bn", "--format", "json").stdout)["batchnorm_folded"] is True


def test_small_totals_are_not_repeated(cli, spec_file):
    # conv 3→32, 3×3 on 3×8×8: params = 32·3·3·3 + 32 = 896; MACs = 32·6·6 · 27 = 31,104
    path = spec_file("name: t\ninput: 3x8x8\nlayers:\n  - conv2d: {out: 32, kernel: 3}\n")
    out = cli("summary", path).stdout
    assert "Params: 896;" in out and "896 (896)" not in out
    assert "MACs: 31,104 (31.10 k) MACs" in out


def test_parameter_and_activation_memory_cannot_be_confused(cli):
    out = cli("summary", "lenet5").stdout
    assert "parameter memory" in out and "Activations" in out.splitlines()[2]
    assert "Memory" not in out.splitlines()[2] and "Receptive field" in out.splitlines()[2]


def test_verify_json_is_compact_and_versioned(cli):
    result = cli("verify", "lenet5", "--format", "json")
    assert result.stdout.count("\n") == 1
    assert json.loads(result.stdout)["schema_version"] == 1


def test_ops_marks_required_keys_and_describes_each_op(cli):
    lines = cli("ops").stdout.splitlines()
    conv = lines.index(next(line for line in lines if line.startswith("conv2d ")))
    assert "out*" in lines[conv] and "kernel*" in lines[conv] and "stride=1" in lines[conv]
    assert lines[conv + 1].strip().lower().startswith(("2-d", "2d", "convolution", "a 2"))


def test_a_piped_table_is_one_line_per_layer_with_every_cell(cli):
    data = json.loads(cli("summary", "densenet121", "--format", "json").stdout)
    lines = cli("summary", "densenet121").stdout.splitlines()
    rows = [line for line in lines if line.split() and line.split()[0] in {layer["name"] for layer in data["layers"]}]
    assert len(rows) == len(data["layers"])  # nothing wrapped onto a second line
    first = data["layers"][0]  # conv0: 64×112×112 output, 64·3·7·7 = 9,408 params (torchvision densenet121)
    assert rows[0].split()[:4] == [first["name"], first["op"], "64×112×112", "9.41"]


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_block_rows_render_in_every_format(cli, fmt):
    """`--depth 2` puts block subtotal rows in the view; each format names the block in the Op column (csv
    once crashed on a renamed attribute)."""
    result = cli("summary", "resnet18", "--depth", "2", "--format", fmt)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    if fmt != "json":
        assert "basic" in result.stdout  # resnet18's block, in the Op column of layer1's rows

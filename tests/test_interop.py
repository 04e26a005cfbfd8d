"""Outputs other tools can trust (issue 15, item 6): CSV keyed like JSON, pipes, stdin, ASCII terminals,
--quiet, shell completion. Expected values are read from the JSON contract or written out here."""
import csv
import io
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, run_cli


def _csv(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_summary_csv_headers_are_the_json_keys_and_names_carry_no_glyphs(cli):
    data = json.loads(cli("summary", "alexnet", "--format", "json").stdout)
    rows = _csv(cli("summary", "alexnet", "--format", "csv").stdout)
    assert set(rows[0]) <= set(data["layers"][0])
    assert [row["name"] for row in rows] == [layer["name"] for layer in data["layers"]]
    pool1 = next(row for row in rows if row["name"] == "pool1")  # 3-wide window, stride 2 on 56 rows: 1 unread
    layer = next(layer for layer in data["layers"] if layer["name"] == "pool1")
    assert json.loads(pool1["warnings"]) == layer["warnings"] != []
    assert json.loads(pool1["output_shape"]) == [64, 27, 27]  # ⌊(56 − 3)/2⌋ + 1 = 27
    assert json.loads(pool1["receptive_field"]) == layer["receptive_field"]


def test_group_by_csv_headers_are_the_by_kind_keys(cli):
    data = json.loads(cli("summary", "mobilenet_v1", "--format", "json").stdout)
    rows = _csv(cli("summary", "mobilenet_v1", "--group-by", "op", "--format", "csv").stdout)
    assert sorted(rows[0]) == sorted(data["by_kind"][0])
    assert sum(int(row["macs"]) for row in rows) == data["totals"]["macs"]


def test_block_receptive_field_has_the_layers_shape(cli):
    data = json.loads(cli("summary", "resnet18", "--format", "json").stdout)
    block = data["blocks"][0]
    assert set(block["receptive_field_axes"][0]) == set(data["layers"][0]["receptive_field"][0])
    assert [[a["size"], a["jump"]] for a in block["receptive_field_axes"]] == block["receptive_field"]


def test_dash_output_is_stdout(cli, tmp_path):
    result = cli("summary", "lenet5", "--format", "json", "-o", "-", cwd=tmp_path)
    assert json.loads(result.stdout)["model"] == "lenet5" and not (tmp_path / "-").exists()


def test_spec_from_stdin(cli):
    text = (ROOT / "specs" / "lenet5.yaml").read_text()
    piped = run_cli("summary", "-", "--format", "json", input=text)
    assert json.loads(piped.stdout)["totals"] == json.loads(cli("summary", "lenet5", "--format", "json").stdout)["totals"]
    bad = run_cli("summary", "-", input="name: x\ninput: 3x8x8\nlayers:\n  - conv2d: {out: 4, kernal: 3}\n")
    assert bad.returncode == 2 and bad.stderr.startswith("<stdin>:4:") and "did you mean 'kernel'" in bad.stderr


@pytest.mark.parametrize("args", [["list"], ["summary", "densenet201"], ["summary", "densenet201", "--format", "csv"], ["ops"]])
def test_a_closed_pipe_exits_0_quietly(args):
    command = " ".join([sys.executable, "-m", "cnncost", *args]) + " | head -1 >/dev/null"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and result.stderr == ""


@pytest.mark.parametrize("args", [["summary", "alexnet"], ["check", "alexnet"], ["compare", "vgg16", "alexnet"], ["ops"], ["verify", "lenet5"]])
def test_a_non_utf8_terminal_gets_ascii(args):
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    result = subprocess.run([sys.executable, "-m", "cnncost", *args], capture_output=True, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr.decode()
    result.stdout.decode("ascii")  # raises if anything but ASCII came out
    assert b"Traceback" not in result.stderr


def test_json_stays_lossless_on_an_ascii_terminal():
    # every non-ASCII character becomes a JSON \\u escape: ASCII bytes, and the same data once parsed
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    result = subprocess.run([sys.executable, "-m", "cnncost", "summary", "alexnet", "--format", "json"], capture_output=True, cwd=ROOT, env=env)
    assert result.returncode == 0 and b"Traceback" not in result.stderr
    utf8 = run_cli("summary", "alexnet", "--format", "json").stdout
    assert not utf8.isascii()  # there is something to escape (×, —)
    assert json.loads(result.stdout.decode("ascii")) == json.loads(utf8)


@pytest.mark.parametrize("fmt", ["csv", "markdown"])
def test_text_formats_get_stand_ins_on_an_ascii_terminal(fmt):
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    result = subprocess.run([sys.executable, "-m", "cnncost", "summary", "alexnet", "--format", fmt], capture_output=True, cwd=ROOT, env=env)
    assert result.returncode == 0 and b"Traceback" not in result.stderr
    expected = run_cli("summary", "alexnet", "--format", fmt).stdout
    from cnncost.cli import ASCII

    expected = "".join(ASCII.get(char, char) for char in expected)
    assert result.stdout.decode("ascii") == expected


def test_ascii_stand_ins_keep_the_meaning():
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    result = subprocess.run([sys.executable, "-m", "cnncost", "summary", "alexnet"], capture_output=True, cwd=ROOT, env=env)
    assert b"64x56x56" in result.stdout  # 64×56×56


def test_every_command_takes_quiet():
    from cnncost.cli import cli

    for name, command in cli.commands.items():
        assert any("--quiet" in param.opts for param in command.params), name


def test_quiet_silences_notes(tmp_path):
    (tmp_path / "net.yaml").write_text((ROOT / "specs" / "lenet5.yaml").read_text())
    (tmp_path / "budgets.yaml").write_text("lenet5: {params: 2M}\n")
    assert "skipped" in run_cli("check", tmp_path).stderr
    quiet = run_cli("check", tmp_path, "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""


def _complete(*words):
    env = {**os.environ, "COMP_WORDS": " ".join(("cnncost", *words)), "COMP_CWORD": str(len(words)), "_CNNCOST_COMPLETE": "bash_complete"}
    result = subprocess.run([sys.executable, "-c", "from cnncost.cli import cli; cli(prog_name='cnncost')"], capture_output=True, text=True, env=env, cwd=ROOT)
    return result.stdout.splitlines()


def test_shell_completion_of_commands_options_and_specs():
    assert "plain,check" in _complete("che")
    assert "plain,--junit-xml" in _complete("check", "--ju")
    specs = _complete("summary", "resnet1")
    assert {"plain,resnet18", "plain,resnet101", "plain,resnet152"} <= set(specs) and "file,resnet1" in specs


def test_check_says_what_it_checked(cli):
    result = json.loads(cli("check", "lenet5", "--verify", "--format", "json").stdout)
    assert "numpy verify" in result["specs"][0]["checks"]
    assert "numpy verify" in cli("check", "lenet5", "--verify").stdout
    assert "numpy verify" not in cli("check", "lenet5").stdout

"""Hostile input, round 2 (issue #16): resource bombs, CI-format injection, races on output files, and every
number validated. Each class has tests named for it; the style is tests/test_hostile.py's (exit code, one line,
file:line)."""
import json
import os
import resource
import subprocess
import sys
import time

import pytest

from cnncost.limits import MAX_EXPANSION_WORK, MAX_NODES, MAX_TEXT_CHARS
from test_hostile import HEAD, _write, blocks, deadline, layers, one_line, refused, run  # noqa: F401 (fixtures)


def limited_cli(*args, memory: int = 1 << 30, timeout: float = 60):
    """The real command under `ulimit -v` (RLIMIT_AS): a bomb that allocates past `memory` dies with a
    MemoryError traceback, which one_line() then rejects."""

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "cnncost", *map(str, args)], capture_output=True, timeout=timeout, preexec_fn=limit)
    return result, time.perf_counter() - start


# -- 1. bounded expansion ------------------------------------------------------------------------------


def splice_chain(levels: int, value: str, item: str) -> str:
    """Each block level passes on its argument spliced ten times into the next (`item` is how one copy is written)."""
    chain = "".join(
        f"  b{i}:\n    args: {{s: {value}}}\n    layers:\n      - b{i + 1}: {{s: {item}}}\n" for i in range(levels)
    )
    chain += f"  b{levels}:\n    args: {{s: {value}}}\n    layers:\n      - relu: {{name: n}}\n"
    return blocks(chain, "b0")


TEXT_BOMB = splice_chain(12, "x", "'a" + "${s}" * 10 + "'")  # 10^12 characters at the last level
LIST_BOMB = splice_chain(12, "[x]", "[" + ", ".join(["$s"] * 10) + "]")  # a list holding 10^12 items


def test_expansion_text_bomb_is_refused_at_once_in_bounded_memory(tmp_path):
    """The issue's 1,279-byte spec: within every other limit, it ran out of memory."""
    assert len(TEXT_BOMB) < 1300
    result, seconds = limited_cli("summary", _write(tmp_path / "bomb.yaml", TEXT_BOMB))
    line = one_line(result)
    assert f"text made from block arguments is over the limit of {MAX_TEXT_CHARS:,} characters" in line and ":19:" in line  # b3 calls b4 with 11,111 chars
    assert seconds < 20


def test_expansion_text_is_measured_while_it_is_made(tmp_path):
    """100,000 splices of a 9,999-character argument in one value would be a 1 GB string: refused at the second."""
    text = blocks("  b:\n    args: {s: x}\n    layers:\n      - relu: {name: '" + "${s}" * 100_000 + "'}\n", f"b: {{s: {'y' * 9_999}}}")
    result, seconds = limited_cli("summary", _write(tmp_path / "net.yaml", text), memory=512 << 20)
    assert f"text made from block arguments is over the limit of {MAX_TEXT_CHARS:,} characters" in one_line(result)


def test_expansion_list_bomb_is_refused_in_bounded_memory(tmp_path):
    result, seconds = limited_cli("summary", _write(tmp_path / "bomb.yaml", LIST_BOMB))
    assert f"over the limit of {MAX_TEXT_CHARS:,} characters or items" in one_line(result)
    assert seconds < 20


def test_expansion_cannot_splice_a_list_into_text(refused, tmp_path):
    path = _write(tmp_path / "net.yaml", blocks("  b:\n    args: {s: [1, 2]}\n    layers:\n      - relu: {name: 'a${s}'}\n", "b"))
    refused(["summary", path], "only numbers, true/false and text can be spliced", at=f"{path}:7:")


def test_expansion_text_at_the_limit_works_and_one_more_is_refused(run, refused, tmp_path):
    """Limits are on what is made, not on ordinary use: 'a' + 9,999 characters is exactly 10,000 and fine."""
    definitions = "  c:\n    args: {s: x}\n    layers: [identity]\n  b:\n    args: {s: x}\n    layers:\n      - c: {s: 'a${s}'}\n"
    path = _write(tmp_path / "net.yaml", blocks(definitions, f"b: {{s: {'y' * (MAX_TEXT_CHARS - 1)}}}"))
    code, out, err = run("summary", path, "--format", "json")
    assert code == 0, err
    path = _write(tmp_path / "net.yaml", blocks(definitions, f"b: {{s: {'y' * MAX_TEXT_CHARS}}}"))
    refused(["summary", path], f"over the limit of {MAX_TEXT_CHARS:,} characters", at=f"{path}:10:")


def test_expansion_layer_limit_counts_when_true_before_building(refused, tmp_path, monkeypatch):
    """`when: true` used to defeat the early bound: one repeat past MAX_NODES layers is refused before any is built."""
    import cnncost.spec.expand as expand

    built = []
    monkeypatch.setattr(expand.Expander, "bump", lambda self, loc: built.append(loc))
    repeats = MAX_NODES // 100 + 1  # 100 layers per block instance: MAX_NODES + 100 layers
    path = _write(tmp_path / "net.yaml", blocks("  b:\n    layers:\n      - relu: {repeat: 100, when: true}\n", f"b: {{repeat: {repeats}}}"))
    refused(["summary", path], f"more than {MAX_NODES:,} layers", at=f"{path}:8:")
    assert built == []


def test_expansion_of_exactly_the_maximum_layers_is_accepted(tmp_path):
    """The documented maximum works (aliases of repeats no longer count as layers) in bounded memory."""
    repeats = MAX_NODES // 100
    path = _write(tmp_path / "net.yaml", "name: t\ninput: 1\n" + "blocks:\n  b:\n    layers:\n      - relu: {repeat: 100}\n"
                  + f"layers:\n  - b: {{repeat: {repeats}}}\n")
    result, seconds = limited_cli("summary", path, "--format", "json", memory=2 << 30, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["by_kind"][0]["layers"] == MAX_NODES == 100 * repeats


def test_expansion_work_is_bounded_when_nothing_is_built(tmp_path):
    """10^8 skipped layers build nothing, but expanding them is work: refused once the work budget is spent."""
    text = ("name: t\ninput: 1\nblocks:\n  b:\n    layers:\n      - relu: {when: false}\n"
            "  b2:\n    layers:\n      - b: {repeat: 10000}\nlayers:\n  - b2: {repeat: 10000}\n")
    result, seconds = limited_cli("summary", _write(tmp_path / "net.yaml", text), timeout=120)
    assert f"takes more than {MAX_EXPANSION_WORK:,} steps" in one_line(result)


def test_expansion_chain_of_skipped_layers_resolves_in_linear_time(run, tmp_path):
    """10,000 block outputs along one chain of 10,000 skipped layers: 3 minutes when each walked the chain."""
    path = _write(tmp_path / "net.yaml", "name: t\ninput: 1\nblocks:\n  b:\n    layers:\n      - relu: {repeat: 10000, when: false}\n"
                  "layers:\n  - b: {repeat: 10000}\n  - relu\n")
    with deadline(15):
        code, out, err = run("summary", path, "--format", "json")
    assert code == 0, err
    assert [row["name"] for row in json.loads(out)["layers"]] == ["relu_1"]


# -- 3 (spec side). control characters in names, however YAML spells them -------------------------------


@pytest.mark.parametrize("spelled,code", [('"a\\0b"', "U+0000"), ('"a\\nb"', "U+000A"), ('"a\\rb"', "U+000D"),
                                          ('"a\\tb"', "U+0009"), ('"a\\x7fb"', "U+007F"), ('"a\\u2028b"', "U+2028"),
                                          ('"a\\x01b"', "U+0001"), ('"a\\Nb"', "U+0085")])
def test_names_refuse_control_characters(refused, tmp_path, spelled, code):
    path = _write(tmp_path / "net.yaml", layers(f"relu: {{name: {spelled}}}"))
    refused(["summary", path], code, at=f"{path}:4:")
    path = _write(tmp_path / "spec.yaml", HEAD.replace("name: t", f"name: {spelled}") + "layers: [relu]\n")
    refused(["summary", path], code, at=f"{path}:1:")


def test_names_made_by_splicing_refuse_control_characters(refused, tmp_path):
    """A block argument may carry a newline in a description-like text; spliced into a name it is refused."""
    path = _write(tmp_path / "net.yaml", blocks("  b:\n    args: {s: x}\n    layers:\n      - relu: {name: 'a${s}'}\n", 'b: {s: "1\\n::error::forged"}'))
    refused(["summary", path], "control character U+000A", at=f"{path}:7:")


def test_names_in_keys_refuse_control_characters(refused, tmp_path):
    path = _write(tmp_path / "net.yaml", blocks('  "b\\nx":\n    layers: [relu]\n', "relu"))
    refused(["summary", path], "control character U+000A", at=f"{path}:4:")


def test_descriptions_keep_newlines_and_tabs(run, tmp_path):
    path = _write(tmp_path / "net.yaml", layers("relu") + "description: |\n  two\n  \tlines\n")
    code, out, err = run("summary", path, "--format", "json")
    assert code == 0, err


# -- 6 (spec side). non-finite numbers ----------------------------------------------------------------------


@pytest.mark.parametrize("value", [".nan", ".NaN", ".inf", "-.inf", ".Inf", "!!float nan"])
def test_non_finite_numbers_in_specs_are_refused_with_a_place(refused, tmp_path, value):
    path = _write(tmp_path / "net.yaml", layers("relu") + f"reference:\n  top1: {value}\n")
    refused(["summary", path, "--format", "json"], "is not a finite number", at=f"{path}:6:")


@pytest.mark.parametrize("expression", ["${1.0e5}", "${" + "9" * 150 + ".0 * " + "9" * 40 + ".0}", "${x * 1.5}"])
def test_non_finite_numbers_from_expressions_are_refused(refused, tmp_path, expression):
    """A float overflowing to inf (or past 10^100) never reaches a result."""
    path = _write(tmp_path / "net.yaml", blocks(f"  b:\n    args: {{x: {10**99}}}\n    layers:\n      - dropout: {{p: '{expression}'}}\n", "b"))
    line = refused(["summary", path, "--format", "json"], at=f"{path}:7:")
    assert "over the limit of 10^100" in line or "cannot read" in line or "finite" in line, line


# -- 7. totals within the documented bound --------------------------------------------------------------


def branches(count: int, out: int) -> str:
    """`count` 1×1 convs, each reading the 1×1 input: per layer params = MACs = out, activation bytes = 4·out."""
    outputs = ", ".join(f"conv1d_{i + 1}" for i in range(count))  # every branch is an output, so every one runs
    return f"name: t\ninput: 1x1\noutputs: [{outputs}]\nlayers:\n" + f"  - conv1d: {{out: {out}, kernel: 1, bias: false, inputs: input}}\n" * count


def test_totals_over_10_to_100_are_refused(refused, tmp_path):
    """Each layer's 2.4·10^99 MACs (9.6·10^99 bytes) is within the bound; five layers' totals are not."""
    path = _write(tmp_path / "net.yaml", branches(5, 24 * 10**98))
    refused(["summary", path, "--format", "json"], "the totals", "macs", "over the limit of 10^100", at=str(path))


def test_totals_below_the_bound_are_accepted(run, tmp_path):
    path = _write(tmp_path / "net.yaml", branches(2, 10**99))
    code, out, err = run("summary", path, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["totals"]["macs"] == 2 * 10**99


# -- 8. block scope -----------------------------------------------------------------------------------------


def test_block_scope_names_are_local(refused, tmp_path):
    """docs/spec.md "Blocks": inside a block names are local; an outer layer is read only through `in`."""
    path = _write(tmp_path / "net.yaml", blocks("  b:\n    layers:\n      - relu: {inputs: stem}\n",
                                                "conv2d: {name: stem, out: 3, kernel: 1}", "b"))
    refused(["summary", path], "unknown layer 'stem' in block 'b_1'", "names inside a block are local", "`in`", at=f"{path}:6:")


def test_block_scope_input_is_only_the_graphs_at_top_level(refused, tmp_path):
    path = _write(tmp_path / "net.yaml", blocks("  b:\n    layers:\n      - relu: {inputs: input}\n", "relu", "b"))
    refused(["summary", path], "unknown layer 'input' in block 'b_1'", "names inside a block are local", at=f"{path}:6:")


def test_block_scope_still_reads_its_own_inner_paths(run, tmp_path):
    path = _write(tmp_path / "net.yaml", blocks("  inner:\n    layers: [relu]\n  b:\n    layers:\n      - inner: {name: i}\n"
                                                "      - add: {inputs: [i.relu_1, in]}\n", "b"))
    code, out, err = run("summary", path, "--format", "json")
    assert code == 0, err


# -- 5. every number validated once (cnncost.units, through cli.options.UserNumber) ---------------------------

DIGITS_5000 = "9" * 5000


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "Infinity", "-1", "1e3", "", "5%", DIGITS_5000])
def test_numbers_fail_on_increase_refuses_non_numbers(refused, value):
    refused(["diff", "lenet5", "alexnet", "--fail-on-increase", value], "--fail-on-increase", usage=True)


def test_numbers_fail_on_increase_reads_exact_percentages(run):
    code, out, err = run("diff", "lenet5", "lenet5", "--fail-on-increase", "0.1")
    assert code == 0, err


@pytest.mark.parametrize("value", ["-1", "1.5", "nan", str(2**64), DIGITS_5000, "seven"])
def test_numbers_seed_is_a_whole_number_from_zero(refused, value):
    refused(["verify", "lenet5", "--seed", value], "--seed must be a whole number from 0", usage=True)


def test_numbers_seed_at_the_top_of_its_range_works(run):
    code, out, err = run("verify", "lenet5", "--seed", str(2**64 - 1), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["seed"] == 2**64 - 1


@pytest.mark.parametrize("flag", ["--max-params", "--max-peak-activation-bytes", "--max-layer-macs"])
def test_numbers_5000_digit_budget_flags_are_one_line(refused, flag):
    refused(["check", "lenet5", flag, DIGITS_5000], "5,000 digits", "over the limit of 10^100")


def test_numbers_5000_digit_budget_in_a_spec_names_its_line(run, tmp_path):
    """`check` reports a spec's error in its report (and goes on to the next spec): exit 2, the place named."""
    path = _write(tmp_path / "net.yaml", layers("relu") + f"budget:\n  params: '{DIGITS_5000}'\n")
    code, out, err = run("check", path, "--format", "json")
    assert code == 2 and "Traceback" not in err, err
    (spec,) = json.loads(out)["specs"]
    assert (spec["error"]["line"], spec["status"]) == (6, "error") and "5,000 digits" in spec["error"]["message"]


def test_numbers_5000_digit_budget_in_a_budgets_file(refused, tmp_path):
    budgets = _write(tmp_path / "budgets.yaml", f"lenet5:\n  macs: '{DIGITS_5000}G'\n")
    refused(["check", "lenet5", "--budgets", budgets], "5,000 digits", "over the limit of 10^100", at=str(budgets))


def test_numbers_max_memory_of_5000_digits(refused):
    refused(["verify", "lenet5", "--max-memory", DIGITS_5000 + "GiB"], "over the limit of 10^100", usage=True)


@pytest.mark.parametrize("source", ["a" * 300, "a/" * 3000 + "net.yaml", "x" * 5000])
def test_numbers_long_spec_arguments_are_one_line(refused, source):
    """A 300-character name is too long for a file system (ENAMETOOLONG); it was a traceback."""
    line = refused(["summary", source], "no such file")
    assert len(line) < 1100


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_numbers_ascii_only_stdout_gets_ascii_output(tmp_path, fmt):
    """PYTHONIOENCODING=ascii: a traceback (UnicodeEncodeError on ×) before; now ASCII, and JSON still parses."""
    path = _write(tmp_path / "网络.yaml", "name: réseau\ninput: 3x8x8\nlayers:\n  - conv2d: {name: 卷积, out: 4, kernel: 3}\n  - relu: {name: 🔥}\n")
    result = subprocess.run([sys.executable, "-m", "cnncost", "summary", str(path), "--format", fmt], capture_output=True,
                            env={**os.environ, "PYTHONIOENCODING": "ascii"}, timeout=60)
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode("ascii")
    if fmt == "json":
        data = json.loads(text)
        assert data["model"] == "réseau" and [row["name"] for row in data["layers"]] == ["卷积", "🔥"]
    else:
        assert "\\u5377\\u79ef" in text  # 卷积, escaped
    missing = subprocess.run([sys.executable, "-m", "cnncost", "summary", str(tmp_path / "缺.yaml")], capture_output=True,
                             env={**os.environ, "PYTHONIOENCODING": "ascii"}, timeout=60)
    assert missing.returncode == 2 and missing.stderr.decode("ascii").count("\n") == 1


# -- 4. -o never destroys a file without --force, checked when the file appears --------------------------------


def appears_midway(monkeypatch, target, make):
    """While the report is rendered (after the up-front check), something takes the target name."""
    import cnncost.render.text

    render = cnncost.render.text.to_json

    def render_then_race(report):
        make(target)
        return render(report)

    monkeypatch.setattr(cnncost.render.text, "to_json", render_then_race)


def test_output_created_during_the_run_is_not_overwritten(refused, tmp_path, monkeypatch):
    target = tmp_path / "report.json"
    appears_midway(monkeypatch, target, lambda path: path.write_text("precious\n"))
    refused(["summary", "lenet5", "--format", "json", "-o", target], "appeared while cnncost ran", "--force", at=str(target))
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_output_dangling_symlink_created_during_the_run_is_kept(refused, tmp_path, monkeypatch):
    target = tmp_path / "report.json"
    appears_midway(monkeypatch, target, lambda path: path.symlink_to(tmp_path / "elsewhere"))
    refused(["summary", "lenet5", "--format", "json", "-o", target], "appeared while cnncost ran", at=str(target))
    assert target.is_symlink() and not (tmp_path / "elsewhere").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_output_dangling_symlink_is_refused_up_front(refused, tmp_path):
    target = tmp_path / "report.json"
    target.symlink_to(tmp_path / "elsewhere")
    refused(["summary", "lenet5", "--format", "json", "-o", target], "already exists", "--force", at=str(target))
    assert target.is_symlink() and not (tmp_path / "elsewhere").exists()


def test_output_with_force_still_replaces(run, tmp_path, monkeypatch):
    target = tmp_path / "report.json"
    appears_midway(monkeypatch, target, lambda path: path.write_text("old\n"))
    code, out, err = run("summary", "lenet5", "--format", "json", "-o", target, "--force")
    assert code == 0, err
    assert json.loads(target.read_text())["model"] == "lenet5"


def test_output_without_hard_links_is_still_exclusive(run, refused, tmp_path, monkeypatch):
    """A file system without hard links (FAT): an exclusive create keeps the rule."""
    import errno

    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "report.json"
    code, out, err = run("summary", "lenet5", "--format", "json", "-o", target)
    assert code == 0, err
    assert json.loads(target.read_text())["model"] == "lenet5"
    other = tmp_path / "other.json"
    appears_midway(monkeypatch, other, lambda path: path.write_text("precious\n"))
    refused(["summary", "lenet5", "--format", "json", "-o", other], "appeared while cnncost ran")
    assert other.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.json", "report.json"]


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_output_temp_file_is_removed_on_signals(run, tmp_path, monkeypatch, signame):
    import signal

    signum = getattr(signal, signame)
    target = _write(tmp_path / "report.txt", "precious\n")

    def killed(fd):
        os.kill(os.getpid(), signum)  # arrives while the temp file is written, not yet renamed
        time.sleep(1)

    monkeypatch.setattr(os, "fsync", killed)
    code, out, err = run("summary", "lenet5", "--format", "csv", "-o", target, "--force")
    assert (code, err.strip()) == (128 + signum, "interrupted")
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL or signame != "SIGTERM"  # the handler is put back


# -- 2. memory limits the process really has --------------------------------------------------------------------


def fake_system(tmp_path, cgroup_line: str, files: dict, available_kib: int = 64 * 2**20):
    """A /proc and /sys/fs/cgroup of our own: MemAvailable 64 GiB unless given, one cgroup, its files."""
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "meminfo").write_text(f"MemTotal: 100000000 kB\nMemAvailable: {available_kib} kB\n")
    (proc / "self" / "status").write_text("Name: python\nVmSize:   262144 kB\n")
    (proc / "self" / "cgroup").write_text(cgroup_line + "\n")
    root = tmp_path / "cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return str(proc), str(root)


def test_memory_limit_of_cgroup_v2(tmp_path):
    from cnncost.memlimit import usable_memory

    proc, root = fake_system(tmp_path, "0::/ci/job", {"ci/job/memory.max": f"{2**30}\n", "ci/job/memory.current": f"{2**28}\n"})
    assert usable_memory(proc, root) == (2**30 - 2**28, "the cgroup memory limit")  # 1 GiB − 256 MiB in use


def test_memory_limit_of_cgroup_v1_seen_from_inside_a_container(tmp_path):
    """The container's own cgroup is mounted at the root, not under the host's path /docker/abc."""
    proc, root = fake_system(tmp_path, "4:memory:/docker/abc", {"memory/memory.limit_in_bytes": f"{3 * 2**30}\n",
                                                                 "memory/memory.usage_in_bytes": f"{2**30}\n"})
    assert usable_memory_of(proc, root) == (2 * 2**30, "the cgroup memory limit")


def usable_memory_of(proc, root):
    from cnncost.memlimit import usable_memory

    return usable_memory(proc, root)


def test_memory_limit_unlimited_cgroups_fall_back_to_available_ram(tmp_path):
    proc, root = fake_system(tmp_path, "0::/", {"memory.max": "max\n", "memory.current": "5\n"}, available_kib=2**20)
    assert usable_memory_of(proc, root) == (2**30, "available RAM")
    proc, root = fake_system(tmp_path / "v1", "4:memory:/", {"memory/memory.limit_in_bytes": "9223372036854771712\n"}, available_kib=2**20)
    assert usable_memory_of(proc, root) == (2**30, "available RAM")


def test_memory_limit_of_ulimit_v_less_the_address_space_in_use(tmp_path, monkeypatch):
    import cnncost.memlimit

    proc, root = fake_system(tmp_path, "0::/", {})
    monkeypatch.setattr(cnncost.memlimit.resource, "getrlimit", lambda which: (2**30, 2**30))
    assert usable_memory_of(proc, root) == (2**30 - 2**28, "ulimit -v")  # VmSize 256 MiB already used


def ulimit_and_verify(*args, headroom: int):
    """The real command with RLIMIT_AS = the interpreter's own address space after importing numpy + headroom."""
    probe = subprocess.run([sys.executable, "-c", "import numpy, cnncost.verify, cnncost.cli;"
                            "print(open('/proc/self/status').read().split('VmSize:')[1].split()[0])"],
                           capture_output=True, text=True, timeout=60)
    limit = int(probe.stdout) * 1024 + headroom

    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run([sys.executable, "-m", "cnncost", *map(str, args)], capture_output=True, timeout=120, preexec_fn=apply)


BIG = "name: big\ninput: 16x1024x1024\nlayers:\n  - conv2d: {out: 16, kernel: 3, padding: 1}\n"  # ~1.2 GiB to verify


def test_memory_limit_ulimit_refuses_verify_up_front(tmp_path):
    """Under `ulimit -v`, verify refused by the estimate, one line, exit 2 (a numpy MemoryError traceback before)."""
    result = ulimit_and_verify("verify", _write(tmp_path / "big.yaml", BIG), headroom=400 << 20)
    line = one_line(result)
    assert "verify would need about" in line and "over the limit of" in line


def test_memory_limit_check_still_reports_every_other_spec(tmp_path):
    result = ulimit_and_verify("check", _write(tmp_path / "big.yaml", BIG), "lenet5", "--verify", "--format", "json", headroom=400 << 20)
    assert result.returncode == 2, result.stderr[-2000:]
    big, lenet5 = json.loads(result.stdout)["specs"]
    assert big["status"] == "error" and "verify would need about" in big["error"]["message"]
    assert lenet5["status"] == "pass"


def test_memory_error_anywhere_is_one_line(refused, run, monkeypatch):
    """A limit tighter than any estimate saw: the MemoryError becomes one line, and `check` goes on."""
    import cnncost.verify

    def out_of_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(cnncost.verify.ForwardRun, "layers", out_of_memory)
    refused(["verify", "lenet5"], "out of memory")
    code, out, err = run("check", "lenet5", "alexnet", "--verify", "--format", "json")
    assert code == 2 and "Traceback" not in err
    assert [spec["status"] for spec in json.loads(out)["specs"]] == ["error", "error"]
    assert "ran out of memory" in json.loads(out)["specs"][1]["error"]["message"]


# -- 3. nothing user-written can forge CI output ----------------------------------------------------------------

FORGED = "x\n::add-mask::secret\n::error file=a.yaml::forged\r::warning::cr"


def github_lines_are_ours(text: str) -> list:
    """GitHub reads a workflow command only at the start of a line (\\n or \\r ends one): every such line must
    be one of cnncost's `::error file=…` annotations."""
    import re

    lines = re.split(r"\r\n|\r|\n", text)
    commands = [line for line in lines if line.lstrip().startswith("::")]
    assert all(line.startswith("::error file=") for line in commands), commands
    return commands


def hostile_folder(tmp_path):
    folder = tmp_path / FORGED.replace("\r", "")  # a file name may hold a newline; not a CR here (the check is the same)
    folder.mkdir()
    return folder


def test_ci_github_path_with_newlines_cannot_forge_commands(run, tmp_path):
    folder = hostile_folder(tmp_path)
    good = _write(folder / "ok.yaml", layers("relu"))
    bad = _write(folder / "bad.yaml", layers("nope"))
    code, out, err = run("check", good, bad, "--format", "github")
    assert code == 2, err
    commands = github_lines_are_ours(out)
    assert len(commands) == 1 and "%0A%3A%3Aadd-mask%3A%3Asecret" in commands[0]  # properties escape : and ,
    assert len(out.splitlines()) == 4  # one annotation, two verdicts, the summary: the newlines stayed escaped


def test_ci_github_message_escapes_percent_and_line_breaks(run, tmp_path):
    from cnncost.render.ci import _escape_data, _escape_property

    assert _escape_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert _escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_ci_junit_stays_valid_for_any_path(run, tmp_path):
    import xml.etree.ElementTree as ET

    folder = tmp_path / "a\x01\x1b[31m<&>\x7f\u2028\ufffe"
    folder.mkdir()
    path = _write(folder / "net.yaml", layers("nope"))
    code, out, err = run("check", path, "lenet5", "--format", "junit")
    root = ET.fromstring(out)
    assert root.get("tests") == "2" and root.get("errors") == "1"


@pytest.mark.parametrize("name", ["a|b", "a\\|b", "|||", "a | b | c"])
def test_ci_markdown_rows_keep_their_columns(run, tmp_path, name):
    import re

    path = _write(tmp_path / "net.yaml", layers(f"relu: {{name: '{name}'}}", "relu"))
    code, out, err = run("summary", path, "--format", "markdown")
    assert code == 0, err
    rows = [line for line in out.splitlines() if line.startswith("|")]
    widths = {len(re.split(r"(?<!\\)\|", row)) for row in rows}
    assert len(widths) == 1, rows


def test_ci_markdown_cells_flatten_line_breaks():
    from cnncost.render.text import _md

    assert _md("a\nb|c\r\nd") == "a b\\|c d"


# -- 6. strict JSON, always -------------------------------------------------------------------------------------


def strict(text: str):
    def refuse(constant):
        raise AssertionError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("args", [
    ("summary", "lenet5", "--format", "json"),
    ("verify", "lenet5", "--format", "json"),
    ("check", "lenet5", "--format", "json"),
    ("compare", "lenet5", "alexnet", "--format", "json"),
    ("diff", "lenet5", "alexnet", "--format", "json"),
    ("schema",),
], ids=lambda args: args[0])
def test_strict_json_from_every_command(run, args):
    code, out, err = run(*args)
    assert code in (0, 1), err
    strict(out)


def test_strict_json_refuses_to_print_non_finite_numbers():
    from cnncost.errors import CnnCostError
    from cnncost.render.strictjson import dumps

    assert strict(dumps({"x": 1.5, "y": [1, 2]})) == {"x": 1.5, "y": [1, 2]}
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(CnnCostError, match="not a finite number"):
            dumps({"top1": bad})

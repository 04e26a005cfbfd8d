"""Hostile input: every way a spec, a file or a flag can be wrong gets exit 2 and one line naming the problem
(and file:line:col when the spec has a place for it) — never a traceback, a hang, or work done for nothing.

Most cases run `cnncost.cli.main` in-process for speed; a handful run the real command in a subprocess with a
timeout, so a regression that hangs fails instead of stalling CI. Limits are those of cnncost/limits.py and
docs/conventions.md "Limits".
"""
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest

from cnncost.cli import main
from cnncost.limits import MAX_NAME_CHARS, MAX_NODES, MAX_SPEC_BYTES

HEAD = "name: t\ninput: 3x8x8\n"


@contextmanager
def deadline(seconds: float):
    """Fail instead of hanging: SIGALRM interrupts an in-process run that takes too long."""

    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def run(capsys):
    """`cnncost ARGS` in-process, under a 20 s deadline: (exit code, stdout, stderr)."""

    def call(*args):
        capsys.readouterr()
        with deadline(20), pytest.raises(SystemExit) as info:
            main([str(arg) for arg in args])
        out, err = capsys.readouterr()
        return info.value.code, out, err

    return call


@pytest.fixture
def refused(run):
    """Assert exit 2, nothing on stdout, no traceback, one line on stderr holding every fragment."""

    def check(args, *fragments, at: str | None = None, usage: bool = False) -> str:
        """`usage`: a bad flag, where click prints its usage lines above the one error line."""
        code, out, err = run(*args)
        assert code == 2, (code, out[:300], err[:300])
        assert out == "" and "Traceback" not in err
        lines = [line for line in err.splitlines() if line.strip()]
        if usage:
            assert lines[0].startswith("Usage: cnncost") and lines[-1].startswith("Error: "), err[:2000]
            lines = lines[-1:]
        assert len(lines) == 1, err[:2000]
        for fragment in fragments:
            assert fragment in lines[0], lines[0]
        if at is not None:
            assert lines[0].startswith(at), lines[0]
        return lines[0]

    return check


def timed_cli(*args, timeout: float = 30, input: bytes | None = None, cwd=None):
    """The real command in a subprocess that is killed (and the test failed) if it runs past `timeout`."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "cnncost", *map(str, args)], capture_output=True, timeout=timeout, input=input, cwd=cwd
    )
    return result, time.perf_counter() - start


def one_line(result) -> str:
    stderr = result.stderr.decode()
    assert result.returncode == 2, (result.returncode, stderr[:500])
    assert result.stdout == b"" and "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr[:2000]
    return lines[0]


def layers(*lines: str) -> str:
    return HEAD + "layers:\n" + "".join(f"  - {line}\n" for line in lines)


def blocks(definitions: str, *lines: str) -> str:
    return HEAD + "blocks:\n" + definitions + "layers:\n" + "".join(f"  - {line}\n" for line in lines)


def nested_brackets(depth: int) -> str:
    return "[" * depth + "]" * depth


def billion_laughs(levels: int = 9) -> str:
    rows = ["lol0: &lol0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    rows += [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 10)}]" for i in range(1, levels)]
    return HEAD + "reference:\n" + "".join(f"  {row}\n" for row in rows) + "layers: [relu]\n"


def block_chain(depth: int) -> str:
    chain = "".join(f"  b{i}:\n    layers: [b{i + 1}]\n" for i in range(depth))
    return HEAD + "blocks:\n" + chain + f"  b{depth}:\n    layers: [relu]\n" + "layers: [b0]\n"


REPEAT_BOMB = blocks("  inner:\n    layers:\n      - relu: {repeat: 10000}\n", "inner: {repeat: 10000}")
TEN_DIGITS_100 = str(10**100)

# (case id, spec text, fragments the one error line must hold, spec line it must point at or None)
SPEC_CASES = [
    # -- malformed YAML --------------------------------------------------------------------------------
    ("unclosed_flow_sequence", layers("relu: {out: [1, 2}"), ["YAML syntax error"], 4),
    ("unclosed_quote", layers("relu: {name: 'abc}"), ["YAML syntax error", "end of stream"], 5),
    ("stray_closing_brackets", layers("relu") + "]]]\n", ["YAML syntax error"], 5),
    ("second_document", layers("relu") + "---\nname: u\n", ["YAML syntax error", "another document"], 5),
    ("undefined_alias", layers("*nope"), ["YAML syntax error", "undefined alias"], 4),
    ("unsupported_yaml_version", "%YAML 9.9\n---\n" + layers("relu"), ["YAML syntax error"], 1),
    ("tab_indentation", HEAD + "layers:\n\t- relu\n", ["tab is used for indentation", "spaces"], 4),
    ("tab_inside_block_mapping", HEAD + "reference:\n  params: 1\n\tmacs: 2\nlayers: [relu]\n", ["tab"], 5),
    ("control_character", layers("relu") + "# bell \x07\n", ["control character U+0007"], 5),
    ("top_level_list", "- relu\n- conv2d\n", ["a spec must be a mapping"], 1),
    ("top_level_scalar", "42\n", ["a spec must be a mapping"], 1),
    ("comments_only", "# just a comment\n", ["spec is empty"], 1),
    ("complex_mapping_key", HEAD + "? [a, b]\n: 1\nlayers: [relu]\n", ["mapping keys must be plain names"], 3),
    ("duplicate_top_level_key", layers("relu") + "name: u\n", ["duplicate key 'name'", "first at line 1"], 5),
    ("duplicate_layer_key", layers("conv2d: {out: 4, out: 5, kernel: 3}"), ["duplicate key 'out'"], 4),
    # -- YAML tags that would construct objects or read as something else ----------------------------
    ("python_object_apply_os_system", HEAD + "layers: !!python/object/apply:os.system ['echo pwned']\n",
     ["python/object/apply:os.system", "not allowed", "plain data only"], 3),
    ("python_object_on_layer", layers("relu: !!python/object:os.system {}"), ["python/object:os.system", "not allowed"], 4),
    ("python_object_new", HEAD + "description: !!python/object/new:subprocess.Popen [[ls]]\nlayers: [relu]\n", ["not allowed"], 3),
    ("python_name", HEAD.replace("name: t", "name: !!python/name:os.system ''") + "layers: [relu]\n", ["not allowed"], 1),
    ("python_module", HEAD + "reference: !!python/module:os ''\nlayers: [relu]\n", ["not allowed"], 3),
    ("local_tag", HEAD + "layers: !custom [relu]\n", ["'!custom' is not allowed"], 3),
    ("set_tag", layers("relu") + "reference: !!set {a, b}\n", ["tag:yaml.org,2002:set", "not allowed"], 5),
    ("int_tag_on_text", layers("conv2d: {out: !!int abc, kernel: 1}"), ["cannot read 'abc' as int"], 4),
    ("impossible_date", layers("relu") + "description: 2024-13-45\n", ["cannot read '2024-13-45' as timestamp"], 5),
    ("bool_tag_on_text", layers("conv2d: {out: 4, kernel: 1, bias: !!bool maybe}"), ["cannot read 'maybe' as bool"], 4),
    ("float_tag_on_nothing", layers("dropout: {p: !!float ''}"), ["cannot read '' as float"], 4),
    ("terminal_escape_in_name", layers('relu: {name: "a\\e]0;title\\a"}'), ["control character U+001B", "remove the escape"], 4),
    ("c1_csi_in_description", layers("relu") + 'description: "a\\x9b2Jb"\n', ["control character U+009B"], 5),
    ("merge_key", HEAD + "base: &b {out: 3}\nlayers:\n  - conv2d: {<<: *b, kernel: 1}\n", ["merge keys (<<)"], 5),
    # -- aliases, nesting, recursion, cycles --------------------------------------------------------------
    ("billion_laughs", billion_laughs(), ["more than 1,000,000 YAML nodes", "aliases"], None),
    ("self_referencing_anchor", HEAD + "layers: &l [relu, *l]\n", ["nested deeper than 64 levels"], 3),
    ("yaml_nested_200_deep", layers("relu") + "reference: " + nested_brackets(200) + "\n", ["nested deeper than 64"], 5),
    ("yaml_nested_100000_deep", layers("relu") + "reference: " + nested_brackets(100_000) + "\n", ["nest"], 5),
    ("blocks_nested_40_deep", block_chain(40), ["blocks nested deeper than 32 levels"], None),
    ("block_uses_itself", blocks("  a:\n    layers: [a]\n", "a"), ["block 'a' uses itself (a → a)"], 5),
    ("blocks_use_each_other", blocks("  a:\n    layers: [b]\n  b:\n    layers: [a]\n", "a"), ["(a → b → a)", "recursive"], 7),
    ("layer_cycle", layers("relu: {name: a, inputs: b}", "relu: {name: b, inputs: a}"), ["cycle", "→"], None),
    ("layer_reads_itself", layers("relu: {name: a, inputs: a}"), ["cycle: a → a"], 4),
    ("skipped_layers_loop", layers("relu: {name: a, inputs: b, when: false}", "relu: {name: b, inputs: a, when: false}",
                                   "relu: {inputs: a}"), ["loop of skipped layers"], 5),
    # -- repeat counts ------------------------------------------------------------------------------------
    ("repeat_zero", layers("relu: {repeat: 0}"), ["`repeat` must be a positive integer, not 0"], 4),
    ("repeat_negative", layers("relu: {repeat: -3}"), ["positive integer, not -3"], 4),
    ("repeat_float", layers("relu: {repeat: 2.5}"), ["positive integer, not 2.5"], 4),
    ("repeat_string", layers("relu: {repeat: '3'}"), ["positive integer, not '3'"], 4),
    ("repeat_boolean", layers("relu: {repeat: true}"), ["positive integer, not True"], 4),
    ("repeat_over_limit", layers("relu: {repeat: 10001}"), ["`repeat: 10001` is over the limit of 10,000"], 4),
    ("repeat_10_to_24", layers("relu: {repeat: 1000000000000000000000000}"), ["over the limit of 10,000"], 4),
    ("nested_repeats_multiply", REPEAT_BOMB, [f"more than {MAX_NODES:,} layers", "lower a repeat count"], 8),
    # -- sizes: zero, negative, float, boolean, string, null, huge -----------------------------------------
    ("kernel_zero", layers("conv2d: {out: 4, kernel: 0}"), ["'kernel' must be at least 1, not 0"], 4),
    ("kernel_negative", layers("conv2d: {out: 4, kernel: -3}"), ["'kernel' must be at least 1, not -3"], 4),
    ("out_float", layers("conv2d: {out: 4.5, kernel: 3}"), ["'out' must be an integer, not 4.5"], 4),
    ("out_boolean", layers("conv2d: {out: true, kernel: 3}"), ["'out' must be an integer, not True"], 4),
    ("out_string", layers("conv2d: {out: four, kernel: 3}"), ["'out' must be an integer, not 'four'"], 4),
    ("out_null", layers("conv2d: {out: null, kernel: 3}"), ["'out' must be an integer, not None"], 4),
    ("out_infinite", layers("conv2d: {out: .inf, kernel: 3}"), ["'.inf' is not a finite number"], 4),
    ("stride_zero", layers("conv2d: {out: 4, kernel: 3, stride: 0}"), ["'stride' must be at least 1"], 4),
    ("padding_word", layers("conv2d: {out: 4, kernel: 3, padding: full}"), ["'same' or 'valid', not 'full'"], 4),
    ("kernel_list_too_long", layers("conv2d: {out: 4, kernel: [1, 2, 3]}"), ["needs 2 value(s)"], 4),
    ("kernel_larger_than_input", layers("conv2d: {out: 4, kernel: 1000000000000000000000000000000}"),
     ["kernel spans 1000000000000000000000000000000", "padded input is only 8 wide"], 4),
    ("out_of_5000_digits", layers("conv2d: {out: " + "9" * 5000 + ", kernel: 1}"), ["as int", "5,000 characters"], 4),
    ("out_over_10_to_100", layers(f"conv2d: {{out: {TEN_DIGITS_100}0, kernel: 1}}"), ["over the limit of 10^100"], 4),
    ("input_zero", "name: t\ninput: 3x0x8\nlayers: [relu]\n", ["dimension below 1"], 2),
    ("input_negative", "name: t\ninput: -3x8\nlayers: [relu]\n", ["cannot read input shape '-3x8'", "3x224x224"], 2),
    ("input_float", "name: t\ninput: 3.5\nlayers: [relu]\n", ["cannot read input shape 3.5"], 2),
    ("input_boolean", "name: t\ninput: true\nlayers: [relu]\n", ["cannot read input shape True"], 2),
    ("input_string", "name: t\ninput: three\nlayers: [relu]\n", ["cannot read input shape 'three'"], 2),
    ("input_five_dims", "name: t\ninput: 1x2x3x4x5\nlayers: [relu]\n", ["must have 1 to 4 dims"], 2),
    ("input_of_5000_digits", "name: t\ninput: 3x" + "9" * 5000 + "\nlayers: [relu]\n", ["over the limit of 10^100"], 2),
    ("input_10_to_200", f"name: t\ninput: 1x1{'0' * 200}\nlayers: [relu]\n", ["over the limit of 10^100"], 2),
    ("elements_over_10_to_100", f"name: t\ninput: 1x{10**60}x{10**60}\nlayers: [relu]\n",
     ["layer 'relu_1' (relu)", "go over the limit of 10^100"], 3),
    # -- unknown ops and keys, bad layer entries ----------------------------------------------------------
    ("unknown_op_suggests", layers("conv2dd: {out: 4, kernel: 1}"), ["unknown op or block 'conv2dd'", "did you mean 'conv2d'"], 4),
    ("unknown_op_far_from_any", layers("frobnicate"), ["unknown op or block 'frobnicate'"], 4),
    ("unknown_key_suggests", layers("conv2d: {out: 4, kernel: 3, strid: 2}"), ["unknown key 'strid'", "did you mean 'stride'"], 4),
    ("unknown_top_level_key", HEAD + "layer:\n  - relu\n", ["unknown key 'layer'", "did you mean 'layers'"], 3),
    ("op_written_as_key", layers("{op: relu}"), ["unknown op or block 'op'"], 4),
    ("two_ops_in_one_entry", layers("{relu: {}, sigmoid: {}}"), ["a layer must be an op name"], 4),
    ("layer_is_a_number", layers("3"), ["a layer must be an op name"], 4),
    ("settings_not_a_mapping", layers("relu: [1]"), ["must be a mapping like {key: value}"], 4),
    ("layers_not_a_list", HEAD + "layers: {relu: 1}\n", ["`layers` must be a non-empty list"], 3),
    ("missing_layers", HEAD, ["spec is missing `layers`"], 1),
    ("name_not_text", "name: [a]\ninput: 3\nlayers: [relu]\n", ["`name` must be text"], 1),
    # -- names -------------------------------------------------------------------------------------------
    ("duplicate_layer_name", layers("relu: {name: a}", "relu: {name: a}"), ["duplicate layer name 'a'"], 5),
    ("reserved_layer_name", layers("relu: {name: input}"), ["'input' is reserved"], 4),
    ("dotted_layer_name", layers("relu: {name: a.b}"), ["'a.b' is reserved or contains '.'"], 4),
    ("empty_layer_name", layers("relu: {name: ''}"), ["a layer name must be text, not ''"], 4),
    ("layer_name_too_long", layers("relu: {name: " + "n" * 100_000 + "}"),
     ["100,000 characters long", f"the limit is {MAX_NAME_CHARS}"], 4),
    ("block_name_is_an_op", blocks("  relu:\n    layers: [sigmoid]\n", "relu"), ["block name 'relu' is already an op"], 4),
    ("unknown_input_name", layers("relu: {inputs: nope}"), ["unknown layer 'nope'"], 4),
    ("unknown_output_name", HEAD + "output: nope\nlayers: [relu]\n", ["unknown layer 'nope'"], 3),
    # -- blocks ------------------------------------------------------------------------------------------
    ("block_missing_argument", blocks("  b:\n    args: {out: null}\n    layers:\n      - conv2d: {out: $out, kernel: 1}\n", "b"),
     ["block 'b' needs argument 'out'", "add `out: ...`"], 9),
    ("block_unknown_argument", blocks("  b:\n    args: {out: 4}\n    layers: [relu]\n", "b: {wdth: 2}"),
     ["unknown key 'wdth' for block 'b'"], 8),
    ("block_output_not_a_name", blocks("  b:\n    output: 3\n    layers: [relu]\n", "b"), ["`output` of block 'b' must be a layer name"], 5),
    ("block_without_layers", blocks("  b: {}\n", "b"), ["block 'b' needs a non-empty `layers` list"], 4),
    ("block_given_two_inputs", blocks("  b:\n    layers: [relu]\n", "relu", "b: {inputs: [input, relu_1]}"), ["takes one input, got 2"], 8),
    # -- expressions: never Python -------------------------------------------------------------------------
    ("expression_import_os", layers("conv2d: {out: \"${__import__('os').system('touch pwned')}\", kernel: 1}"),
     ["cannot read", "in expression"], 4),
    ("shell_arithmetic", layers("conv2d: {out: '$((1))', kernel: 1}"), ["'out' must be an integer, not '$((1))'"], 4),
    ("power_operator", layers("conv2d: {out: '${9**9**9}', kernel: 1}"), ["exponent 387420489 is over the limit"], 4),
    ("expression_too_long", layers("conv2d: {out: '${" + "1+" * 150 + "1}', kernel: 1}"), ["longer than 200 characters"], 4),
    ("expression_number_too_large", blocks(f"  b:\n    args: {{x: {TEN_DIGITS_100}0}}\n    layers:\n"
                                           "      - conv2d: {out: '${x * x}', kernel: 1}\n", "b"),
     ["over the limit of 10^100"], 7),
    ("expression_big_int_to_float", blocks(f"  b:\n    args: {{x: {10**90}}}\n    layers:\n"
                                           "      - conv2d: {out: '${x * x * x / 2}', kernel: 1}\n", "b"),
     ["over the limit of 10^100"], 7),
    ("expression_attribute", layers("conv2d: {out: '${x.__class__}', kernel: 1}"), ["cannot read '.__class__'"], 4),
    ("expression_string_literal", layers("conv2d: {out: \"${'a' * 9}\", kernel: 1}"), ["cannot read"], 4),
    ("expression_unknown_function", layers("conv2d: {out: '${exec(1)}', kernel: 1}"), ["unknown function 'exec'"], 4),
    ("expression_unknown_name", layers("conv2d: {out: '${width}', kernel: 1}"), ["unknown name 'width'"], 4),
    ("expression_division_by_zero", layers("conv2d: {out: '${4 // 0}', kernel: 1}"), ["division by zero"], 4),
    ("expression_nested_40_deep", layers("conv2d: {out: '${" + "(" * 40 + "1" + ")" * 40 + "}', kernel: 1}"),
     ["nested deeper than 32 levels"], 4),
    ("expression_unbalanced", layers("conv2d: {out: '${(1 + 2}', kernel: 1}"), ["expression ends too early"], 4),
    # -- shapes that do not fit ---------------------------------------------------------------------------
    ("conv_on_flat_input", layers("flatten", "conv2d: {out: 4, kernel: 1}"), ["expects a C×H×W input"], 5),
    ("add_of_different_shapes", layers("conv2d: {out: 2, kernel: 3}", "add: {inputs: [input, conv2d_1]}"), ["cannot add"], 5),
    ("mul_of_different_ranks", layers("global_avgpool", "mul: {inputs: [input, global_avgpool_1]}"),
     ["different numbers of axes", "keepdims"], 5),
    ("concat_of_different_sizes", layers("conv2d: {out: 2, kernel: 3}", "concat: {inputs: [input, conv2d_1]}"), ["cannot concat"], 5),
    ("groups_do_not_divide", layers("conv2d: {out: 4, kernel: 3, groups: 2}"), ["groups=2 must divide"], 4),
]


@pytest.mark.parametrize("text,fragments,line", [pytest.param(*case[1:], id=case[0]) for case in SPEC_CASES])
def test_bad_spec_is_one_clear_line(refused, tmp_path, text, fragments, line):
    path = tmp_path / "net.yaml"
    path.write_text(text, encoding="utf-8", newline="")
    at = f"{path}:{line}:" if line else f"{path}"
    refused(["summary", path, "--format", "json"], *fragments, at=at)


def test_there_are_at_least_60_named_cases():
    ids = [case[0] for case in SPEC_CASES]
    assert len(ids) == len(set(ids)) >= 60


def test_nothing_in_a_spec_runs(refused, tmp_path):
    marker = tmp_path / "pwned"
    for text in (
        HEAD + f"layers: !!python/object/apply:os.system ['touch {marker}']\n",
        layers(f"conv2d: {{out: \"${{__import__('os').system('touch {marker}')}}\", kernel: 1}}"),
        HEAD + f"name: !!python/object/apply:subprocess.call [[touch, {marker}]]\nlayers: [relu]\n",
    ):
        (tmp_path / "net.yaml").write_text(text)
        refused(["summary", tmp_path / "net.yaml"])
        assert not marker.exists()


# -- files that are not specs ---------------------------------------------------------------------------


def test_empty_file(refused, tmp_path):
    (tmp_path / "empty.yaml").write_bytes(b"")
    refused(["summary", tmp_path / "empty.yaml"], "spec is empty", at=f"{tmp_path / 'empty.yaml'}:1:")


def test_binary_file(refused, tmp_path):
    (tmp_path / "net.yaml").write_bytes(bytes(range(256)) * 4)
    refused(["summary", tmp_path / "net.yaml"], "file is binary, not a YAML spec", at=str(tmp_path / "net.yaml"))


def test_directory(refused, tmp_path):
    refused(["summary", tmp_path], "is a directory, not a spec file", at=str(tmp_path))


def test_missing_file(refused, tmp_path):
    refused(["summary", tmp_path / "nope.yaml"], "no such file", at=str(tmp_path / "nope.yaml"))


def test_non_utf8_text_names_the_line(refused, tmp_path):
    (tmp_path / "net.yaml").write_bytes(b"name: t\ninput: 3x8x8\ndescription: r\xe9seau\nlayers: [relu]\n")
    refused(["summary", tmp_path / "net.yaml"], "not UTF-8", "save it as UTF-8", at=f"{tmp_path / 'net.yaml'}:3")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod-000 file anyway; the next test covers the message")
def test_unreadable_file(refused, tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(layers("relu"))
    path.chmod(0)
    refused(["summary", path], "not readable (permission denied)", at=str(path))


def test_unreadable_file_message_even_as_root(refused, tmp_path, monkeypatch):
    """Tests run as root, where chmod 000 does not stop reading: make open() itself refuse instead."""
    import cnncost.spec.yamlload as yamlload

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    path = tmp_path / "net.yaml"
    path.write_text(layers("relu"))
    monkeypatch.setattr(yamlload, "open", denied, raising=False)
    refused(["summary", path], "not readable (permission denied)", at=str(path))


def test_50_mb_spec_is_refused_before_reading(refused, tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "wb") as handle:  # sparse: 50 MB on paper, nothing to read
        handle.truncate(50 * 1024 * 1024)
    start = time.perf_counter()
    refused(["summary", path], "52,428,800 bytes", f"the limit is {MAX_SPEC_BYTES:,}", at=str(path))
    assert time.perf_counter() - start < 1


def test_spec_over_the_limit_through_a_pipe_is_refused_not_truncated():
    """A pipe has no size up front: the reader must notice the 4 MiB + 1st byte, not parse a truncated spec."""
    text = (layers("relu") + "# " + "x" * 1000 + "\n") * (MAX_SPEC_BYTES // 1000 + 10)
    result, seconds = timed_cli("summary", "/dev/stdin", input=text.encode())
    assert "over the limit of 4,194,304 bytes" in one_line(result)
    assert seconds < 20


def test_file_exactly_at_the_limit_is_read(run, tmp_path):
    text = layers("relu")
    text += "#" * (MAX_SPEC_BYTES - len(text) - 1) + "\n"
    (tmp_path / "net.yaml").write_text(text)
    code, out, err = run("summary", tmp_path / "net.yaml", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["totals"]["flops"] == 3 * 8 * 8


# -- inputs that must work ------------------------------------------------------------------------------


def summary_json(run, path, *flags) -> dict:
    code, out, err = run("summary", path, "--format", "json", *flags)
    assert code == 0 and err == "", err
    return json.loads(out)


RESIDUAL = layers("conv2d: {name: a, out: 3, kernel: 3, padding: 1}", "relu", "add: {inputs: [relu_1, input]}")


@pytest.mark.parametrize(
    "newline,prefix",
    [("\r\n", ""), ("\r", ""), ("\n", "\ufeff"), ("\r\n", "\ufeff")],
    ids=["windows_crlf", "old_mac_cr", "utf8_bom", "bom_and_crlf"],
)
def test_line_endings_and_bom_work(run, tmp_path, newline, prefix):
    plain = summary_json(run, _write(tmp_path / "lf.yaml", RESIDUAL))
    other = summary_json(run, _write(tmp_path / "other.yaml", prefix + RESIDUAL.replace("\n", newline)))
    assert other["layers"] == plain["layers"] and other["totals"] == plain["totals"]


def test_crlf_errors_still_name_the_line(refused, tmp_path):
    path = _write(tmp_path / "net.yaml", layers("relu", "conv2d: {out: 4, kernel: 3, strid: 2}").replace("\n", "\r\n"))
    refused(["summary", path], "did you mean 'stride'", at=f"{path}:5:")


def test_unicode_names_work(run, tmp_path):
    text = "name: réseau\ninput: 3x8x8\nlayers:\n  - conv2d: {name: 卷积, out: 4, kernel: 3}\n  - relu: {name: 🔥}\n"
    path = _write(tmp_path / "网络.yaml", text)
    data = summary_json(run, path)
    assert data["model"] == "réseau" and [row["name"] for row in data["layers"]] == ["卷积", "🔥"]
    code, out, _ = run("summary", path, "--format", "csv")
    assert code == 0 and '卷积,conv2d,"[4,6,6]"' in out  # CSV: output_shape as in JSON
    code, out, _ = run("summary", path)
    assert code == 0 and "🔥" in out


def test_ten_to_the_twelve_elements_are_answered_with_exact_integers(run, tmp_path):
    path = _write(tmp_path / "net.yaml", "name: t\ninput: 1x1000000x1000000\nlayers:\n  - conv2d: {out: 8, kernel: 3}\n")
    data = summary_json(run, path, "--batch", "3")
    side = 1_000_000 - 2
    row = data["layers"][0]
    assert row["output_shape"] == [8, side, side]
    assert row["macs"] == 3 * 8 * side * side * 9  # 71,999,712,000,288 per sample ×3: no float rounding
    assert row["activation_bytes"] == 3 * 8 * side * side * 4
    assert data["totals"]["peak_activation_bytes"] == 3 * 4 * (10**12 + 8 * side * side)


def test_ten_to_the_eighty_elements_are_still_exact(run, tmp_path):
    path = _write(tmp_path / "net.yaml", f"name: t\ninput: 1x{10**40}x{10**40}\nlayers:\n  - conv2d: {{out: 2, kernel: 1}}\n")
    data = summary_json(run, path)
    assert data["totals"]["macs"] == 2 * 10**80 and data["totals"]["params"] == 4
    code, out, err = run("summary", path)  # the table prints these numbers too
    assert code == 0 and err == "" and "T" in out


def test_verify_refuses_ten_to_the_twelve_elements_before_allocating(refused, tmp_path, monkeypatch):
    import cnncost.verify

    def must_not_run(*args, **kwargs):
        raise AssertionError("verify allocated arrays for a run it should have refused")

    monkeypatch.setattr(cnncost.verify.ForwardRun, "layers", must_not_run)
    path = _write(tmp_path / "net.yaml", "name: t\ninput: 1x1000000x1000000\nlayers:\n  - conv2d: {out: 8, kernel: 3}\n")
    refused(["verify", path], "verify would need about", "over the limit", "--max-memory")
    refused(["verify", path, "--max-memory", "1GiB"], "over the limit of 1.0 GiB")


def test_verify_counts_the_padded_copy_of_a_pooling(refused, run, tmp_path):
    """A 1×1 input padded by 20,000 on each side: a 6 GiB padded copy for a 1-element output."""
    path = _write(tmp_path / "net.yaml", "name: t\ninput: 1x1x1\nlayers:\n  - maxpool2d: {kernel: 40001, padding: 20000}\n")
    refused(["verify", path, "--max-memory", "1GiB"], "over the limit of 1.0 GiB")
    small = _write(tmp_path / "small.yaml", "name: t\ninput: 1x1x1\nlayers:\n  - maxpool2d: {kernel: 41, padding: 20}\n")
    code, out, err = run("verify", small, "--format", "json", "--max-memory", "1GiB")
    assert code == 0 and json.loads(out)["passed"], err


def test_bad_flags(refused):
    refused(["summary", "alexnet", "--input", "3x0x8"], "--input", "below 1", usage=True)
    refused(["summary", "alexnet", "--input", "3x" + "9" * 5000], "--input", "over the limit of 10^100", usage=True)
    refused(["summary", "alexnet", "--batch", "-1"], "--batch", usage=True)
    refused(["summary", "alexnet", "--batch", "9" * 200], "go over the limit of 10^100", "--batch")
    refused(["verify", "lenet5", "--max-memory", "lots"], "cannot read --max-memory", usage=True)
    refused(["summary", "alexnet", "--no-such-flag"], "--no-such-flag", usage=True)


def test_a_huge_echoed_value_keeps_the_message_one_readable_line(refused, tmp_path):
    path = _write(tmp_path / "net.yaml", layers("x" * 1_000_000))
    line = refused(["summary", path], "unknown op or block", at=f"{path}:4:")
    assert len(line) < 1100 and line.endswith("blocks are defined under `blocks:`)")


# -- bounded time and memory (subprocess + timeout, so a regression fails instead of hanging) ------------


def test_nested_repeats_hit_the_node_limit_at_once():
    """repeat 10,000 of a block that repeats 10,000: 10^8 layers are refused before any is built."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = _write(os.path.join(folder, "bomb.yaml"), REPEAT_BOMB)
        result, seconds = timed_cli("summary", path, timeout=30)
    assert f"more than {MAX_NODES:,} layers" in one_line(result)
    assert seconds < 5


def test_billion_laughs_is_refused_quickly(tmp_path):
    path = _write(tmp_path / "lol.yaml", billion_laughs())
    result, seconds = timed_cli("summary", path, timeout=30)
    assert "more than 1,000,000 YAML nodes" in one_line(result)
    assert seconds < 10


def test_long_name_multiplied_by_repeats_is_refused_before_using_memory(refused, tmp_path):
    """A 400 kB name in a block repeated 10,000 times would be 4 GB of names."""
    path = _write(tmp_path / "net.yaml", blocks("  b:\n    layers:\n      - relu: {name: " + "n" * 400_000 + "}\n", "b: {repeat: 10000}"))
    with deadline(5):
        refused(["summary", path], "400,006 characters long")


def test_receptive_field_jumps_cannot_grow_without_bound(refused, tmp_path):
    """Each stride multiplies the jump; 400 strides of 10^60 would make 24,000-digit numbers."""
    text = "name: t\ninput: 1x1\nlayers:\n  - conv1d: {out: 1, kernel: 1, stride: " + "1" + "0" * 60 + ", repeat: 400}\n"
    with deadline(5):
        refused(["summary", _write(tmp_path / "net.yaml", text)], "receptive field go over the limit of 10^100")


def test_expressions_cannot_grow_numbers_through_nested_blocks(refused, tmp_path):
    """Each level squares its argument; without a bound 32 levels would need 2^32-fold digits."""
    chain = "".join(f"  b{i}:\n    args: {{x: 1}}\n    layers:\n      - b{i + 1}: {{x: '${{x * x * x * x}}'}}\n" for i in range(30))
    chain += "  b30:\n    args: {x: 1}\n    layers:\n      - conv2d: {out: $x, kernel: 1}\n"
    with deadline(5):
        refused(["summary", _write(tmp_path / "net.yaml", blocks(chain, "b0: {x: 10}"))], "over the limit of 10^100")


def test_verify_counts_the_padded_channels_of_lrn(refused, tmp_path):
    """LRN pads its squares with size − 1 zero channels: size 10^12 on 1×1×1 is terabytes, refused up front."""
    path = _write(tmp_path / "net.yaml", "name: t\ninput: 1x1x1\nlayers:\n  - lrn: {size: 1000000000000}\n")
    refused(["verify", path, "--max-memory", "1GiB"], "over the limit of 1.0 GiB")


@pytest.mark.parametrize("op", ["conv2d: {out: 2, kernel: 1, stride: 1000000000000000000000000000000}",
                                "avgpool2d: {kernel: 1, stride: [1, 100000000000000000000]}",
                                "conv2d: {out: 2, kernel: 1, dilation: 100000000000000000000}"])
def test_verify_refuses_settings_numpy_cannot_index(refused, run, tmp_path, op):
    """A stride past a 1-wide output or a dilation of a 1-tap kernel is legal and changes nothing for the
    analysis, but overflows numpy's 64-bit strides."""
    path = _write(tmp_path / "net.yaml", f"name: t\ninput: 2x3x3\nlayers:\n  - {op}\n")
    assert summary_json(run, path)["layers"][0]["output_shape"][1:] in ([1, 1], [3, 1], [3, 3])
    refused(["verify", path], "too large for numpy's 64-bit indexing", at=f"{path}:4:")


def test_deep_specs_do_not_depend_on_the_callers_stack(run, tmp_path):
    """Blocks 31 deep around a 32-deep expression, called from 400 frames down (an application embedding
    cnncost): expression nesting is bounded by the language, not by Python's recursion limit."""
    chain = "".join(f"  b{i}:\n    args: {{x: 1}}\n    layers:\n      - b{i + 1}: {{x: $x}}\n" for i in range(31))
    expression = "(" * 32 + "x" + ")" * 32
    chain += f"  b31:\n    args: {{x: 1}}\n    layers:\n      - conv2d: {{out: '${{{expression}}}', kernel: 1}}\n"
    path = _write(tmp_path / "net.yaml", blocks(chain, "b0: {x: 5}"))

    def deep(frames: int):
        return deep(frames - 1) if frames else run("summary", path, "--format", "json")

    code, out, err = deep(400)
    assert code == 0, err
    assert json.loads(out)["layers"][0]["output_shape"] == [5, 8, 8]


def test_expression_functions_take_one_or_more_arguments(run, tmp_path):
    path = _write(tmp_path / "net.yaml", layers("conv2d: {out: '${min(4)}', kernel: 1}", "conv2d: {out: '${max(2, 7, 3)}', kernel: 1}"))
    assert [row["output_shape"][0] for row in summary_json(run, path)["layers"]] == [4, 7]


# -- --output: atomic, never clobbering ------------------------------------------------------------------


def test_output_is_not_clobbered_without_force(refused, run, tmp_path):
    out = _write(tmp_path / "report.json", "precious\n")
    refused(["summary", "lenet5", "--format", "json", "-o", out], "already exists", "--force", at=str(out))
    assert out.read_text() == "precious\n"
    code, _, err = run("summary", "lenet5", "--format", "json", "-o", out, "--force")
    assert code == 0, err
    assert json.loads(out.read_text())["model"] == "lenet5"


def test_rendering_that_fails_midway_leaves_the_old_report(run, tmp_path, monkeypatch):
    import cnncost.render.text

    def half_rendered(report):
        raise RuntimeError("renderer crashed half-way")

    out = _write(tmp_path / "report.json", "precious\n")
    monkeypatch.setattr(cnncost.render.text, "to_json", half_rendered)
    with pytest.raises(RuntimeError):
        main(["summary", "lenet5", "--format", "json", "-o", str(out), "--force"])
    assert out.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_ctrl_c_while_writing_leaves_the_old_report_and_no_temp_file(run, tmp_path, monkeypatch, fmt):
    out = _write(tmp_path / "report.txt", "precious\n")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)  # the temp file is written, not yet renamed
    code, stdout, err = run("summary", "lenet5", "--format", fmt, "-o", out, "--force")
    assert (code, stdout, err.strip()) == (130, "", "interrupted")
    assert out.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]


def test_a_failed_write_is_one_line_and_leaves_nothing(refused, tmp_path, monkeypatch):
    out = _write(tmp_path / "report.json", "precious\n")

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    refused(["summary", "lenet5", "--format", "json", "-o", out, "--force"], "cannot write --output", "No space left", at=str(out))
    assert out.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_output_into_an_unwritable_place(refused):
    refused(["summary", "lenet5", "-o", "/proc/cnncost-report.txt"], "cannot write --output")


def test_output_never_replaces_a_device_or_pipe(refused, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    refused(["summary", "lenet5", "-o", fifo, "--force"], "not a regular file", at=str(fifo))
    assert fifo.is_fifo()


def test_output_directory_and_missing_folder(refused, tmp_path):
    refused(["summary", "lenet5", "-o", tmp_path], "'--output'", "is a directory", usage=True)
    refused(["summary", "lenet5", "-o", tmp_path / "no" / "such" / "r.json"], "--output folder does not exist")


# -- the real command, end to end ------------------------------------------------------------------------


def test_subprocess_tag_error_is_one_line(tmp_path):
    path = _write(tmp_path / "net.yaml", HEAD + "layers: !!python/object/apply:os.system ['echo pwned']\n")
    result, _ = timed_cli("summary", path)
    assert one_line(result).startswith(f"{path}:3:9: error: YAML tag")


def test_subprocess_crlf_and_unicode_work(tmp_path):
    path = _write(tmp_path / "net.yaml", "name: réseau\r\ninput: 3x8x8\r\nlayers:\r\n  - relu: {name: 激活}\r\n")
    result, _ = timed_cli("summary", path, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["layers"][0]["name"] == "激活"


def test_subprocess_50_mb_spec(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# " + b"x" * (50 * 1024 * 1024))
    result, seconds = timed_cli("summary", path)
    assert "the limit is 4,194,304" in one_line(result)
    assert seconds < 10


def _write(path, text: str):
    from pathlib import Path

    path = Path(path)
    path.write_text(text, encoding="utf-8", newline="")
    return path

"""`cnncost search`: random points plus hill-climbing, within budgets, reproducible with --seed."""
import csv
import io
import json

import pytest

from cnncost.errors import CnnCostError
from cnncost.search import neighbours, parse_space

STAGES = """
name: stages
args: {w1: 16, w2: 32, d1: 1, d2: 1, res: 32}
input: 3x${res}x${res}
blocks:
  unit:
    args: {out: null, stride: 1}
    layers:
      - conv2d: {out: $out, kernel: 3, stride: $stride, padding: 1, bias: false}
      - relu
layers:
  - unit: {name: s1, out: $w1, repeat: $d1, first: {stride: 2}}
  - unit: {name: s2, out: $w2, repeat: $d2, first: {stride: 2}}
  - global_avgpool
  - linear: {out: 10}
"""
SPACE = ("--set", "w1=8,16,24,32", "--set", "w2=16,32,48,64", "--set", "d1=1..4", "--set", "d2=1..4")


@pytest.fixture
def stages(tmp_path):
    path = tmp_path / "stages.yaml"
    path.write_text(STAGES)
    return path


def test_space_reads_choices_and_ranges():
    assert parse_space(["d=1..3", "w=8,16"]) == {"d": [1, 2, 3], "w": [8, 16]}
    with pytest.raises(CnnCostError, match="must run upwards"):
        parse_space(["d=3..1"])


def test_neighbours_move_one_argument_one_step_or_trade_two():
    assert neighbours({"a": 2, "b": "x"}, {"a": [1, 2, 3], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"}, {"a": 3, "b": "x"}, {"a": 2, "b": "y"},  # one step
        {"a": 1, "b": "y"},  # b up, a down (a up needs b below "x", which does not exist)
    ]


def _rows(result):
    return list(csv.DictReader(io.StringIO(result.stdout)))


def _best_params(cli, stages, *extra):
    result = cli("search", stages, *SPACE, "--max-macs", "2M", "--objective", "params", "--format", "csv", *extra)
    assert result.returncode == 0, result.stderr
    return _rows(result)[0]


def test_search_of_the_whole_space_agrees_with_the_grid(cli, stages):
    # 4·4·4·4 = 256 points: with --samples 256 the random phase sees each once, so it must find the sweep's answer
    grid = cli("sweep", stages, "--set", "w1=8,16,24,32", "--set", "w2=16,32,48,64", "--set", "d1=1,2,3,4",
               "--set", "d2=1,2,3,4", "--max-macs", "2M", "--best", "params", "--format", "csv")
    assert grid.returncode == 0, grid.stderr
    best = _rows(grid)[0]
    top = _best_params(cli, stages, "--samples", "256")
    assert (top["w1"], top["w2"], top["d1"], top["d2"], top["Params"]) == (best["w1"], best["w2"], best["d1"], best["d2"], best["Params"])


def test_refinement_never_loses_to_its_random_start(cli, stages):
    for seed in ("0", "1", "2"):
        start = _best_params(cli, stages, "--samples", "8", "--refine", "0", "--seed", seed)
        refined = _best_params(cli, stages, "--samples", "8", "--refine", "5", "--seed", seed)
        assert int(refined["Params"]) >= int(start["Params"]) and int(refined["MACs"]) <= 2_000_000


def test_same_seed_same_search(cli, stages):
    runs = [cli("search", stages, *SPACE, "--max-macs", "2M", "--objective", "-macs", "--samples", "10", "--seed", "7",
                "--format", "json").stdout for _ in range(2)]
    assert runs[0] == runs[1]
    doc = json.loads(runs[0])
    assert doc["best"] is not None and all(p["fits"] or p["over"] == ["macs"] for p in doc["points"])


def test_no_point_within_budget_exits_1(cli, stages):
    result = cli("search", stages, *SPACE, "--max-macs", "1k", "--objective", "params", "--samples", "5")
    assert result.returncode == 1 and "no point found is within the budget" in result.stderr


@pytest.mark.parametrize("args, message", [
    (("--set", "w1=abc", "--objective", "params"), "at w1=abc"),
    (("--set", "ww1=8,16", "--objective", "params"), "did you mean 'w1'"),
    (("--set", "w1=8,16", "--objective", "accuracy"), "unknown key 'accuracy'"),
    (("--objective", "params"), "search needs a space"),
])
def test_bad_input_is_exit_2(cli, stages, args, message):
    result = cli("search", stages, *args)
    assert result.returncode == 2, result.stdout
    assert message in result.stderr and "Traceback" not in result.stderr

"""`cnncost sweep`: grids, budgets, --best, the Pareto front, formats, exit codes and parallel runs."""
import csv
import io
import json

import pytest

from cnncost.errors import CnnCostError
from cnncost.sweep import Point, best, grid, make_job, pareto, parse_axes, run

GRID = ("--set", "alpha=0.25,0.5,0.75,1.0", "--set", "res=128,160,192,224")


def test_grid_is_every_combination_last_axis_fastest():
    assert grid(parse_axes(["a=1,2", "b=x,y,z"])) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"},
        {"a": 2, "b": "x"}, {"a": 2, "b": "y"}, {"a": 2, "b": "z"},
    ]


def test_grid_is_bounded():
    with pytest.raises(CnnCostError, match="more than 10,000 points"):
        grid(parse_axes(["a=" + ",".join(map(str, range(101))), "b=" + ",".join(map(str, range(100)))]))


def _point(macs, params, top1=None, over=()):
    return Point({"m": macs}, {"macs": macs, "params": params, "top1": top1}, over)


def test_best_maximises_or_minimises_within_budget():
    points = [_point(10, 5), _point(30, 1, over=("macs",)), _point(20, 9)]
    assert best(points, "macs").metrics["macs"] == 20  # 30 is over budget
    assert best(points, "-params").metrics["params"] == 5
    assert best([_point(1, 1, over=("macs",))], "macs") is None


def test_pareto_front_keeps_the_undominated():
    # (macs, top1): (10, 60) and (20, 70) trade off; (20, 65) is beaten by (20, 70); (30, 69) by (20, 70)
    # a second (10, 60) adds nothing to the front
    points = [_point(10, 0, 60), _point(20, 0, 65), _point(20, 0, 70), _point(30, 0, 69), _point(10, 0, 60)]
    assert [(p.metrics["macs"], p.metrics["top1"]) for p in pareto(points, "macs", "top1")] == [(10, 60), (20, 70)]


def test_sweep_table_rows_match_summary(cli):
    result = cli("sweep", "mobilenet_v1", *GRID, "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["points"]) == 16 and doc["args"] == ["alpha", "res"]
    point = doc["points"][4 * 2 + 1]  # alpha 0.75, res 160
    assert point["args"] == {"alpha": 0.75, "res": 160}
    single = json.loads(cli("summary", "mobilenet_v1", "--set", "alpha=0.75", "--set", "res=160", "--format", "json").stdout)
    for key in ("params", "macs", "flops", "peak_activation_bytes", "training_activation_bytes", "param_bytes"):
        assert point[key] == single["totals"][key], key
    # published top-1 only where the paper has the point: Table 6, 0.5 MobileNet-224 is 63.7 %
    by_args = {(p["args"]["alpha"], p["args"]["res"]): p["top1"] for p in doc["points"]}
    assert by_args[(0.5, 224)] == 63.7 and by_args[(0.5, 160)] is None


def test_budget_and_best(cli):
    # the largest MobileNet under 300 M MACs: of the 16, 1.0-160 has 290.68 M MACs (Table 7 prints 290), and
    # 0.75-224 has 325.4 M (Table 6: 325) — over
    result = cli("sweep", "mobilenet_v1", *GRID, "--max-macs", "300M", "--best", "macs", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["alpha"], r["res"]) for r in rows] == [("1.0", "160")]
    cheapest = cli("sweep", "mobilenet_v1", *GRID, "--best", "-params", "--format", "csv")
    assert list(csv.DictReader(io.StringIO(cheapest.stdout)))[0]["alpha"] == "0.25"


def test_budget_marks_points_over(cli):
    doc = json.loads(cli("sweep", "mobilenet_v1", *GRID, "--max-macs", "300M", "--format", "json").stdout)
    over = [(p["args"]["alpha"], p["args"]["res"]) for p in doc["points"] if not p["fits"]]
    # MACs above 300 M: 0.75-224 (325.4 M), 1.0-192 (418.1 M), 1.0-224 (568.7 M)
    assert over == [(0.75, 224), (1.0, 192), (1.0, 224)]
    assert doc["best"] is None and doc["budgets"] == {"macs": 300_000_000}


def test_no_point_within_budget_exits_1(cli):
    result = cli("sweep", "mobilenet_v1", "--set", "alpha=0.25,0.5", "--max-macs", "1M", "--best", "macs")
    assert result.returncode == 1
    assert "no point is within the budget" in result.stderr


@pytest.mark.parametrize("args, message", [
    (("--set", "alpha=abc"), "at alpha=abc"),
    (("--set", "alhpa=0.5"), "did you mean 'alpha'"),
    (("--set", "alpha=0.5,,1"), "empty value"),
    (("--set", "alpha"), "must be NAME=VALUE"),
    (("--set", "alpha=0.5", "--best", "speed"), "unknown key 'speed'"),
    (("--set", "alpha=0.5", "--max-macs", "lots"), "lots"),
])
def test_bad_input_is_exit_2(cli, args, message):
    result = cli("sweep", "mobilenet_v1", *args)
    assert result.returncode == 2, result.stdout
    assert message in result.stderr and "Traceback" not in result.stderr


def test_values_file(cli, tmp_path):
    values = tmp_path / "points.yaml"
    values.write_text("- {alpha: 0.5, res: 160}\n- {alpha: 1.0}\n")
    doc = json.loads(cli("sweep", "mobilenet_v1", "--values", values, "--format", "json").stdout)
    assert [p["args"] for p in doc["points"]] == [{"alpha": 0.5, "res": 160}, {"alpha": 1.0}]
    assert doc["points"][1]["top1"] == 70.6  # defaults res 224: Table 8's 1.0 MobileNet-224


def test_parallel_run_matches_serial_in_order():
    points = grid(parse_axes(["alpha=0.25,0.5,0.75,1.0", "res=" + ",".join(str(r) for r in range(96, 256, 8))]))
    job = make_job("mobilenet_v1")
    parallel = run(job, points, processes=2)
    serial = run(job, points, processes=1)
    assert [p.args for p in parallel] == points
    assert parallel == serial


def test_plot_marks_the_front(cli, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "front.png"
    result = cli("sweep", "mobilenet_v1", *GRID, "--plot", out, "--x", "macs", "--y", "top1", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

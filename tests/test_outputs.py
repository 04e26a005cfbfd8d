"""Several outputs and unused layers: weights that exist are counted; work that never runs is not."""
import json

import pytest

import cnncost
from cnncost.errors import CnnCostError
from cnncost.spec import load_text
from cnncost.verify import verify_spec

TWO_HEADS = """
name: two_heads
input: 3x8x8
outputs: [main, aux]
layers:
  - conv2d: {name: stem, out: 4, kernel: 3, padding: 1}
  - conv2d: {name: main, out: 2, kernel: 1}
  - conv2d: {name: aux, out: 5, kernel: 1, inputs: stem}
  - conv2d: {name: dead, out: 7, kernel: 1, inputs: stem}
"""


def analyze(text):
    return cnncost.analyze(load_text(text))


def test_every_listed_output_runs_and_a_layer_reaching_none_is_unused():
    report = analyze(TWO_HEADS)
    rows = {row.name: row for row in report.layers}
    assert report.outputs == ("main", "aux")
    assert report.unused == ("dead",)
    assert [name for name, row in rows.items() if row.unused] == ["dead"]
    # stem: 4·3·3·3 MACs per position over 8·8 = 6,912; main: 2·4·64 = 512; aux: 5·4·64 = 1,280; dead (7·4·64) not run
    assert report.totals.macs == 6_912 + 512 + 1_280
    # params: stem 4·27+4 = 112, main 2·4+2 = 10, aux 5·4+5 = 25, dead 7·4+7 = 35 (its weights exist)
    assert report.totals.params == 112 + 10 + 25 + 35
    # activations of what runs: (4 + 2 + 5) channels × 64 positions × 4 B
    assert report.totals.activation_bytes == 11 * 64 * 4


def test_the_peak_keeps_every_output_alive_and_skips_unused_layers():
    report = analyze(TWO_HEADS)
    # input 3·64·4 = 768 B, freed once stem (1,024 B) has run: 1,792 B then. main (512 B) runs while stem stays
    # alive for aux; aux (1,280 B) runs with main kept (an output): 1,024 + 512 + 1,280 = 2,816 B. dead never runs.
    assert report.totals.peak_activation_bytes == 2_816
    assert report.totals.peak_layer == "aux"


def test_json_marks_unused_layers_and_lists_the_outputs():
    data = json.loads(json.dumps(analyze(TWO_HEADS).to_dict()))
    assert data["outputs"] == ["main", "aux"]
    assert [layer["name"] for layer in data["layers"] if layer["unused"]] == ["dead"]
    assert data["unused_layers"] == ["dead"]


def test_verify_runs_what_runs_and_still_checks_unused_layers():
    result = verify_spec(load_text(TWO_HEADS))
    assert result.passed, result.failures
    assert [check.name for check in result.layers] == ["stem", "main", "aux", "dead"]
    # the measured peak (tracemalloc) includes weights and Python's own allocations; it agrees with the prediction
    # and is reached in the forward pass, never in the unused layer run apart
    assert result.peak_ok and result.measured_peak_layer in ("stem", "main", "aux")


@pytest.mark.parametrize(
    "outputs, message",
    [
        ("output: main\noutputs: [main]", "not both"),
        ("outputs: []", "non-empty list"),
        ("outputs: [main, main]", "names a layer twice"),
        ("outputs: [main, nope]", "nope"),
    ],
)
def test_bad_outputs_are_located_errors(outputs, message):
    text = TWO_HEADS.replace("outputs: [main, aux]", outputs)
    with pytest.raises(CnnCostError) as caught:
        load_text(text, "net.yaml")
    assert message in caught.value.message
    assert caught.value.location.line == 4 + outputs.count("\n")  # the `outputs:` line


def test_googlenet_with_aux_heads_counts_their_weights_but_not_their_work():
    report = cnncost.analyze("googlenet_aux")
    # torchvision GoogLeNet_Weights.IMAGENET1K_V1: num_params 6,624,904 (the model without aux heads), _ops 1.498
    # GFLOPS (MACs, fvcore's convention). Each InceptionAux head: 1×1 conv C→128 without bias, BN 128 (256 params),
    # fc 2048→1024 and fc 1024→1000 with bias. aux1 reads inception4a (C = 512), aux2 reads inception4d (C = 528):
    aux1 = 512 * 128 + 256 + (2048 * 1024 + 1024) + (1024 * 1000 + 1000)
    aux2 = 528 * 128 + 256 + (2048 * 1024 + 1024) + (1024 * 1000 + 1000)
    assert aux1 + aux2 == 6_379_984
    assert report.totals.params == 6_624_904 + aux1 + aux2
    assert round(report.totals.macs / 1e9, 3) == 1.498
    assert report.totals.macs == cnncost.analyze("googlenet").totals.macs
    assert len(report.unused) == 18 and all(name.startswith(("aux1.", "aux2.")) for name in report.unused)


def test_summary_lists_unused_layers_in_their_own_section(cli):
    result = cli("summary", "googlenet_aux")
    assert result.returncode == 0, result.stderr
    table, _, after = result.stdout.partition("Unused:")
    assert "aux1.fc1" not in table
    assert "18 layers reach no output" in after and "6,379,984 params counted" in after

"""`imports:`: another spec's blocks, namespaced by its stem; cycles and missing files name the chain."""
import pytest

import cnncost
from cnncost.errors import CnnCostError

LIB = """
name: lib
input: 3x8x8
blocks:
  unit:
    args: {out: null}
    layers:
      - conv2d: {out: $out, kernel: 3, padding: 1}
      - relu
  pair:                       # uses its own file's block by its short name
    args: {out: null}
    layers:
      - unit: {out: $out}
      - unit: {out: $out}
layers: [relu]
"""


def write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


def test_imported_blocks_are_namespaced_and_keep_their_own_references(tmp_path):
    write(tmp_path, "lib.yaml", LIB)
    net = write(tmp_path, "net.yaml", "name: net\nimports: [lib.yaml]\ninput: 3x16x16\nlayers:\n  - lib.pair: {out: 8}\n")
    report = cnncost.analyze(str(net))
    # two 3×3 convs: 3·8·9 + 8 = 224 and 8·8·9 + 8 = 584 params
    assert [row.params for row in report.layers if row.op == "conv2d"] == [224, 584]


def test_bundled_spec_by_name(tmp_path):
    net = write(tmp_path, "net.yaml", "name: net\nimports: [resnet]\ninput: 8x16x16\nlayers:\n  - resnet.basic: {planes: 8}\n")
    report = cnncost.analyze(str(net))
    # torchvision BasicBlock without downsample: two 3×3 convs 8→8 without bias (576 each) and two BNs (16 each)
    assert report.totals.params == 2 * 576 + 2 * 16


def test_cycle_names_the_chain(tmp_path):
    write(tmp_path, "a.yaml", "name: a\nimports: [b.yaml]\ninput: 3x8x8\nlayers: [relu]\n")
    write(tmp_path, "b.yaml", "name: b\nimports: [a.yaml]\ninput: 3x8x8\nlayers: [relu]\n")
    with pytest.raises(CnnCostError, match=r"cycle: .*a\.yaml → .*b\.yaml → .*a\.yaml"):
        cnncost.analyze(str(tmp_path / "a.yaml"))


def test_missing_import_is_exit_2(tmp_path, cli):
    net = write(tmp_path, "net.yaml", "name: net\nimports: [nope.yaml]\ninput: 3x8x8\nlayers: [relu]\n")
    result = cli("summary", net)
    assert result.returncode == 2
    assert "net.yaml:2:11: error: imported spec 'nope.yaml' not found" in result.stderr

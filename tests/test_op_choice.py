"""A block argument may choose an op or a block (MobileNetV3's ReLU or hardswish, EfficientNet's variants)."""
import pytest

import cnncost
from cnncost.errors import CnnCostError
from cnncost.spec import load_text

SPEC = """
name: choice
input: 3x8x8
blocks:
  plain:
    layers:
      - identity
  conv_act:
    args: {out: null, act: relu}
    layers:
      - conv2d: {out: $out, kernel: 3, padding: 1}
      - $act
      - $act: {name: again}
layers:
  - conv_act: {name: a, out: 4}
  - conv_act: {name: b, out: 4, act: hardswish}
  - conv_act: {name: c, out: 4, act: plain}
"""


def ops_of(text):
    return {row.name: row.op for row in cnncost.analyze(load_text(text)).layers}


def test_an_argument_names_the_op_a_layer_runs():
    ops = ops_of(SPEC)
    assert ops["a.relu_1"] == "relu" and ops["a.again"] == "relu"  # the default, auto-named after the op chosen
    assert ops["b.hardswish_1"] == "hardswish" and ops["b.again"] == "hardswish"


def test_an_argument_may_name_a_block():
    ops = ops_of(SPEC)
    assert ops["c.plain_1.identity_1"] == "identity" and ops["c.again.identity_1"] == "identity"


def test_an_unknown_choice_is_reported_where_it_was_chosen():
    text = SPEC.replace("act: hardswish}", "act: hardswsh}")
    with pytest.raises(CnnCostError) as caught:
        load_text(text, "net.yaml")
    error = caught.value
    assert "unknown op or block 'hardswsh' (chosen by '$act')" in error.message
    assert "did you mean 'hardswish'" in error.hint
    line = "  - conv_act: {name: b, out: 4, act: hardswsh}"
    assert (error.location.line, error.location.column) == (text.splitlines().index(line) + 1, line.index("hardswsh") + 1)


def test_a_choice_outside_any_block_names_no_argument():
    with pytest.raises(CnnCostError) as caught:
        load_text("name: n\ninput: 3x8x8\nlayers:\n  - $act\n", "net.yaml")
    assert "cannot choose an op with '$act'" in caught.value.message
    assert caught.value.location.line == 4

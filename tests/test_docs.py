"""Figures quoted in docs/ are the tool's own output, so the documentation cannot drift from the code."""
import re

import cnncost
from tests.conftest import ROOT


def test_conventions_table_quotes_cnncost_resnet50():
    text = (ROOT / "docs" / "flops-conventions.md").read_text()
    macs = int(re.search(r"\| ([\d,]+) MACs \|", text).group(1).replace(",", ""))
    flops = int(re.search(r"\| ([\d,]+) FLOPs \|", text).group(1).replace(",", ""))
    totals = cnncost.analyze("resnet50").totals
    assert (macs, flops) == (totals.macs, totals.flops)
    assert round(macs / 1e9, 2) == 4.09  # torchvision ResNet50_Weights.IMAGENET1K_V1: GFLOPS 4.09 (= MACs)


def test_readme_and_help_name_the_source_not_the_seed():
    from tests.conftest import run_cli

    texts = [(ROOT / "README.md").read_text()] + [run_cli(*command, "--help").stdout for command in (["summary"], ["compare"], ["list"])]
    texts.append(run_cli("list").stdout)
    for text in texts:
        assert "seed notes" not in text and "the seed's" not in text
    assert "UM-CV lecture notes on CNN architectures" in texts[0]

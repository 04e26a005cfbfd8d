"""Analysis time against graph size: seconds for 1k, 10k and 100k generated nodes (should grow linearly).

The generated network is a residual stack: stages of 250 four-node units (conv, batchnorm, relu, add).
Run: python benchmarks/scaling.py
"""
import os
import tempfile
import time

import cnncost

SPEC = """
name: scaling
input: 8x16x16
blocks:
  unit:
    layers:
      - conv2d: {{out: 8, kernel: 3, padding: 1, bias: false}}
      - batchnorm
      - relu
      - add: {{inputs: [relu_1, in]}}
  stage:
    layers:
      - unit: {{name: unit, repeat: 250}}
layers:
  - stage: {{name: stack, repeat: {repeat}}}
"""


def seconds_for(nodes: int, folder: str) -> float:
    """Load (parse + expand) and analyse, as `cnncost summary` does."""
    path = os.path.join(folder, f"scaling_{nodes}.yaml")
    with open(path, "w") as handle:
        handle.write(SPEC.format(repeat=nodes // 1000))
    start = time.perf_counter()
    report = cnncost.analyze(path)
    elapsed = time.perf_counter() - start
    assert len(report.layers) == nodes
    return elapsed


def main() -> None:
    print(f"{'nodes':>8}  {'seconds':>8}  {'µs/node':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for nodes in (1_000, 10_000, 100_000):
            elapsed = seconds_for(nodes, folder)
            print(f"{nodes:>8,}  {elapsed:>8.3f}  {elapsed / nodes * 1e6:>8.1f}")


if __name__ == "__main__":
    main()

"""verify's forward pass: run the kernels over a graph in execution order, freeing each array after its last reader.

The numpy side of the cross-check; it reads the parsed graph, the seeded weights and the kernels, never the op rules.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from cnncost.graph import INPUT
from cnncost.seeded import input_array, layer_rng, layer_weights


@dataclass(frozen=True)
class FinishedLayer:
    """One layer just run by ForwardRun.layers: its output array, the weights it drew, the MACs its matmuls
    executed and the seconds its kernel took."""

    node: object
    output: object
    params: dict
    macs: int
    seconds: float


class ForwardRun:
    """One forward pass over a graph, freeing each array after its last reader, measuring the bytes numpy holds."""

    def __init__(self, graph, batch, seed, progress=None, folds=None, original=None):
        self.graph, self.batch, self.seed, self.progress = graph, batch, seed, progress
        self.folds = folds or {}  # conv name -> batchnorm name folded into it
        self.original = {node.name: node for node in (original or graph).nodes}
        self.nodes = {node.name: node for node in graph.nodes}
        self.peak, self.peak_layer, self.seconds, self.output = 0, INPUT, 0.0, None

    def rng(self, name: str):
        return layer_rng(self.seed, name)

    def input_array(self):
        return input_array(self.seed, self.batch, self.graph.input_shape)

    def weights(self, node, input_shapes):
        from cnncost.kernels import fold_weights

        if node.name not in self.folds:
            return layer_weights(node, input_shapes, self.seed)
        conv = self.original[node.name]
        params, buffers = layer_weights(conv, input_shapes, self.seed)
        bn = self.original[self.folds[node.name]]
        out_shape = (self.batch, conv.attrs["out"])
        bn_params, bn_buffers = layer_weights(bn, [out_shape], self.seed)
        return fold_weights(conv.op, params, bn_params, bn_buffers, bn.attrs["eps"]), buffers

    def unused_layers(self, rows):
        """Layers that reach no output do not run in the forward pass (nor in PyTorch's eval mode); each is run
        alone on random inputs of its predicted input shapes, so its shape, params and MACs are still checked."""
        from cnncost.kernels import MacCounter, forward

        for name in self.graph.unused():
            node = self.nodes[name]
            rng = self.rng(name)
            shapes = [(self.batch, *(self.graph.input_shape if i == INPUT else rows[i].output_shape)) for i in node.inputs]
            inputs = [rng.standard_normal(shape, dtype="float32") for shape in shapes]
            params, buffers = self.weights(node, shapes)
            counter = MacCounter()
            out = forward(node.op, node.attrs, inputs, params, buffers, counter)
            yield FinishedLayer(node, out, params, counter.macs, 0.0)

    def layers(self):
        """Run the graph, yielding each layer as it finishes; afterwards `output` holds the model output.

        Arrays nobody will read again are freed after the yield. The peak is measured, not counted: numpy reports
        its data allocations to tracemalloc, which is read after each layer (the layer whose run raised the peak
        is where it was reached). The consumer must drop each FinishedLayer before asking for the next.
        """
        import tracemalloc

        started = not tracemalloc.is_tracing()
        if started:
            tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            yield from self._run_layers(lambda: tracemalloc.get_traced_memory()[1] - base, tracemalloc.reset_peak)
        finally:
            if started:
                tracemalloc.stop()

    def _run_layers(self, peak_so_far, forget_consumer):
        from cnncost.kernels import MacCounter, forward

        readers = self.graph.readers()
        unused = set(self.graph.unused())
        live = {INPUT: self.input_array()}
        for node in self.graph.nodes:
            if node.name in unused:
                continue
            inputs = [live[name] for name in node.inputs]
            params, buffers = self.weights(node, [a.shape for a in inputs])
            counter = MacCounter()
            start = time.perf_counter()
            out = forward(node.op, node.attrs, inputs, params, buffers, counter)
            seconds = time.perf_counter() - start
            self.seconds += seconds
            del inputs
            live[node.name] = out
            if peak_so_far() > self.peak:
                self.peak, self.peak_layer = peak_so_far(), node.name
            yield FinishedLayer(node, out, params, counter.macs, seconds)
            forget_consumer()  # what the consumer allocated while checking this layer is not the forward pass's
            del out, params, buffers
            for name in set(node.inputs):
                readers[name] -= 1
                self.release(live, name, readers)
            self.release(live, node.name, readers)
            if self.progress:
                self.progress()
        self.output = live[self.graph.output]

    def release(self, live: dict, name: str, readers: dict) -> None:
        """Free an array nobody will read again (the model's outputs stay)."""
        if readers[name] == 0 and name not in self.graph.outputs and name in live:
            del live[name]

#!/usr/bin/python3
"""Quantize a float32 ONNX model's weight products to int8, for the ONNX Runtime int8 peer.

    bench/onnx_quantize.py IN.onnx OUT.onnx

Writes the graph `onnxruntime.quantization.quantize_dynamic(IN, OUT, per_channel=True)` writes
(weight type QInt8, no reduced range, MatMulConstBOnly): every MatMul whose second input is a
float32 initializer becomes

    DynamicQuantizeLinear(x) -> MatMulInteger(x_q, W_q, x_zp, W_zp) -> Cast(float)
        -> Mul(., x_scale * W_scale)

with W quantized per output column (axis 1 of the [K, N] initializer), symmetric:
scale = max|W[:, n]| / 127, zero point 0, values round-half-to-even clipped to [-127, 127].
One DynamicQuantizeLinear per activation tensor (q, k and v share theirs).  Activation-activation
MatMuls (attention) and Gemm (the classifier head) stay float, as quantize_dynamic leaves them.
ONNX Runtime's graph optimizer (level "all") fuses each such chain into one
com.microsoft DynamicQuantizeMatMul (MLAS's u8s8 kernel), which is the peer's int8 path
(bench/ort.js --check-fused tells).  onnxruntime's Python package is not needed: this is the
project's own code, with Debian's python3-numpy and python3-onnx.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def quantize_weight(w):
    """Per-column symmetric int8 quantization of a [K, N] float matrix: (q, scale, zero_point)."""
    absmax = np.maximum(np.abs(w.min(axis=0)), np.abs(w.max(axis=0))).astype(np.float32)
    scale = np.where(absmax > 0, absmax / np.float32(127.0), np.float32(1.0)).astype(np.float32)
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    return q, scale, np.zeros(w.shape[1], dtype=np.int8)


def main(argv):
    """Rewrite every constant-weight MatMul of IN.onnx as the dynamic-quantization chain."""
    if len(argv) != 3:
        raise SystemExit(__doc__)
    model = onnx.load(argv[1])
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    dql = {}            # activation tensor -> (x_q, x_scale, x_zp) of its DynamicQuantizeLinear
    new_nodes, dropped, added = [], set(), []
    n_quantized = 0
    for node in graph.node:
        w_name = node.input[1] if node.op_type == "MatMul" else None
        if w_name is None or w_name not in inits or inits[w_name].data_type != TensorProto.FLOAT:
            new_nodes.append(node)
            continue
        w = numpy_helper.to_array(inits[w_name])
        if w.ndim != 2:
            new_nodes.append(node)
            continue
        x = node.input[0]
        if x not in dql:
            dql[x] = (x + "_quantized", x + "_scale", x + "_zero_point")
            new_nodes.append(helper.make_node("DynamicQuantizeLinear", [x], list(dql[x]),
                                              x + "_QuantizeLinear"))
        x_q, x_s, x_zp = dql[x]
        q, scale, zp = quantize_weight(w)
        added += [numpy_helper.from_array(q, w_name + "_quantized"),
                  numpy_helper.from_array(scale, w_name + "_scale"),
                  numpy_helper.from_array(zp, w_name + "_zero_point")]
        dropped.add(w_name)
        out, base = node.output[0], node.output[0]
        new_nodes += [
            helper.make_node("MatMulInteger", [x_q, w_name + "_quantized", x_zp, w_name + "_zero_point"],
                             [base + "_output_quantized"], base + "_MatMulInteger"),
            helper.make_node("Cast", [base + "_output_quantized"], [base + "_output_quantized_cast"],
                             base + "_cast", to=TensorProto.FLOAT),
            helper.make_node("Mul", [x_s, w_name + "_scale"], [base + "_scales_mul"],
                             base + "_scales_mul"),
            helper.make_node("Mul", [base + "_output_quantized_cast", base + "_scales_mul"], [out],
                             base + "_output_scale_mul"),
        ]
        n_quantized += 1
    if n_quantized == 0:
        raise SystemExit("no MatMul with a float32 weight initializer found")
    kept = [i for i in graph.initializer if i.name not in dropped]
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    del graph.node[:]
    graph.node.extend(new_nodes)
    onnx.checker.check_model(model)
    onnx.save(model, argv[2])
    print(f"wrote {argv[2]}: {n_quantized} MatMuls quantized, {len(dql)} DynamicQuantizeLinear")


if __name__ == "__main__":
    main(sys.argv)

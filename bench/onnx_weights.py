#!/usr/bin/python3
"""Fill the weights of a checkpoint folder into a weightless ONNX graph, for the ONNX Runtime peer.

    bench/onnx_weights.py GRAPH.onnx MAP.json CHECKPOINT_DIR OUT.onnx

GRAPH.onnx (test/data/onnx/) is the graph torch.onnx.export wrote for the model with its large
initializers left empty; MAP.json names, for each of those initializers, the safetensors tensor
that goes there ("source"), whether it is stored transposed ("transpose") and the dims the graph
expects ("dims").  The tensors are read from CHECKPOINT_DIR/model.safetensors (F32, F16 or BF16,
converted to float32) and written into the graph as raw little-endian float32.
Needs Debian's python3-numpy and python3-onnx.
"""
import json
import struct
import sys

import numpy as np
import onnx


def safetensors_index(path):
    """Return (header dict, byte offset of the data section) of a .safetensors file."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return header, 8 + n


def load_tensor(mm, base, meta):
    """One tensor of the mapped file as a float32 array of its shape."""
    begin, end = meta["data_offsets"]
    raw = mm[base + begin:base + end]
    dtype = meta["dtype"]
    if dtype == "F32":
        a = raw.view("<f4")
    elif dtype == "F16":
        a = raw.view("<f2").astype(np.float32)
    elif dtype == "BF16":
        a = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
    else:
        raise SystemExit(f"unsupported dtype {dtype}")
    return a.reshape(meta["shape"])


def main(argv):
    """Fill every mapped initializer of the graph and save the model."""
    if len(argv) != 5:
        raise SystemExit(__doc__)
    graph_path, map_path, ckpt, out_path = argv[1:]
    model = onnx.load(graph_path)
    with open(map_path) as f:
        wanted = json.load(f)
    weights = f"{ckpt}/model.safetensors"
    header, base = safetensors_index(weights)
    mm = np.memmap(weights, dtype=np.uint8, mode="r")
    done = set()
    for init in model.graph.initializer:
        spec = wanted.get(init.name)
        if spec is None:
            continue
        a = load_tensor(mm, base, header[spec["source"]])
        if spec["transpose"]:
            a = a.T
        if list(a.shape) != list(spec["dims"]) or list(init.dims) != list(spec["dims"]):
            raise SystemExit(f"{init.name}: {spec['source']} has shape {list(a.shape)}, "
                             f"the graph wants {list(init.dims)}")
        del init.external_data[:]
        init.data_location = onnx.TensorProto.DEFAULT
        init.data_type = onnx.TensorProto.FLOAT
        init.raw_data = np.ascontiguousarray(a, dtype="<f4").tobytes()
        done.add(init.name)
    missing = sorted(set(wanted) - done)
    if missing:
        raise SystemExit(f"initializers not found in the graph: {missing[:5]}")
    onnx.save(model, out_path)
    print(f"wrote {out_path}: {len(done)} initializers from {weights}")


if __name__ == "__main__":
    main(sys.argv)

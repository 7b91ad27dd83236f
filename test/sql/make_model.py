#!/usr/bin/python3
"""Write a variant of a good checkpoint folder for the hostile-input tests.

usage: make_model.py SRC DST [--labels A,B,...] [--bias b0,b1,...] [--bump-byte]

--labels  id2label/label2id of config.json; the classifier gets one row per
          label (rows past the source's are zeros), so the safetensors file is
          rewritten with new offsets.
--bias    the classifier bias, one value per label (e.g. -8,8: label 1 wins
          by a wide margin whatever the text).
--bump    add 1 to one byte in the middle of the first weight tensor (a
          checkpoint that differs from SRC by one weight byte).
DST is replaced; its files are made readable by everyone."""
import argparse, json, os, shutil, struct

ap = argparse.ArgumentParser()
ap.add_argument("src"); ap.add_argument("dst")
ap.add_argument("--labels"); ap.add_argument("--bias"); ap.add_argument("--bump", action="store_true")
a = ap.parse_args()

shutil.rmtree(a.dst, ignore_errors=True)
shutil.copytree(a.src, a.dst)
st = os.path.join(a.dst, "model.safetensors")
with open(st, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    data = f.read()

# the tensors in file order, as bytes
meta = header.pop("__metadata__", None)
tensors = {k: [v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]]]
           for k, v in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])}
esize = {"F32": 4, "F16": 2, "BF16": 2}

def pack(dtype, values):
    if dtype == "F32":
        return struct.pack("<%df" % len(values), *values)
    if dtype == "F16":
        return struct.pack("<%de" % len(values), *values)
    raise SystemExit("--bias needs an F32 or F16 classifier")

cfg_path = os.path.join(a.dst, "config.json")
cfg = json.load(open(cfg_path, encoding="utf-8"))
if a.labels:
    labels = a.labels.split(",")
    cfg["id2label"] = {str(i): l for i, l in enumerate(labels)}
    cfg["label2id"] = {l: i for i, l in enumerate(labels)}
    dt, shape, w = tensors["classifier.weight"]
    row = shape[1] * esize[dt]
    w = w[:row * len(labels)] + b"\0" * max(0, row * len(labels) - len(w))
    tensors["classifier.weight"] = [dt, [len(labels), shape[1]], w]
    dt, shape, b = tensors["classifier.bias"]
    b = b[:esize[dt] * len(labels)] + b"\0" * max(0, esize[dt] * len(labels) - len(b))
    tensors["classifier.bias"] = [dt, [len(labels)], b]
    json.dump(cfg, open(cfg_path, "w", encoding="utf-8"), ensure_ascii=False, indent=1)
if a.bias:
    vals = [float(x) for x in a.bias.split(",")]
    dt, shape, _ = tensors["classifier.bias"]
    if shape != [len(vals)]:
        raise SystemExit("--bias: %d values for a bias of shape %s" % (len(vals), shape))
    tensors["classifier.bias"][2] = pack(dt, vals)
if a.bump:
    k = next(iter(tensors))
    b = bytearray(tensors[k][2]); b[len(b) // 2] = (b[len(b) // 2] + 1) % 256
    tensors[k][2] = bytes(b)

out, off, hdr = [], 0, {}
if meta is not None:
    hdr["__metadata__"] = meta
for k, (dt, shape, b) in tensors.items():
    hdr[k] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(b)]}
    out.append(b); off += len(b)
h = json.dumps(hdr, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
with open(st, "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(out))
for root, dirs, files in os.walk(a.dst):
    os.chmod(root, 0o755)
    for f in files:
        os.chmod(os.path.join(root, f), 0o644)

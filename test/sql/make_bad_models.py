#!/usr/bin/python3
"""Write broken copies of a good checkpoint folder, one folder per case, for
test/sql/bad_input.sql: usage make_bad_models.py GOOD_DIR OUT_DIR.
Each case breaks exactly one thing; the folder names are the case names."""
import json, os, shutil, struct, sys

good, out = sys.argv[1], sys.argv[2]
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)

def read_st(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n)), f.read()

def write_st(path, header, data, pad=True):
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)

def case(name, mutate):
    d = os.path.join(out, name)
    shutil.copytree(good, d)
    mutate(d)

def p(d, f):
    return os.path.join(d, f)

def edit_config(fn):
    def m(d):
        c = json.load(open(p(d, "config.json")))
        fn(c)
        json.dump(c, open(p(d, "config.json"), "w"))
    return m

def edit_header(fn):
    def m(d):
        h, data = read_st(p(d, "model.safetensors"))
        data = fn(h, data) or data
        write_st(p(d, "model.safetensors"), h, data)
    return m

for f in ["config.json", "model.safetensors", "vocab.txt"]:
    case("missing_" + f.split(".")[0], lambda d, f=f: os.remove(p(d, f)))
    case("empty_" + f.split(".")[0], lambda d, f=f: open(p(d, f), "w").close())
case("missing_tokcfg", lambda d: os.remove(p(d, "tokenizer_config.json")))   # allowed

def truncate(d):
    size = os.path.getsize(p(d, "model.safetensors"))
    os.truncate(p(d, "model.safetensors"), size - 1000)
case("truncated_model", truncate)

def huge_header_len(d):
    with open(p(d, "model.safetensors"), "r+b") as f:
        f.write(struct.pack("<Q", 1 << 40))
case("header_len_past_eof", huge_header_len)

def past_end(h, data):
    h["classifier.bias"]["data_offsets"] = [len(data) - 4, len(data) + 4]
case("offsets_out_of_range", edit_header(past_end))

def overlap(h, data):
    b = h["pre_classifier.bias"]["data_offsets"]
    h["classifier.bias"]["data_offsets"] = [b[0], b[0] + 8]
case("offsets_overlap", edit_header(overlap))

def bad_dtype(h, data):
    h["classifier.bias"]["dtype"] = "I64"
    h["classifier.bias"]["shape"] = [1]
case("dtype_unsupported", edit_header(bad_dtype))

def bad_shape(h, data):
    h["pre_classifier.weight"]["shape"] = list(reversed(h["pre_classifier.weight"]["shape"]))
    h["pre_classifier.weight"]["shape"][0] += 0
    s = h["pre_classifier.weight"]["shape"]
    h["pre_classifier.weight"]["shape"] = [s[0] // 2, s[1] * 2]
case("shape_mismatch", edit_header(bad_shape))

def missing_tensor(h, data):
    del h["distilbert.transformer.layer.1.ffn.lin2.weight"]
case("tensor_missing", edit_header(missing_tensor))

case("heads_not_dividing_dim", edit_config(lambda c: c.update(n_heads=3)))
case("zero_layers", edit_config(lambda c: c.update(n_layers=0)))
case("absurd_dim", edit_config(lambda c: c.update(dim=1 << 40)))
case("absurd_layers", edit_config(lambda c: c.update(n_layers=100000)))
case("config_not_json", lambda d: open(p(d, "config.json"), "w").write("{\"dim\": 64,"))

def vocab_dup(d):
    lines = open(p(d, "vocab.txt")).read().split("\n")
    lines[2000] = lines[1000]
    open(p(d, "vocab.txt"), "w").write("\n".join(lines))
case("vocab_duplicate", vocab_dup)

def vocab_no_unk(d):
    lines = open(p(d, "vocab.txt")).read().split("\n")
    lines[100] = "[UNKNOWN]"
    open(p(d, "vocab.txt"), "w").write("\n".join(lines))
case("vocab_missing_unk", vocab_no_unk)

for root, dirs, files in os.walk(out):
    os.chmod(root, 0o755)
    for f in files:
        os.chmod(os.path.join(root, f), 0o644)

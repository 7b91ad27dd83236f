#!/usr/bin/env python3
"""Write the seed corpora of the sst2 fuzz targets into test/fuzz/corpus/<target>/.

Everything is hand-made here (no file of test/data is copied): short texts for
the tokenizer, small safetensors files, the tiny checkpoint of fuzz_model.c in
every dtype, config.json and vocab.txt variants.  Deterministic; rerunning it
rewrites the gen-* seeds and leaves other files (regression seeds) alone.

    python3 test/fuzz/gen_corpus.py
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    with open(os.path.join(d, "gen-" + name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- tokenizer
# byte 0: tokenizer_config variant (0..3), byte 1: max_ids (240..255 -> 256..4096)
TEXTS = {
    "plain": "Hello, World! This movie was not good at all.",
    "accents": "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00c5ngstr\u00f6m A\u0301\u0323 \u1e69 \u01d5",
    "cjk": "\u4e2d\u6587\u5b57 mixed\u65e5\u672c\u8a9e text \u3042\u3044\u3046 \ud55c\uad6d\uc5b4",
    "special": "[CLS] hello [SEP][UNK][PAD] [MASK]x [cls] [SEP",
    "longword": "a" * 99 + " " + "b" * 100 + " " + "c" * 101 + " \u00e9" * 3 + "d" * 120,
    "punct": "!!??...,,;;--((a))[b]{c} \u00bf\u00a1 \u2014 \u201cq\u201d \u3002",
    "ws": "a\tb\nc\rd\u00a0e\u2003f\u3000g\u200bh\u00adi\ufeffj\u0000k",
    "casing": "\u0130stanbul \u03a3\u0399\u03a3\u03a5\u03a6\u039f\u03a3 STRASSE \u1e9e \uff21\uff22 \u2160",
    "marks": "e\u0301\u0327\u0308\u0323\u0304" * 5 + " \u0f73\u0f75 \u0915\u094d\u0937 \u05d0\u05b8",
    "hangul": "\uac00\ub098\ub2e4 \u1100\u1161\u11a8 \ud7a3",
    "emoji": "I \u2764\ufe0f it \U0001F600\U0001F44D\U0001F3FD \U0001F1EB\U0001F1F7 \U00020000",
    "digits": "12,345.67 \u0661\u0662\u0663 \u00bd \u2460 0x1F",
    "numbers_words": "unbelievable unaffable ##ing running jumped quickly",
}
INVALID = {
    "invalid_utf8": b"ok \xc3\x28 \xa0\xa1 \xe2\x28\xa1 \xe2\x82\x28 \xf0\x28\x8c\xbc \xf8\xa1\xa1\xa1\xa1 \xed\xa0\x80 \xc0\xaf end",
    "truncated": b"caf\xc3",
    "overlong": b"\xe0\x80\xaf\xf4\x90\x80\x80\xf5\xff\xfe",
    "nul": b"a\x00b\x00[CLS]\x00",
}
for i, (name, text) in enumerate(sorted(TEXTS.items())):
    for v, m in ((0, 0x40), ((i % 3) + 1, 7)):
        put("tokenizer", "%s-v%d-m%d" % (name, v, m), bytes([v, m]) + text.encode())
for i, (name, raw) in enumerate(sorted(INVALID.items())):
    put("tokenizer", name, bytes([i % 4, 0x20]) + raw)
put("tokenizer", "max2", bytes([0, 2]) + b"truncated to nothing")
put("tokenizer", "max1", bytes([0, 1]) + b"invalid max")
put("tokenizer", "max3", bytes([1, 3]) + b"Two words")
put("tokenizer", "max512", bytes([2, 241]) + ("word " * 300).encode())

# ---------------------------------------------------------------- safetensors


def lcg_floats(n, seed):
    x = seed & 0xFFFFFFFF
    out = []
    for _ in range(n):
        x = (1103515245 * x + 12345) & 0x7FFFFFFF
        out.append((x / 0x7FFFFFFF - 0.5) * 0.2)
    return out


def encode(vals, dtype):
    if dtype == "F32":
        return struct.pack("<%df" % len(vals), *vals)
    if dtype == "F16":
        return struct.pack("<%de" % len(vals), *vals)
    if dtype == "BF16":
        return b"".join(struct.pack("<I", struct.unpack("<I", struct.pack("<f", v))[0])[2:] for v in vals)
    raise ValueError(dtype)


def safetensors(tensors, metadata=None, align=8, pad_data=0, header_pad=b""):
    """tensors: list of (name, dtype, shape, raw bytes); returns the file."""
    header = {}
    data = b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        if pad_data:
            data += b"\0" * pad_data
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode() + header_pad
    h += b" " * ((-len(h)) % align)
    return struct.pack("<Q", len(h)) + h + data


put("safetensors", "one-f32", safetensors([("w", "F32", [2, 3], encode(lcg_floats(6, 1), "F32"))]))
put("safetensors", "mixed", safetensors([
    ("a.weight", "F16", [4], encode(lcg_floats(4, 2), "F16")),
    ("b.bias", "BF16", [2, 2], encode(lcg_floats(4, 3), "BF16")),
    ("c", "I64", [2], struct.pack("<2q", 1, -1)),
    ("d", "U8", [3], b"xyz"),
    ("e", "BOOL", [1], b"\1"),
    ("f", "F64", [1], struct.pack("<d", 1.5)),
], metadata={"format": "pt"}))
put("safetensors", "scalar-empty", safetensors([
    ("scalar", "F32", [], struct.pack("<f", 3.0)),
    ("empty", "F32", [0, 5], b""),
]))
put("safetensors", "unaligned", safetensors([("u", "F32", [3], encode(lcg_floats(3, 4), "F32"))], align=1, pad_data=1))
put("safetensors", "empty-header", struct.pack("<Q", 2) + b"{}")
put("safetensors", "metadata-only", safetensors([], metadata={"k": "v"}))
put("safetensors", "trailing-nul", struct.pack("<Q", 8) + b"{}\0\0\0\0\0\0")
put("safetensors", "long-header", struct.pack("<Q", 0xFFFFFFFF) + b"{}")
put("safetensors", "short", b"\x02\x00\x00")
put("safetensors", "unknown-dtype", safetensors([("x", "F8_E4M3", [2], b"\1\2"), ("y", "Q4", [1], b"\0")]))

# ---------------------------------------------------------------- tiny model (fuzz_model.c)
DIM, HID, LAYERS, VOCAB, POS, LABELS = 4, 8, 1, 16, 8, 2


def tiny_specs():
    s = [("distilbert.embeddings.word_embeddings.weight", [VOCAB, DIM]),
         ("distilbert.embeddings.position_embeddings.weight", [POS, DIM]),
         ("distilbert.embeddings.LayerNorm.weight", [DIM]),
         ("distilbert.embeddings.LayerNorm.bias", [DIM])]
    for l in range(LAYERS):
        p = "distilbert.transformer.layer.%d." % l
        for n in ("q_lin", "k_lin", "v_lin", "out_lin"):
            s += [(p + "attention.%s.weight" % n, [DIM, DIM]), (p + "attention.%s.bias" % n, [DIM])]
        s += [(p + "sa_layer_norm.weight", [DIM]), (p + "sa_layer_norm.bias", [DIM]),
              (p + "ffn.lin1.weight", [HID, DIM]), (p + "ffn.lin1.bias", [HID]),
              (p + "ffn.lin2.weight", [DIM, HID]), (p + "ffn.lin2.bias", [DIM]),
              (p + "output_layer_norm.weight", [DIM]), (p + "output_layer_norm.bias", [DIM])]
    s += [("pre_classifier.weight", [DIM, DIM]), ("pre_classifier.bias", [DIM]),
          ("classifier.weight", [LABELS, DIM]), ("classifier.bias", [LABELS])]
    return s


def tiny_model(dtype_of, **kw):
    ts = []
    for i, (name, shape) in enumerate(tiny_specs()):
        n = 1
        for d in shape:
            n *= d
        vals = lcg_floats(n, 100 + i)
        if name.endswith("LayerNorm.weight") or name.endswith("layer_norm.weight"):
            vals = [1.0 + v for v in vals]
        dt = dtype_of(name, i)
        ts.append((name, dt, shape, encode(vals, dt)))
    return safetensors(ts, metadata={"format": "pt"}, **kw)


put("model", "f32", tiny_model(lambda n, i: "F32"))
put("model", "f16", tiny_model(lambda n, i: "F16"))
put("model", "bf16", tiny_model(lambda n, i: "BF16"))
put("model", "mixed", tiny_model(lambda n, i: ("F32", "F16", "BF16")[i % 3]))
put("model", "f32-unaligned", tiny_model(lambda n, i: "F32", align=1, pad_data=2))
put("model", "f16-padded", tiny_model(lambda n, i: "F16", align=64, pad_data=1))
# an extra tensor the model ignores, as in the MLM checkpoints
put("model", "extra", tiny_model(lambda n, i: "F32")[:0] + safetensors(
    [(n, "F32", s, encode(lcg_floats(s[0] * (s[1] if len(s) > 1 else 1), 9), "F32")) for n, s in tiny_specs()]
    + [("vocab_projector.bias", "F32", [VOCAB], encode(lcg_floats(VOCAB, 5), "F32"))]))
put("model", "missing-one", safetensors([(n, "F32", s, encode(lcg_floats(
    (s[0] * (s[1] if len(s) > 1 else 1)), 7), "F32")) for n, s in tiny_specs()[:-1]]))

# ---------------------------------------------------------------- config.json
BASE = {"activation": "gelu", "architectures": ["DistilBertForSequenceClassification"],
        "attention_dropout": 0.1, "dim": 768, "dropout": 0.1, "finetuning_task": "sst-2",
        "hidden_dim": 3072, "id2label": {"0": "NEGATIVE", "1": "POSITIVE"},
        "initializer_range": 0.02, "label2id": {"NEGATIVE": 0, "POSITIVE": 1},
        "max_position_embeddings": 512, "model_type": "distilbert", "n_heads": 12,
        "n_layers": 6, "output_past": True, "pad_token_id": 0, "qa_dropout": 0.1,
        "seq_classif_dropout": 0.2, "sinusoidal_pos_embds": False, "tie_weights_": True,
        "vocab_size": 30522}
put("config", "hub", json.dumps(BASE, indent=2) + "\n")
t5 = dict(BASE, transformers_version="5.0.0", dtype="float32", id2label={"0": "neg", "1": "neu", "2": "pos"})
put("config", "t5-3labels", json.dumps(t5))
put("config", "tiny", json.dumps({"dim": 4, "n_layers": 1, "n_heads": 2, "hidden_dim": 8, "vocab_size": 16,
                                  "max_position_embeddings": 8, "activation": "relu",
                                  "id2label": {"1": "b", "0": "a"}}))
put("config", "bad-types", json.dumps(dict(BASE, dim="768", n_heads=12.0, activation=None)))
put("config", "bad-labels", json.dumps(dict(BASE, id2label={"00": "x", "2": "y", "-1": "z"})))
put("config", "too-big", json.dumps(dict(BASE, dim=65536, vocab_size=10000000, n_heads=7)))
put("config", "sinusoidal", json.dumps(dict(BASE, sinusoidal_pos_embds=True, model_type="bert")))
put("config", "trailing", json.dumps({"dim": 1}) + " \n x")
put("config", "nested", "[" * 40 + "]" * 40)
put("config", "escapes", '{"id2label": {"0": "a\\u0000b", "1": "\\ud83d\\ude00"}, "dim": 1e3}')

# ---------------------------------------------------------------- vocab.txt (+ tokenizer_config.json)
SEP = "\n--tokcfg--\n"
V = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "!", ",", ".", "a", "b", "the", "good", "movie",
     "un", "##able", "##s", "##a", "##\u00e9", "caf", "\u00e9", "\u4e2d", "\u6587", "hello", "world"]
put("vocab", "basic", "\n".join(V) + "\n")
put("vocab", "crlf-nofinal", "\r\n".join(V))
put("vocab", "tokcfg", "\n".join(V) + "\n" + SEP + json.dumps({"do_lower_case": False, "strip_accents": None,
                                                               "tokenize_chinese_chars": False}))
put("vocab", "tokcfg-strip", "\n".join(V) + SEP + '{"do_lower_case": true, "strip_accents": true}  \n')
put("vocab", "tokcfg-bad", "\n".join(V) + SEP + '{"do_lower_case": "yes"}')
put("vocab", "tokcfg-trailing", "\n".join(V) + SEP + '{} []')
put("vocab", "duplicate", "\n".join(V + ["good"]))
put("vocab", "no-sep", "\n".join(v for v in V if v != "[SEP]"))
put("vocab", "odd-lines", "[UNK]\n[CLS]\n[SEP]\n\n##\n#\n###\n##\n\r\n\udcff\udcfe\n" + "x" * 300 + "\n")

#!/usr/bin/env bash
# Download the real checkpoint, distilbert-base-uncased-finetuned-sst-2-english,
# from the Hugging Face hub into a folder sst2 can load:
#
#   scripts/download_model.sh /srv/models/sst2
#   psql -c "ALTER SYSTEM SET sst2.model_path = '/srv/models/sst2'" -c "SELECT pg_reload_conf()"
#
# Needs curl and network access to huggingface.co (not available on the
# project's build machines, where the tests use the repository's models/sst2-mini
# and the generated distilbert-det instead).
# SST2_REPO and SST2_REVISION pick another repository or a pinned commit.
set -euo pipefail
OUT=${1:?usage: $0 OUTDIR}
REPO=${SST2_REPO:-distilbert/distilbert-base-uncased-finetuned-sst-2-english}
REV=${SST2_REVISION:-main}
BASE="https://huggingface.co/$REPO/resolve/$REV"

mkdir -p "$OUT"
for f in config.json vocab.txt tokenizer_config.json model.safetensors; do
	echo "fetching $f" >&2
	curl --fail --location --retry 3 --silent --show-error -o "$OUT/$f.part" "$BASE/$f"
	mv "$OUT/$f.part" "$OUT/$f"
done
# The server's OS user must be able to read it.
chmod a+rX "$OUT" "$OUT"/*
# Check it loads: every tensor name, dtype and shape against config.json.
BIN="$(dirname "$0")/../bin/sst2"
if [ -x "$BIN" ]; then "$BIN" --info "$OUT" >/dev/null && echo "ok: $OUT loads" >&2; fi
echo "$OUT"

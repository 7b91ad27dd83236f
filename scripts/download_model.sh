#!/usr/bin/env bash
# Download the real checkpoint, distilbert-base-uncased-finetuned-sst-2-english,
# from the Hugging Face hub into a folder sst2 can load, all or nothing:
#
#   scripts/download_model.sh /srv/models/sst2
#   sudo -u postgres psql -c "LOAD 'sst2'" \
#       -c "ALTER SYSTEM SET sst2.model_path = '/srv/models/sst2'" -c "SELECT pg_reload_conf()"
#
# The files go into OUTDIR.tmp.<pid>; each one's size is checked, then
# bin/sst2 --info must load the folder (every tensor name, dtype and shape
# against config.json), and only then is it renamed to OUTDIR (an existing
# OUTDIR is swapped out and removed).  On any failure nothing is left behind
# and the exit status is non-zero.
#
# Environment:
#   SST2_HF_REPO      the hub repository (default: distilbert/distilbert-base-uncased-finetuned-sst-2-english)
#   SST2_HF_REVISION  a commit of it (default: the pinned one below)
#   SST2_HF_BASE      the hub or a mirror with its /REPO/resolve/REVISION/FILE
#                     layout, file:// included (default: https://huggingface.co)
#
# Needs curl (installed with apt-get when run as root and missing; otherwise
# the script says how, before doing anything), make and a C compiler unless
# bin/sst2 is built (scripts/demo.sh installs them), and network access to the
# hub (not available on the project's build machines: test/pkg/download.sh runs
# this script against a file:// mirror of the sst2-mini model instead).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:?usage: $0 OUTDIR}
OUT=${OUT%/}

DEFAULT_REPO=distilbert/distilbert-base-uncased-finetuned-sst-2-english
# The revision transformers' pipeline("sentiment-analysis") defaults to
# ("714eb0f" in transformers/pipelines/__init__.py), in full.
DEFAULT_REVISION=714eb0fa89d2f80546fda750413ed43d93601a13
REPO=${SST2_HF_REPO:-$DEFAULT_REPO}
REV=${SST2_HF_REVISION:-$DEFAULT_REVISION}
BASE=${SST2_HF_BASE:-https://huggingface.co}
URL="${BASE%/}/$REPO/resolve/$REV"
FILES="config.json vocab.txt tokenizer_config.json model.safetensors"

# expected_size FILE: the exact byte size of FILE at the pinned revision, or
# "min:N", a lower bound, for any other repository or revision.
expected_size() {
	if [ "$REPO" = "$DEFAULT_REPO" ] && [ "$REV" = "$DEFAULT_REVISION" ]; then
		case $1 in
		config.json) echo 629 ;;
		vocab.txt) echo 231508 ;;
		tokenizer_config.json) echo 48 ;;
		model.safetensors) echo 267832558 ;;
		esac
	else
		case $1 in
		config.json) echo min:100 ;;
		vocab.txt) echo min:1000 ;;
		tokenizer_config.json) echo min:2 ;;
		model.safetensors) echo min:1000000 ;;
		esac
	fi
}


# fail MESSAGE: report and stop (the EXIT trap removes the partial folder).
fail() { echo "download_model.sh: $*" >&2; exit 1; }

# The programs it needs, before anything is written: curl (installed when we are root),
# and make and cc to build bin/sst2 when it is not built yet.
if ! command -v curl >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "download_model.sh: curl is missing; installing it (apt-get install curl)" >&2
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl; } </dev/null >/dev/null 2>&1
		command -v curl >/dev/null 2>&1 || fail "curl is not installed and apt-get install curl failed: install curl and run again"
	else
		fail "curl is not installed: install it first (sudo apt-get install curl)"
	fi
fi
if [ ! -x "$ROOT/bin/sst2" ]; then
	for p in make cc; do
		command -v $p >/dev/null 2>&1 ||
			fail "$p is not installed (needed to build bin/sst2, which checks the download): run scripts/demo.sh first, or sudo apt-get install build-essential pkg-config libopenblas-dev libutf8proc-dev libjson-c-dev"
	done
fi

TMP="$OUT.tmp.$$"
OLD="$OUT.old.$$"
trap 'rm -rf "$TMP" "$OLD"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$(dirname "$OUT")"
rm -rf "$TMP"; mkdir "$TMP"

for f in $FILES; do
	echo "fetching $URL/$f" >&2
	curl --fail --location --retry 3 --silent --show-error -o "$TMP/$f" "$URL/$f" ||
		fail "could not fetch $f from $URL"
	size=$(stat -c %s "$TMP/$f")
	want=$(expected_size "$f")
	case $want in
	min:*) [ "$size" -ge "${want#min:}" ] || fail "$f is $size bytes, expected at least ${want#min:}" ;;
	*) [ "$size" = "$want" ] || fail "$f is $size bytes, expected $want at revision $REV" ;;
	esac
done
if [ "$REPO" = "$DEFAULT_REPO" ] && [ "$REV" = "$DEFAULT_REVISION" ]; then
	echo "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3  $TMP/vocab.txt" |
		sha256sum --check --quiet - || fail "vocab.txt is not the model's vocabulary (sha256)"
fi

# It must load: the CLI reads it with the same code as the server.
BIN="$ROOT/bin/sst2"
if [ ! -x "$BIN" ]; then
	echo "building bin/sst2 to check the download" >&2
	make -s -C "$ROOT" bin/sst2 >&2 || fail "could not build bin/sst2 (make core) to check the download"
fi
"$BIN" --info "$TMP" >/dev/null || fail "the downloaded folder does not load (bin/sst2 --info)"

# The server's OS user must be able to read it.
chmod a+rX "$TMP" "$TMP"/*
if [ -e "$OUT" ]; then mv -T "$OUT" "$OLD"; fi
mv -T "$TMP" "$OUT"
echo "ok: $OUT loads ($REPO at $REV)" >&2
echo "$OUT"

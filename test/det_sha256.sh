#!/usr/bin/env bash
# The deterministic checkpoint generator (bin/sst2 --make-det, src/detgen.c)
# writes, bit for bit, the files whose sha256 test/data/PROVENANCE.md records
# (the same files the Python reference generator wrote for the golden logits of
# test/data/golden/distilbert-det.json): full size, the tiny test size and an
# odd size.  At full size its config.json and safetensors header also equal
# test/data/distilbert-det/.  Then the cached models the rest of the suite
# uses ($SST2_DET_MODEL, $SST2_TINY_MODEL, when set) are the recorded ones.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${SST2_DATA:-$ROOT/test/data}
PROV=$DATA/PROVENANCE.md
TMP=$(mktemp -d "${SST2_TEST_TMP:-/tmp}/det_sha256.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
FAILS=0 CHECKS=0

# expected SIZE FILE: the sha256 recorded for it ("det-SIZE FILE SHA256" lines)
expected() { awk -v s="det-$1" -v f="$2" '$1 == s && $2 == f { print $3 }' "$PROV"; }

# check WHAT GOT EXPECTED
check() {
	CHECKS=$((CHECKS + 1))
	if [ -n "$3" ] && [ "$2" = "$3" ]; then echo "ok    $1"
	else FAILS=$((FAILS + 1)); echo "FAIL  $1: got ${2:-nothing}, expected ${3:-nothing recorded}"; fi
}

# verify SIZE DIR: every file of DIR against the recorded hashes
verify() {
	local f
	for f in model.safetensors config.json tokenizer_config.json vocab.txt; do
		check "$1 $f ($2)" "$(sha256sum <"$2/$f" | cut -d' ' -f1)" "$(expected "$1" "$f")"
	done
}

declare -A SIZES=(
	[full]=""
	[tiny]="--dim 64 --layers 2 --heads 2 --hidden 128"
	[odd]="--dim 40 --layers 3 --heads 5 --hidden 72 --max-pos 33"
)
for size in full tiny odd; do
	# shellcheck disable=SC2086
	"$ROOT/bin/sst2" --make-det "$TMP/$size" ${SIZES[$size]} --vocab-file "$DATA/bert-base-uncased-vocab.txt"
	verify "$size" "$TMP/$size"
done

# full size: config.json and the header bytes are the ones transformers writes
check "full config.json = distilbert-det/config.json" \
	"$(sha256sum <"$TMP/full/config.json" | cut -d' ' -f1)" "$(sha256sum <"$DATA/distilbert-det/config.json" | cut -d' ' -f1)"
hlen=$(od -An -t u8 -N 8 "$TMP/full/model.safetensors" | tr -d ' ')
check "full header = distilbert-det/safetensors-header.json" \
	"$(tail -c +9 "$TMP/full/model.safetensors" | head -c "$hlen" | sha256sum | cut -d' ' -f1)" \
	"$(sha256sum <"$DATA/distilbert-det/safetensors-header.json" | cut -d' ' -f1)"
rm -rf "$TMP/full"

[ -n "${SST2_DET_MODEL:-}" ] && verify full "$SST2_DET_MODEL"
[ -n "${SST2_TINY_MODEL:-}" ] && verify tiny "$SST2_TINY_MODEL"

echo "det_sha256: $((CHECKS - FAILS)) passed, $FAILS failed"
[ "$FAILS" = 0 ]

#!/usr/bin/env bash
# scripts/download_model.sh, without the hub: a file:// mirror in the hub's
# /REPO/resolve/REVISION/FILE layout serves the sst2-mini model.
#   - success: exit 0, the folder holds the mirror's four files, loads, and no
#     temporary folder remains; a second run replaces it cleanly; README.md's
#     "download" block, run as written, does the same;
#   - failures (host unreachable, a file missing, a size that differs from the
#     pinned revision's, a truncated model that does not load): non-zero exit
#     and neither the folder nor any temporary folder left behind.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MODEL=${SST2_MINI_MODEL:-$ROOT/models/sst2-mini}
[ -f "$MODEL/model.safetensors" ] || { echo "SKIP: no sst2-mini model at $MODEL"; exit 77; }
T=${SST2_TEST_TMP:-${SST2_WORK:-/tmp/sst2-work}/tmp}/download
rm -rf "$T"; mkdir -p "$T"
REPO=distilbert/distilbert-base-uncased-finetuned-sst-2-english
PINNED=$(sed -nE 's/^DEFAULT_REVISION=([0-9a-f]{40})$/\1/p' "$ROOT/scripts/download_model.sh")
[ -n "$PINNED" ] || { echo "FAIL: scripts/download_model.sh pins no 40-hex revision"; exit 1; }
fails=0

# mirror REVISION [FILES]: serve the sst2-mini files under that revision.
mirror() {
	local d="$T/mirror/$REPO/resolve/$1"; shift
	mkdir -p "$d"
	for f in ${*:-config.json vocab.txt tokenizer_config.json model.safetensors}; do ln -sf "$MODEL/$f" "$d/$f"; done
}
# leftovers DIR: list DIR and any DIR.tmp.* / DIR.old.* that exist.
leftovers() { ls -d "$1" "$1".tmp.* "$1".old.* 2>/dev/null || true; }
# expect_failure NAME OUT ENV...: the script must fail and leave nothing.
expect_failure() {
	local name=$1 out=$2 rc=0; shift 2
	env "$@" bash "$ROOT/scripts/download_model.sh" "$out" >"$T/$name.out" 2>&1 || rc=$?
	sed 's/^/    /' "$T/$name.out"
	local left; left=$(leftovers "$out")
	if [ $rc != 0 ] && [ -z "$left" ]; then echo "ok: $name: exit $rc, nothing left behind"
	else echo "FAIL: $name: exit $rc, left: ${left:-nothing}"; fails=$((fails + 1)); fi
}
# expect_success NAME OUT ENV...: exit 0, the four files equal the model's, readable, no temporaries.
expect_success() {
	local name=$1 out=$2 rc=0 f bad=""; shift 2
	env "$@" bash "$ROOT/scripts/download_model.sh" "$out" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
	sed 's/^/    /' "$T/$name.err"
	for f in config.json vocab.txt tokenizer_config.json model.safetensors; do
		cmp -s "$MODEL/$f" "$out/$f" || bad="$bad $f"
		[[ $(stat -c %A "$out/$f" 2>/dev/null) == ???????r?? ]] || bad="$bad $f(not world-readable)"
	done
	local left; left=$(leftovers "$out" | grep -vxF "$out" || true)
	if [ $rc = 0 ] && [ -z "$bad" ] && [ -z "$left" ] && [ "$(cat "$T/$name.out")" = "$out" ]; then
		echo "ok: $name: exit 0, four files equal the mirror's, no temporaries"
	else echo "FAIL: $name: exit $rc, differing:${bad:- none}, left: ${left:-nothing}"; fails=$((fails + 1)); fi
}

mirror test-mini
mirror incomplete config.json vocab.txt tokenizer_config.json
mirror "$PINNED"
mkdir -p "$T/mirror/$REPO/resolve/truncated"
for f in config.json vocab.txt tokenizer_config.json; do ln -sf "$MODEL/$f" "$T/mirror/$REPO/resolve/truncated/$f"; done
head -c 2000000 "$MODEL/model.safetensors" >"$T/mirror/$REPO/resolve/truncated/model.safetensors"
M="file://$T/mirror"

expect_failure unreachable "$T/models/a" SST2_HF_BASE=http://127.0.0.1:9
expect_failure missing_file "$T/models/b" SST2_HF_BASE="$M" SST2_HF_REVISION=incomplete
expect_failure pinned_sizes "$T/models/c" SST2_HF_BASE="$M"
expect_failure truncated "$T/models/d" SST2_HF_BASE="$M" SST2_HF_REVISION=truncated
expect_success mirror "$T/models/e" SST2_HF_BASE="$M" SST2_HF_REVISION=test-mini
expect_success replace "$T/models/e" SST2_HF_BASE="$M" SST2_HF_REVISION=test-mini
"$ROOT/bin/sst2" --info "$T/models/e" | grep -q '"dim":256' && echo "ok: bin/sst2 --info loads it" || { echo "FAIL: --info"; fails=$((fails + 1)); }

# README.md's block as written; only /srv/models/sst2 is replaced (sed) by a scratch path.
block=$(bash "$HERE/readme_block.sh" download | sed "s|/srv/models/sst2|$T/srv/models/sst2|g")
printf 'README block "download" (path replaced):\n%s\n' "$block"
if (cd "$ROOT" && SST2_HF_BASE="$M" SST2_HF_REVISION=test-mini eval "$block") >/dev/null 2>&1 &&
	cmp -s "$MODEL/model.safetensors" "$T/srv/models/sst2/model.safetensors"; then
	echo "ok: README download block"
else echo "FAIL: README download block"; fails=$((fails + 1)); fi

rm -rf "$T"
if [ $fails = 0 ]; then echo "PASS: download_model.sh (4 failure paths leave nothing, 2 successes, README block)"
else echo "FAIL: download_model.sh ($fails checks failed)"; exit 1; fi

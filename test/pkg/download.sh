#!/usr/bin/env bash
# scripts/download_model.sh, without the hub: a file:// mirror in the hub's
# /REPO/resolve/REVISION/FILE layout serves the sst2-mini model.
#   - success: exit 0, the folder holds the mirror's four files, loads, and no
#     temporary folder remains; a second run replaces it cleanly; README.md's
#     "download" block, run as written, does the same;
#   - failures (host unreachable, a file missing, a size that differs from the
#     pinned revision's, a truncated model that does not load, curl missing):
#     non-zero exit, the message that gives the reason, and neither the folder
#     nor any temporary folder left behind.
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
# expect_failure NAME OUT REASON ENV...: the script must fail with a message matching the
# regex REASON and leave nothing.
expect_failure() {
	local name=$1 out=$2 reason=$3 rc=0; shift 3
	env "$@" bash "${DL:-$ROOT/scripts/download_model.sh}" "$out" >"$T/$name.out" 2>&1 || rc=$?
	sed 's/^/    /' "$T/$name.out"
	local left; left=$(leftovers "$out")
	if [ $rc != 0 ] && [ -z "$left" ] && grep -qE "^download_model.sh: $reason" "$T/$name.out"; then
		echo "ok: $name: exit $rc, says why, nothing left behind"
	else
		echo "FAIL: $name: exit $rc, left: ${left:-nothing}, reason wanted: '$reason'"; fails=$((fails + 1))
	fi
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

command -v curl >/dev/null || { echo "FAIL: curl is not installed (scripts/test.sh installs it)"; exit 1; }
expect_failure unreachable "$T/models/a" "could not fetch config.json from http://127.0.0.1:9/" SST2_HF_BASE=http://127.0.0.1:9
expect_failure missing_file "$T/models/b" "could not fetch model.safetensors from file://" SST2_HF_BASE="$M" SST2_HF_REVISION=incomplete
expect_failure pinned_sizes "$T/models/c" "config.json is $(stat -c %s "$MODEL/config.json") bytes, expected 629 at revision $PINNED" SST2_HF_BASE="$M"
expect_failure truncated "$T/models/d" "the downloaded folder does not load" SST2_HF_BASE="$M" SST2_HF_REVISION=truncated
# without curl, as a user who cannot install it: it says how, before anything is written
# (a copy of the script, readable by that user wherever the clone is)
mkdir -p "$T/nocurl/bin" "$T/nocurl/scripts"
for f in /usr/bin/* /usr/sbin/*; do [ "${f##*/}" = curl ] || ln -sf "$f" "$T/nocurl/bin/"; done
cp "$ROOT/scripts/download_model.sh" "$T/nocurl/scripts/"
NOCURL="curl is not installed: install it first \\(sudo apt-get install curl\\)"
if [ "$(id -u)" = 0 ]; then
	chmod -R a+rX "$T"; chmod a+rwx "$T/models" 2>/dev/null || { mkdir -p "$T/models"; chmod a+rwx "$T/models"; }
	DL="$T/nocurl/scripts/download_model.sh" expect_failure no_curl "$T/models/f" "$NOCURL" \
		PATH="$T/nocurl/bin" runuser -u nobody -- env PATH="$T/nocurl/bin"
else
	DL="$T/nocurl/scripts/download_model.sh" expect_failure no_curl "$T/models/f" "$NOCURL" PATH="$T/nocurl/bin"
fi

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
if [ $fails = 0 ]; then echo "PASS: download_model.sh (5 failure paths say why and leave nothing, 2 successes, README block)"
else echo "FAIL: download_model.sh ($fails checks failed)"; exit 1; fi

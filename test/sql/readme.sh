#!/usr/bin/env bash
# A user's first hour, as README.md writes it: the blocks marked
# "<!-- readme-test: deps|build|configure|use -->" are extracted verbatim and
# run, each in fresh sessions, against a fresh cluster whose configuration has
# never named sst2.model_path (like a new Debian cluster).  Substitutions:
# "sudo [-u USER]" is a pass-through (we are root, and psql connects as the
# postgres superuser through PGHOST/PGPORT/PGUSER), and sed replaces the path
# /srv/models/sst2 with the test model's.  Also checked: ALTER SYSTEM without
# LOAD fails on such a cluster (so the test would catch the old instructions),
# and the unset-path error's HINT, run as given in a new session, works too.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../../scripts/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the README's blocks install packages and the extension)"; exit 77; }
MODEL=${SST2_MINI_MODEL:-$ROOT/models/sst2-mini}
[ -f "$MODEL/model.safetensors" ] || { echo "FAIL: no sst2-mini model at $MODEL"; exit 1; }
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
sudo() { while [[ ${1:-} == -* ]]; do case $1 in -u) shift 2 ;; *) shift ;; esac; done; "$@"; }
# block NAME: README.md's block NAME with the model path replaced.
block() { bash "$HERE/../pkg/readme_block.sh" "$1" | sed "s|/srv/models/sst2|$MODEL|g"; }
# run_block NAME: run it from the repository root, show it and its output.
run_block() {
	local b; b=$(block "$1")
	printf -- '--- README block "%s":\n%s\n' "$1" "$b"
	(cd "$ROOT" && eval "$b") </dev/null >"$SST2_TEST_TMP/readme_$1.out" 2>&1
}
# fresh_cluster: (re)start the cluster with no sst2 line in its configuration.
fresh_cluster() {
	as_pg "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -m fast -w stop >/dev/null
	sed -i '/^sst2\./d' "$CLUSTER_DIR/data/postgresql.conf"
	rm -f "$CLUSTER_DIR/data/postgresql.auto.conf"
	as_pg "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w start >/dev/null
}
# old_form_fails: the instructions without LOAD fail on a fresh cluster.
old_form_fails() {
	local out
	if out=$(psql -X -c "ALTER SYSTEM SET sst2.model_path = '$MODEL'" 2>&1); then
		bad "ALTER SYSTEM without LOAD worked on a fresh cluster: the test cluster is not fresh"
	else
		grep -q 'unrecognized configuration parameter "sst2.model_path"' <<<"$out" &&
			ok "ALTER SYSTEM without LOAD fails on a fresh cluster: $out" || bad "unexpected error: $out"
	fi
}
mkdir -p "$SST2_TEST_TMP"
start_cluster readme ""
trap stop_cluster EXIT
fresh_cluster

# 1. Packages and build, as written.
DEPS=deps${SST2_README_SUFFIX:-}	# deps-17, deps-18: that major's packages (scripts/matrix.sh)
run_block "$DEPS" && ok "$DEPS block" || { bad "$DEPS block"; cat "$SST2_TEST_TMP/readme_$DEPS.out"; }
run_block build && ok "build block" || { bad "build block"; tail -n 20 "$SST2_TEST_TMP/readme_build.out"; }

# 2. The HINT of the unset-path error, followed as given, in a new session.
old_form_fails
createdb hint
err=$(psql -X -d hint -c "CREATE EXTENSION sst2" -c "SELECT sst2_classify('x')" 2>&1 || true)
hint=$(sed -nE 's/^HINT: .*checkpoint folder: (.*)$/\1/p' <<<"$err")
echo "HINT: $hint"
if [[ $hint == "LOAD 'sst2'; ALTER SYSTEM SET sst2.model_path = "* ]]; then
	sql=$(sed -E "s|sst2.model_path = '[^']*'|sst2.model_path = '$MODEL'|" <<<"$hint" | tr ';' '\n' | sed 's/$/;/' | grep -v '^ *;$')
	if psql -X -q -v ON_ERROR_STOP=1 -d hint <<<"$sql" >/dev/null &&
		[ "$(psql -X -At -d hint -c "SELECT (sst2_classify('a gorgeous, witty, seductive movie .')).label")" = POSITIVE ]; then
		ok "the HINT's commands work in a new session"
	else bad "the HINT's commands"; fi
else bad "the HINT does not start with LOAD 'sst2'; ALTER SYSTEM SET sst2.model_path = ...: '$hint'"; fi

# 3. Back to a fresh cluster; the README's configure and use blocks.
fresh_cluster
old_form_fails
run_block configure && ok "configure block" || { bad "configure block"; cat "$SST2_TEST_TMP/readme_configure.out"; }
cat "$SST2_TEST_TMP/readme_configure.out"
grep -qx 'sst2.model_path = '"'$MODEL'" "$CLUSTER_DIR/data/postgresql.auto.conf" &&
	ok "postgresql.auto.conf names the model" || bad "postgresql.auto.conf: $(cat "$CLUSTER_DIR/data/postgresql.auto.conf")"
run_block use && ok "use block" || bad "use block"
cat "$SST2_TEST_TMP/readme_use.out"
grep -q '(POSITIVE,0\.9' "$SST2_TEST_TMP/readme_use.out" && ok "the use block classifies: POSITIVE" || bad "the use block's output"
# A later session, as anyone would open it.
read -r label path < <(psql -X -At -F' ' -c "SELECT (sst2_classify('dull , tedious and far too long .')).label, sst2_model_info()->>'path'")
[ "$label" = NEGATIVE ] && [ "$path" = "$MODEL" ] && ok "a new session classifies with $path" || bad "new session: $label $path"

if [ $fails = 0 ]; then echo "PASS: readme (deps, build, configure, use blocks as written; HINT)"
else echo "FAIL: readme ($fails checks failed)"; exit 1; fi

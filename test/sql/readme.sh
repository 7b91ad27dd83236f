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
#
# Then README.md as a newcomer reads it, top to bottom: `SST2_KEEP=1 bash scripts/demo.sh`,
# whose output must hold the README's opening example (statements and output) verbatim; the
# command the demo prints to open a session, run as printed with a clean environment; and in
# it, every ```sql block of README.md in order (test/pkg/readme_sql.sh), each with
# ON_ERROR_STOP: the one-server examples in database postgres, the "More than one server"
# blocks in databases shard1 and shard2 ("On every shard") and coordinator, on that same
# cluster.  The coordinator block's placeholders are replaced (host 'shardN.example', dbname
# 'reviews' by the cluster's socket, port and database shardN; user 'app', password 'secret'
# by the superuser postgres), and the 872 SST-2 dev sentences are loaded through the
# coordinator before its queries, as scripts/shards.sh does; the counts the README shows
# must come out.
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
# old_form_fails: the instructions without LOAD fail on a fresh cluster.  From PostgreSQL 17
# on, ALTER SYSTEM accepts a custom setting no loaded module defines, so there the old form
# works (and the README's LOAD is harmless): the check is that it does, and the cluster is
# made fresh again.
old_form_fails() {
	local out
	if [ "$(psql -X -Atc 'SHOW server_version_num')" -ge 170000 ]; then
		if out=$(psql -X -c "ALTER SYSTEM SET sst2.model_path = '$MODEL'" 2>&1); then
			ok "ALTER SYSTEM without LOAD works from PostgreSQL 17 on"
		else bad "ALTER SYSTEM without LOAD failed on PostgreSQL 17+: $out"; fi
		fresh_cluster
		return 0
	fi
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

stop_cluster

# 4. The README top to bottom on the demo's kept cluster.
DEMO_OUT="$SST2_TEST_TMP/readme_demo.out"
trap 'stop_cluster; stop_cluster_dir "$SST2_WORK/demo"' EXIT
if (cd "$ROOT" && unset SST2_MODEL && SST2_KEEP=1 bash scripts/demo.sh) </dev/null >"$DEMO_OUT" 2>"$DEMO_OUT.err"; then
	ok "SST2_KEEP=1 bash scripts/demo.sh"
else bad "the demo failed:"; tail -n 20 "$DEMO_OUT.err"; fi
SQL="$SST2_TEST_TMP/readme_sql"; rm -rf "$SQL"
bash "$HERE/../pkg/readme_sql.sh" "$SQL" >"$SQL.list"
# the opening example is what the demo prints: its statements, then its output as comments
sed -n '/^CREATE EXTENSION sst2;$/,/^([0-9]* rows)$/p' "$DEMO_OUT" | sed 's/ *$//' >"$SQL/demo_printed"
sed -E 's/^-- ?//; s/ *$//' "$SQL/01.sql" >"$SQL/readme_opening"
if [ -s "$SQL/demo_printed" ] && cmp -s "$SQL/demo_printed" "$SQL/readme_opening"; then
	ok "README's opening example is what the demo prints ($(wc -l <"$SQL/readme_opening") lines)"
else bad "README's opening example differs from the demo's output:"; diff "$SQL/readme_opening" "$SQL/demo_printed" || true; fi
hint=$(grep -E '^(sudo -u postgres |runuser -u postgres -- )?psql -h ' "$DEMO_OUT" | tail -n 1 || true)
echo "the demo's command to open a session: $hint"
# hint_psql [DB]: the demo's command as printed (another database when given), in a clean
# environment, statements on stdin
hint_psql() {
	local cmd=$hint
	[ -n "${1:-}" ] && cmd=${cmd/-d postgres/-d $1}
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/ LANG=C.UTF-8 \
		bash -c "$cmd -X -v ON_ERROR_STOP=1"
}
if [ -n "$hint" ] && [ "$(hint_psql <<<"SELECT current_user, current_database();" | sed -n 3p | tr -d ' ')" = "postgres|postgres" ]; then
	ok "the demo's command opens a session (as postgres, database postgres)"
else bad "the demo's command does not open a session: '$hint'"; fi
DEMO_RUN="$SST2_WORK/demo/run"
hint_psql <<<"CREATE DATABASE shard1; CREATE DATABASE shard2; CREATE DATABASE coordinator;" >/dev/null ||
	bad "could not create the shard and coordinator databases"
loaded=0
while read -r n where line; do
	f="$SQL/$n.sql"
	case $where in
	server) dbs="" ;;
	shard) dbs="shard1 shard2" ;;
	coordinator)
		dbs=coordinator
		sed -i -E "s|host 'shard([0-9]+)\.example', dbname 'reviews'|host '$DEMO_RUN', port '$SST2_PGPORT', dbname 'shard\1'|;
			s|user 'app', password 'secret'|user 'postgres'|" "$f"
		# the queries (the block that starts with SELECT) run on the dev sentences, loaded
		# through the coordinator
		if [ $loaded = 0 ] && head -n 1 "$f" | grep -q '^SELECT'; then
			psql -X -q -v ON_ERROR_STOP=1 -h "$DEMO_RUN" -p "$SST2_PGPORT" -U postgres -d coordinator \
				-c "CREATE TEMP TABLE dev (n serial, review text)" \
				-c "\\copy dev (review) FROM PROGRAM 'tail -n +2 $SST2_DATA/sst2/dev.tsv | cut -f1' WITH (FORMAT text)" \
				-c "INSERT INTO reviews (id, review) SELECT n, review FROM dev" >/dev/null ||
				bad "loading the dev sentences through the coordinator"
			loaded=1
		fi ;;
	*) bad "README.md line $line: unknown readme-sql target '$where'"; continue ;;
	esac
	for db in ${dbs:-postgres}; do
		if hint_psql "$([ -n "$dbs" ] && echo "$db")" <"$f" >"$f.$db.out" 2>&1; then
			ok "README sql block $n (line $line) in database $db"
		else bad "README sql block $n (line $line) in database $db:"; tail -n 15 "$f.$db.out"; fi
	done
done <"$SQL.list"
[ "$(wc -l <"$SQL.list")" -ge 5 ] && ok "$(wc -l <"$SQL.list") sql blocks run, in order" || bad "only $(wc -l <"$SQL.list") sql blocks found"
# what the README says these blocks give
last=$(tail -n 1 "$SQL.list" | cut -d' ' -f1)
counts=$(grep -E '^ (NEGATIVE|POSITIVE) +\| +[0-9]+$' "$SQL/$last.sql.coordinator.out" | tr -s ' ' | sort | uniq -c | tr -s ' ' | tr '\n' ';' || true)
# (the labels stored by the trigger and those counted on the shards: both as the README shows)
[ "$counts" = " 2 NEGATIVE | 408; 2 POSITIVE | 464;" ] && ok "labels through the coordinator: NEGATIVE 408, POSITIVE 464, as the README shows" ||
	bad "labels through the coordinator: '$counts', the README shows NEGATIVE 408, POSITIVE 464 (twice)"
ins=$(grep -E '^ POSITIVE \| 0\.[0-9]+$' "$SQL/$last.sql.coordinator.out" | awk '{ printf "%.4f", $3 }' || true)
[ "$ins" = 0.9998 ] && ok "the INSERT through the coordinator is classified on its shard: POSITIVE $ins" ||
	bad "INSERT ... RETURNING label, score: '$(tail -n 4 "$SQL/$last.sql.coordinator.out" | tr '\n' ' ')', the README shows POSITIVE 0.9998…"
stop_cluster_dir "$SST2_WORK/demo"

if [ $fails = 0 ]; then echo "PASS: readme (deps, build, configure, use blocks as written; HINT; the demo's session; every sql block in order)"
else echo "FAIL: readme ($fails checks failed)"; exit 1; fi

#!/usr/bin/env bash
# sst2_watch with shared_preload_libraries = 'sst2' (issue 18), on clusters of
# its own (ports SST2_PGPORT + 11 and + 12):
#  - pg_ctl stop -m immediate mid-backfill, start: the launcher starts the
#    worker again with no sst2 call at all, and every row ends up right;
#  - two databases with jobs and sst2.max_workers = 1: both finish;
#  - a hot standby (pg_basebackup -R) runs no sst2 launcher or worker.
# Needs SST2_TINY_MODEL (scripts/test.sh).
set -uo pipefail
cd "$(dirname "$0")/../.."
TINY=${SST2_TINY_MODEL:?}
source scripts/lib.sh
set +e
BASE=${SST2_PGPORT:-54321}
export SST2_PGPORT=$((BASE + 11))
SST2_PRELOAD=1 start_cluster watch_preload "$TINY"
PRIMARY=$CLUSTER_DIR
STANDBY=$SST2_WORK/watch_standby
trap 'stop_cluster_dir "$STANDBY"; stop_cluster' EXIT
fail=0
check() { # WHAT GOT WANT
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: got '$2', want '$3'"; fail=1; fi
}
q() { timeout "${TO:-120}" psql -X -q -At -v VERBOSITY=verbose "$@" 2>&1; }
procs() { # TYPE [PORT]: processes of that backend_type
	q -p "${2:-$SST2_PGPORT}" -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = '$1'"
}
# wait_sql SQL WANT [SECONDS]: poll plain SQL (no sst2 function: those would start the worker)
wait_sql() {
	for _ in $(seq $((${3:-300} * 5))); do [ "$(q -c "$1")" = "$2" ] && return 0; sleep 0.2; done
	return 1
}

q -c "ALTER SYSTEM SET synchronous_commit = on" -c "SELECT pg_reload_conf()" >/dev/null
createdb other
for db in postgres other; do
	q -d $db <<'SQL' >/dev/null
CREATE EXTENSION sst2;
CREATE TABLE t (id bigserial PRIMARY KEY, body text, lab text, sc real);
INSERT INTO t (body) SELECT 'preload test ' || g || repeat(' fairly nice', g % 6) FROM generate_series(1, 20000) g;
SELECT sst2_watch('t', 'body', 'lab', 'sc');
SQL
done
export PGDATABASE=postgres
wait_sql "SELECT count(*) >= 2000 FROM t WHERE lab IS NOT NULL" t 300
echo "stopping after $(q -c "SELECT count(*) FROM t WHERE lab IS NOT NULL") rows"
as_pg "$PGBIN/pg_ctl" -D "$PRIMARY/data" -m immediate -w stop >/dev/null 2>&1
as_pg "$PGBIN/pg_ctl" -D "$PRIMARY/data" -l "$PRIMARY/server.log" -w -t 60 start >/dev/null
wait_sql "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'sst2 worker'" 1 30
check "after the crash the launcher started a worker, no sst2 call made" "$(procs 'sst2 worker')" 1
check "both databases finish with sst2.max_workers = 1" \
	"$(wait_sql "SELECT count(*) FROM t WHERE lab IS NULL" 0 600; PGDATABASE=other wait_sql "SELECT count(*) FROM t WHERE lab IS NULL" 0 600; q -d other -c "SELECT count(*) FROM t WHERE lab IS NULL")" 0
check "every row labelled right after the crash" \
	"$(q -c "SELECT count(*) FROM t WHERE lab IS DISTINCT FROM sst2_label(body) OR abs(sc - sst2_score(body)) > 1e-5")" 0
check "sst2_jobs: following" "$(q -c "SELECT state FROM sst2_jobs")" following
check "the launcher has exited" "$(procs 'sst2 launcher')" 0

# ---- a hot standby runs no sst2 process
rm -rf "$STANDBY"; mkdir -p "$STANDBY"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$STANDBY"
as_pg "$PGBIN/pg_basebackup" -h "$PRIMARY/run" -p "$SST2_PGPORT" -D "$STANDBY/data" -R -X stream >/dev/null 2>&1
sed -i -e "s/^port = .*/port = $((BASE + 12))/" -e "s|^unix_socket_directories = .*|unix_socket_directories = '$PRIMARY/run'|" "$STANDBY/data/postgresql.conf"
as_pg "$PGBIN/pg_ctl" -D "$STANDBY/data" -l "$STANDBY/server.log" -w -t 60 start >/dev/null
q -c "INSERT INTO t (body) VALUES ('written while a standby follows')" >/dev/null
sleep 3
check "the standby is in recovery" "$(q -p $((BASE + 12)) -c "SELECT pg_is_in_recovery()")" t
check "the standby runs no sst2 worker or launcher" "$(procs 'sst2 worker' $((BASE + 12)))$(procs 'sst2 launcher' $((BASE + 12)))" 00
check "sst2_pending on the standby starts nothing" "$(q -p $((BASE + 12)) -c "SELECT sst2_pending('t') >= 0" && sleep 1 && procs 'sst2 worker' $((BASE + 12)))" "$(printf 't\n0')"
check "the primary labels the new row" "$(wait_sql "SELECT count(*) FROM t WHERE lab IS NULL" 0 60 && echo done)" done

check "no backend crashed" "$(cat "$PRIMARY/server.log" "$STANDBY/server.log" | grep -cE 'terminated by signal|server process .* was terminated')" 0
if [ $fail = 0 ]; then echo "PASS: sst2_watch with preload"; else echo "FAIL: sst2_watch with preload"; exit 1; fi

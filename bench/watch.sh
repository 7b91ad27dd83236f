#!/usr/bin/env bash
# bench/watch.sh: background labelling (sst2_watch) against the window form, and what each way
# of labelling costs the writer.
#
#   bash bench/watch.sh                  about 3-5 minutes on sst2-mini (run it on a quiet machine)
#   SST2_BENCH_QUICK=1 bash bench/watch.sh   smoke test: 2,000 rows, 200 INSERTs
#
# On the bundled models/sst2-mini (SST2_BENCH_MODEL to change) and the SST-2 dev sentences
# (test/data/sst2/dev.tsv, 872) repeated to SST2_BENCH_ROWS rows (20,000):
#
#   throughput  the same rows in fresh copies of one table (id, body, lab, sc), the server
#               pinned to one core (taskset -c $SST2_BENCH_CPU, default 1), one after another:
#                 window SELECT   SELECT count(...) FROM (SELECT sst2_classify_window(body) OVER ()
#                                 ...) in one session (model warmed up first)
#                 window UPDATE   the README's window-form backfill UPDATE of lab and sc
#                 worker          sst2_watch(...) until sst2_wait(...) is true: from the call to
#                                 the last batch (sst2_jobs.last_activity; the worker's start and
#                                 its model load included); labels checked equal to the window
#                                 UPDATE's
#               repeated SST2_BENCH_REPS times (1), alternating; for each way's run with the least
#               wall time, also the time its process ran on the core and the time it waited for the
#               core (/proc/PID/schedstat of the backend or the worker): what the way costs when it
#               has the core to itself, steadier than wall time on a shared machine, and how much
#               of the wall time other work on the core took
#   insert      single-row INSERTs, each its own transaction (pgbench -t, one client, a random
#               dev sentence each), SST2_BENCH_INSERTS (2,000) per table in 4 rounds alternating
#               between the tables, server unpinned (the worker labels the watched table's new
#               rows meanwhile, on whichever core is free): into an unwatched table, a table
#               with the sst2_tag trigger, and a table under sst2_watch; median and p99 latency
#               (pgbench's per-transaction log; the first INSERT of each connection left out)
#
# The throwaway cluster lives in $SST2_WORK/bench-watch (port $SST2_PGPORT, default 54359; it
# has fsync and synchronous_commit off, like every cluster of scripts/lib.sh: the INSERT
# latencies are those of a server that does not wait for its disk).
#
# Environment:
#   SST2_BENCH_QUICK=1       tiny version for smoke testing (numbers not representative)
#   SST2_BENCH_NOBUILD=1     assume the extension is built and installed
#   SST2_BENCH_ROWS=N        rows of the throughput table (20000; quick: 2000)
#   SST2_BENCH_INSERTS=N     INSERTs per table (2000; quick: 200)
#   SST2_BENCH_REPS=N        repetitions of each throughput measurement (1)
#   SST2_BENCH_CPU=N         the core the server runs on for the throughput part (1)
#   SST2_BENCH_PRECISION=P   sst2.precision of the server (fp32, bf16, int8): the worker and the
#                            window form both use it
#   SST2_BENCH_MODEL=DIR     the model folder (models/sst2-mini)
#   OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE are left as the environment has them.
export SST2_PGPORT=${SST2_PGPORT:-54359}
source "$(dirname "$0")/../scripts/lib.sh"

QUICK=${SST2_BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then ROWS=${SST2_BENCH_ROWS:-2000} INSERTS=${SST2_BENCH_INSERTS:-200}
else ROWS=${SST2_BENCH_ROWS:-20000} INSERTS=${SST2_BENCH_INSERTS:-2000}; fi
REPS=${SST2_BENCH_REPS:-1}
CPU=${SST2_BENCH_CPU:-1}
PRECISION=${SST2_BENCH_PRECISION:-fp32}
MODEL=${SST2_BENCH_MODEL:-$ROOT/models/sst2-mini}
ROUNDS=4
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

if [ "${SST2_BENCH_NOBUILD:-0}" != 1 ]; then ensure_deps; build_install; fi
start_cluster bench-watch "$(server_model "$MODEL")" "$CPU"
trap stop_cluster EXIT
T=$CLUSTER_DIR/tmp
mkdir -p "$T"; chmod a+rwx "$T"
PSQL="psql -X -q -v ON_ERROR_STOP=1"
q() { $PSQL -At "$@"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'avx2|avx512f|avx512_vnni|avx512_bf16' | tr '\n' ' ')
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p') ($flags); $(nproc --all) cores; load average $(loadavg) at the start"
echo "date: $(date -u +%FT%TZ); git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "model: $MODEL; sst2.precision = $PRECISION; sst2.batch_size = 64 (default);" \
	"OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset} (as the environment has them)"

q -c "LOAD 'sst2'" -c "ALTER SYSTEM SET sst2.precision = '$PRECISION'" -c "SELECT pg_reload_conf()" >/dev/null
tail -n +2 "$SST2_DATA/sst2/dev.tsv" | cut -f1 >"$T/dev.txt"
$PSQL <<EOSQL >/dev/null
CREATE EXTENSION sst2;
CREATE TABLE dev (id serial PRIMARY KEY, sentence text NOT NULL);
\copy dev (sentence) FROM '$T/dev.txt' WITH (FORMAT csv, DELIMITER E'\t', QUOTE E'\x01')
-- the workload: dev repeated to $ROWS rows, in a fixed order
CREATE TABLE src AS
	SELECT row_number() OVER (ORDER BY g, d.id)::int AS id, d.sentence AS body
	FROM dev d, generate_series(1, ceil($ROWS / 872.0)::int) g ORDER BY g, d.id LIMIT $ROWS;
VACUUM ANALYZE dev, src;
EOSQL
n_dev=$(q -c "SELECT count(*) FROM dev")
[ "$n_dev" = 872 ] || { echo "dev table: $n_dev rows, want 872" >&2; exit 1; }

# fresh TABLE: a new copy of the workload, unlabelled
fresh() {
	PGOPTIONS="-c client_min_messages=warning" q -c "DROP TABLE IF EXISTS $1" \
		-c "CREATE TABLE $1 (id int PRIMARY KEY, body text, lab text, sc real)" \
		-c "INSERT INTO $1 (id, body) SELECT id, body FROM src ORDER BY id" \
		-c "VACUUM ANALYZE $1" >/dev/null
}
# timed_sql SQL: "wall_s cpu_s wait_s" of the statement in a session whose model is warm: psql's
# \timing, and from /proc/PID/schedstat of its backend before and after, the time it ran on a
# core and the time it was ready to run but waited for one (the machine's other work)
timed_sql() {
	$PSQL -At <<EOSQL | awk '/^Time: / { w = $2 / 1000 } /^s0 / { c0 = $2; q0 = $3 } /^s1 / { c1 = $2; q1 = $3 }
		END { printf "%.3f %.3f %.3f\n", w, (c1 - c0) / 1e9, (q1 - q0) / 1e9 }'
SELECT pg_backend_pid() AS pid \gset
\setenv BENCH_PID :pid
SELECT sst2_prewarm();
\! echo "s0 \$(cat /proc/\$BENCH_PID/schedstat)"
\timing on
$1;
\timing off
\! echo "s1 \$(cat /proc/\$BENCH_PID/schedstat)"
EOSQL
}

# ---------------------------------------------------------------- throughput
log "throughput: $ROWS rows, server on core $CPU, $REPS run(s) each"
: >"$T/thr"
for r in $(seq 1 "$REPS"); do
	fresh w_select
	s=$(timed_sql "SELECT count((c).label) FROM (SELECT sst2_classify_window(body) OVER () AS c FROM w_select) s")
	echo "window_select $s" >>"$T/thr"; log "  window SELECT: $s s (wall, CPU, waiting for the core)"

	fresh w_update
	s=$(timed_sql "UPDATE w_update t SET lab = (s.c).label, sc = (s.c).score
		FROM (SELECT id, sst2_classify_window(body) OVER () AS c FROM w_update) s WHERE t.id = s.id")
	echo "window_update $s" >>"$T/thr"; log "  window UPDATE: $s s (wall, CPU, waiting for the core)"

	fresh w_worker
	t0=$(q -c "SELECT extract(epoch FROM clock_timestamp())")
	q -c "SELECT sst2_watch('w_worker', 'body', 'lab', 'sc')" >/dev/null
	[ "$(q -c "SELECT sst2_wait('w_worker', '30 minutes')")" = t ] || { echo "sst2_wait timed out" >&2; exit 1; }
	read -r s rate < <(q -F' ' -c "SELECT round((extract(epoch FROM last_activity) - $t0)::numeric, 3), round(rows_per_second)
		FROM sst2_jobs WHERE tbl = 'w_worker'::regclass")
	# the worker's CPU time: a new process started for this job (the last one exited with its job)
	pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'sst2 worker'
		AND extract(epoch FROM backend_start) >= $t0")
	[ -n "$pid" ] || { echo "no sst2 worker started for this run" >&2; exit 1; }
	read -r cpu wait < <(awk '{ printf "%.3f %.3f\n", $1 / 1e9, $2 / 1e9 }' "/proc/$pid/schedstat")
	echo "worker $s $cpu $wait" >>"$T/thr"; log "  worker: $s s, CPU $cpu s, waiting for the core $wait s (sst2_jobs.rows_per_second: $rate)"
	wrong=$(q -c "SELECT count(*) FROM w_update a JOIN w_worker b USING (id)
		WHERE a.lab IS DISTINCT FROM b.lab OR abs(a.sc - b.sc) > 1e-5")
	[ "$wrong" = 0 ] || { echo "the worker's labels differ from the window form's on $wrong rows" >&2; exit 1; }
	q -c "SELECT sst2_unwatch('w_worker')" >/dev/null
	for _ in $(seq 100); do [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'sst2 worker'")" = 0 ] && break; sleep 0.1; done
done
load_thr=$(loadavg)

# ---------------------------------------------------------------- INSERT latency
log "INSERT latency: $INSERTS single-row INSERTs per table in $ROUNDS rounds, server unpinned"
as_pg "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -m fast -w stop >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w -t 60 start >/dev/null
$PSQL <<'EOSQL' >/dev/null
CREATE TABLE ins_unwatched (id bigserial PRIMARY KEY, body text, lab text, sc real);
CREATE TABLE ins_tagged (LIKE ins_unwatched INCLUDING ALL);
CREATE TRIGGER tag BEFORE INSERT OR UPDATE ON ins_tagged
	FOR EACH ROW EXECUTE FUNCTION sst2_tag('body', 'lab', 'sc');
CREATE TABLE ins_watched (LIKE ins_unwatched INCLUDING ALL);
SELECT sst2_watch('ins_watched', 'body', 'lab', 'sc');
EOSQL
KINDS="unwatched tagged watched"
per_round=$(( (INSERTS + ROUNDS - 1) / ROUNDS ))
for k in $KINDS; do
	printf '\\set i random(1, %d)\nINSERT INTO ins_%s (body) SELECT sentence FROM dev WHERE id = :i;\n' "$n_dev" "$k" >"$T/ins_$k.sql"
	rm -f "$T"/lat_"$k".*
done
for r in $(seq 1 $ROUNDS); do
	for k in $KINDS; do
		# +1: the connection's first INSERT (catalog caches, model load) is left out below
		(cd "$T" && as_pg "$PGBIN/pgbench" -n -c 1 -t $((per_round + 1)) -f "ins_$k.sql" -l --log-prefix="lat_${k}_$r" \
			-h "$PGHOST" -p "$PGPORT" -U "$PGUSER" postgres >"$T/pgbench_${k}_$r.out" 2>&1) ||
			{ cat "$T/pgbench_${k}_$r.out" >&2; exit 1; }
	done
done
[ "$(q -c "SELECT sst2_wait('ins_watched', '10 minutes')")" = t ] || { echo "the watched inserts were not labelled" >&2; exit 1; }
for k in $KINDS; do
	[ "$(q -c "SELECT count(*) FROM ins_$k WHERE lab IS NULL")" = "$([ $k = unwatched ] && echo $((ROUNDS * (per_round + 1))) || echo 0)" ] ||
		{ echo "ins_$k: unexpected unlabelled rows" >&2; exit 1; }
	# pgbench's log: client transaction(1..) latency_us ...; drop each connection's first
	for f in "$T"/lat_"${k}"_*; do awk '$2 > 1 { print $3 / 1000 }' "$f"; done | sort -n >"$T/ms_$k"
done
# stats FILE: "n median p99" of the sorted values in FILE
stats() { awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
	i = int(0.99 * NR + 0.999999); printf "%d %.3f %.3f\n", NR, m, v[i] }' "$1"; }

# ---------------------------------------------------------------- report
echo "load average after the throughput part: $load_thr; at the end: $(loadavg)"
echo
echo "Throughput, $ROWS rows, best of $REPS, server pinned to core $CPU:"
echo
echo "| way | wall s | rows/s | × window SELECT | × window UPDATE | on a core s | waiting for the core s | rows per s on a core | × window SELECT | × window UPDATE |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
# best KIND: "wall cpu wait" of the run of KIND with the least wall time
best() { sort -k2,2n "$T/thr" | awk -v k="$1" '$1 == k { print $2, $3, $4; exit }'; }
read -r ws cs _ < <(best window_select)
read -r wu cu _ < <(best window_update)
for k in window_select window_update worker; do
	case $k in
	window_select) name='window form, `SELECT sst2_classify_window(body) OVER ()`' ;;
	window_update) name='window form, backfill `UPDATE … FROM (SELECT id, sst2_classify_window(body) OVER () …)`' ;;
	worker) name='worker: `sst2_watch` until `sst2_wait` (start and model load included)' ;;
	esac
	read -r w c q < <(best $k)
	awk -v n="$name" -v r="$ROWS" -v w="$w" -v c="$c" -v q="$q" -v ws="$ws" -v wu="$wu" -v cs="$cs" -v cu="$cu" \
		'BEGIN { printf "| %s | %.2f | %.1f | %.2f | %.2f | %.2f | %.2f | %.1f | %.2f | %.2f |\n",
			n, w, r / w, ws / w, wu / w, c, q, r / c, cs / c, cu / c }'
done
echo "(wall: psql's \\timing, or from the sst2_watch call to the worker's last batch; on a core / waiting"
echo "for the core: /proc/PID/schedstat of the backend or of the worker process, the time it ran and the"
echo "time it was ready but the core ran something else; the run with the least wall time of $REPS;"
echo "× = the other way's time / this one's)"
echo
echo "INSERT latency, one row per transaction (pgbench, one client), server unpinned:"
echo
echo "| table | INSERTs | median ms | p99 ms | median − unwatched |"
echo "| --- | ---: | ---: | ---: | ---: |"
read -r _ base _ < <(stats "$T/ms_unwatched")
for k in $KINDS; do
	read -r n med p99 < <(stats "$T/ms_$k")
	case $k in
	unwatched) name='unwatched' ;;
	tagged) name='`sst2_tag` trigger' ;;
	watched) name='`sst2_watch`ed' ;;
	esac
	awk -v n="$name" -v c="$n" -v m="$med" -v p="$p99" -v b="$base" \
		'BEGIN { printf "| %s | %d | %.3f | %.3f | %+.3f ms |\n", n, c, m, p, m - b }'
done

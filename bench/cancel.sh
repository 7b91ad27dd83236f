#!/usr/bin/env bash
# bench/cancel.sh: how fast a long sst2 query stops, the speed figures that test/sql/faults.sh
# only bounds (there a bound of seconds catches a query that does not stop at all).
#
#   bash bench/cancel.sh        (SST2_BENCH_REPS=N repetitions, default 5; run it on a quiet machine)
#
# On the bundled sst2-mini, for a long sst2_classify_agg and a long sst2_classify_window
# (3,000 texts of 500 words each, batched):
#   statement_timeout  SET statement_timeout = '300ms': the query's total time (psql \timing),
#                      target 300 + 200 ms
#   cancel             pg_cancel_backend one second in: from the signal (the server's clock as
#                      it sent it) to the client's return, target 200 ms
# Prints min / median / max per query and the CPU.  The throwaway cluster lives in
# $SST2_WORK/bench-cancel (port $SST2_PGPORT, default 54349).
export SST2_PGPORT=${SST2_PGPORT:-54349}
source "$(dirname "$0")/../scripts/lib.sh"
REPS=${SST2_BENCH_REPS:-5}
if [ "${SST2_BENCH_NOBUILD:-0}" != 1 ]; then ensure_deps; build_install; fi
start_cluster bench-cancel "$ROOT/models/sst2-mini"
trap stop_cluster EXIT
DB=postgres
psql -X -q -c "CREATE EXTENSION IF NOT EXISTS sst2"
psql -X -q -At -c "SELECT sst2_prewarm()" >/dev/null

now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
# stats: min median max of the numbers on stdin
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "%d / %d / %d", v[1], v[int((NR + 1) / 2)], v[NR] }'; }

AGG="SELECT sst2_classify_agg(t) FROM (SELECT repeat('word ', 500) || i AS t FROM generate_series(1, 3000) i) s"
WIN="SELECT count(w) FROM (SELECT sst2_classify_window(t) OVER () AS w FROM (SELECT repeat('word ', 500) || i AS t FROM generate_series(1, 3000) i) s) w"
T=$(mktemp -d); chmod a+rx "$T"
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| query | statement_timeout 300 ms: total ms (min / median / max) | pg_cancel_backend: ms to stop (min / median / max) | runs |\n'
printf '| --- | --- | --- | ---: |\n'
for q in AGG WIN; do
	: >"$T/st"; : >"$T/cancel"
	for ((i = 0; i < REPS; i++)); do
		out=$(psql -X -q -c "SET statement_timeout = '300ms'" -c '\timing on' -c "${!q}" 2>&1 || true)
		grep -q "statement timeout" <<<"$out" || { echo "$q was not stopped by statement_timeout: $out" >&2; exit 1; }
		grep -o 'Time: [0-9.]*' <<<"$out" | awk '{ printf "%d\n", $2 }' >>"$T/st"
		psql -X -q -At -c "SET application_name = 'sst2_bench_cancel'" -c "${!q}" >"$T/out" 2>&1 &
		bg=$!
		sleep 1
		# t1: the server's clock when it sent the signal (not counting this psql's own start)
		t1=$(psql -X -q -At -c "WITH p AS MATERIALIZED (SELECT pid FROM pg_stat_activity
			WHERE application_name = 'sst2_bench_cancel') SELECT extract(epoch FROM clock_timestamp())
			FROM p WHERE pg_cancel_backend(p.pid)")
		wait $bg || true
		t2=$(now)
		grep -q "canceling statement due to user request" "$T/out" || { echo "$q was not cancelled: $(cat "$T/out")" >&2; exit 1; }
		ms "$t1" "$t2" >>"$T/cancel"; echo >>"$T/cancel"
	done
	printf '| %s | %s | %s | %d |\n' "$( [ $q = AGG ] && echo sst2_classify_agg || echo sst2_classify_window)" \
		"$(stats <"$T/st")" "$(grep . "$T/cancel" | stats)" "$REPS"
done
rm -rf "$T"

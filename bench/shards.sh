#!/usr/bin/env bash
# bench/shards.sh: one shard against two (scripts/shards.sh), the 872 SST-2
# dev sentences repeated SST2_BENCH_REPEAT times (default 6), models/sst2-mini
# (SST2_MODEL to change).  For each query: wall time, rows per second, and the
# CPU time of the coordinator's backend against that of the shards' backends
# serving it (utime + stime from /proc/PID/stat, read before and after, all in
# one coordinator session so the postgres_fdw connections stay the same).  On a
# shared machine the wall time includes waiting for a core; "rows/s on
# dedicated cores" is rows / the busiest shard's CPU seconds, what the wall
# time would be if every shard had its core to itself.
# Prints a table; README "More than one server" keeps the figures.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/shards.sh"
export SST2_PGPORT
REPEAT=${SST2_BENCH_REPEAT:-6}
MODEL=${SST2_MODEL:-$ROOT/models/sst2-mini}
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/shards.sh

# snap COORD_PID: "seconds coordinator_ticks shard1_ticks shard2_ticks ..." now
# (a shard's ticks: those of its backends serving the coordinator)
snap() {
	local k pids out
	ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done; echo $t; }
	out="$(date +%s.%N) $(ticks "$1")"
	for k in $(seq 1 "$SHARDS_N"); do
		pids=$(node_psql "$k" -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'postgres_fdw'")
		out+=" $(ticks $pids)"
	done
	echo "$out"
}
if [ "${1:-}" = snap ]; then SHARDS_N=$2; snap "$(cat "$SST2_WORK/coord.pid")"; exit; fi

# The measured queries: name, then SQL (each run once, after a warm-up that
# opens the postgres_fdw connections and loads the model on the shards).
QUERIES=(
	"label_counts: per-shard GROUP BY view (pushed-down aggregate)"
	"SELECT * FROM label_counts"
	"reviews_classified: window view, count on the coordinator (bulk read)"
	"SELECT label, count(*) FROM reviews_classified GROUP BY label"
	"WHERE sst2_label(review) = ..., enable_partitionwise_aggregate off (async)"
	"SELECT count(*) FROM reviews WHERE sst2_label(review) = 'NEGATIVE'"
	"WHERE sst2_label(review) = ..., enable_partitionwise_aggregate on"
	"SET enable_partitionwise_aggregate = on; SELECT count(*) FROM reviews WHERE sst2_label(review) = 'NEGATIVE'; RESET enable_partitionwise_aggregate"
	"UPDATE SET label = sst2_label(review), score = sst2_score(review) (direct, bulk write)"
	"UPDATE reviews SET label = sst2_label(review), score = sst2_score(review)"
	"reviews_backfill: window-form UPDATE view on every shard (bulk write)"
	"UPDATE reviews SET label = NULL, score = NULL; \\! bash $SELF snap \$n > $SST2_WORK/snap_start
SELECT * FROM reviews_backfill"
)

# measure N: one coordinator session; a snapshot before and after each query
measure() { # N
	local n=$1 rows=$((REPEAT * 872)) i script
	script="\\o $SST2_WORK/coord.pid
SELECT pg_backend_pid();
\\o /dev/null
SELECT * FROM label_counts;
"
	for ((i = 0; i < ${#QUERIES[@]}; i += 2)); do
		script+="\\! bash $SELF snap $n > $SST2_WORK/snap_start
${QUERIES[i + 1]//\$n/$n};
\\! bash $SELF snap $n > $SST2_WORK/snap_end
\\! paste -d' ' $SST2_WORK/snap_start $SST2_WORK/snap_end >> $SST2_WORK/snaps
"
	done
	rm -f "$SST2_WORK/snaps"
	coord -At <<<"$script"
	i=0
	while read -r line; do
		awk -v n="$n" -v rows="$rows" -v name="${QUERIES[i]}" '{
			h = NF / 2; wall = $(h + 1) - $1; c = $(h + 2) - $2; s = 0; m = 0;
			for (k = 3; k <= h; k++) { d = $(h + k) - $k; s += d; if (d > m) m = d }
			printf "| %d | %s | %.2f | %.0f | %.2f | %.2f | %.0f | %.1f%% |\n", n, name, wall, rows / wall, c / 100, s / 100, rows / (m / 100), 100 * c / (c + s) }' <<<"$line"
		i=$((i + 2))
	done <"$SST2_WORK/snaps"
}

echo "rows per query: $((REPEAT * 872)); rows/s on dedicated cores = rows / the busiest shard's CPU seconds"
echo "| shards | query | wall s | rows/s | coordinator CPU s | shards CPU s | rows/s on dedicated cores | coordinator share |"
echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for n in 1 2; do
	build_install >/dev/null 2>&1 || true
	shards_up "$n" "$MODEL" 2>/dev/null
	shards_schema >/dev/null
	# rows stored unclassified: the bench measures the queries, not the load
	for k in $(seq 1 "$n"); do node_psql "$k" -c "ALTER TABLE reviews DISABLE TRIGGER tag"; done
	shards_load "$REPEAT"
	for k in $(seq 1 "$n"); do node_psql "$k" -c "VACUUM ANALYZE reviews"; done
	measure "$n"
	shards_down
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"

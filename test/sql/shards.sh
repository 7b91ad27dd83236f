#!/usr/bin/env bash
# sst2 on sharded tables through postgres_fdw (issue 11), with scripts/shards.sh:
# a coordinator WITHOUT a model and two shards holding the 872 SST-2 dev
# sentences.  Checks that
#  - EXPLAIN (VERBOSE) of WHERE sst2_label(review) = ..., the per-shard scored
#    view, counts per label and the bulk paths (window view, UPDATE) shows every
#    sst2 call in the shards' Remote SQL and none in a coordinator node (and the
#    check flags GROUP BY sst2_label(review), which the coordinator would run);
#  - the coordinator cannot classify at all (no model): what it returns came
#    from the shards;
#  - results through the coordinator equal the same queries on one server
#    holding all rows;
#  - a generated label column on a shard: which foreign-table declaration
#    lets the shard classify (README "More than one server");
#  - a shard that is down is a clear connection ERROR, an INSERT spanning it
#    leaves nothing on the other shard, and after it comes back all works.
# Ports: SST2_SHARDS_PORT (default SST2_PGPORT + 5) and the next two.
SST2_PGPORT=${SST2_SHARDS_PORT:-$(( ${SST2_PGPORT:-54329} + 5 ))}
source "$(dirname "$0")/../../scripts/shards.sh"
set +e -uo pipefail
fail=0
check() { # WHAT GOT WANT
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1"; echo "  got:  $2"; echo "  want: $3"; fail=1; fi
}
check_re() { # WHAT GOT REGEX
	if [[ $2 =~ $3 ]]; then echo "ok: $1"; else echo "FAIL: $1"; echo "  got:  $2"; echo "  want: /$3/"; fail=1; fi
}
q() { coord -At "$@" 2>&1; }

shards_up 2 "${SST2_MINI_MODEL:-$ROOT/models/sst2-mini}" || exit 1
trap shards_down EXIT
shards_schema >/dev/null || exit 1
shards_load 1 || exit 1

# where_sst2 SQL: "remote" when every sst2_ call of the plan is in a Remote SQL
# line (and there is one), else the offending coordinator lines.
where_sst2() {
	local plan; plan=$(q -c "EXPLAIN (VERBOSE, COSTS OFF) $1")
	local bad; bad=$(grep -E 'sst2_' <<<"$plan" | grep -vE '^ *Remote SQL:')
	if [ -n "$bad" ]; then echo "$bad"; return; fi
	grep -qE '^ *Remote SQL:' <<<"$plan" || { echo "no Remote SQL: $plan"; return; }
	echo remote
}
shipped() { # WHAT SQL [REGEX the Remote SQL must match]
	check "$1: sst2 only in the shards' Remote SQL" "$(where_sst2 "$2")" remote
	[ -n "${3:-}" ] && check_re "$1: Remote SQL" "$(q -c "EXPLAIN (VERBOSE, COSTS OFF) $2" | grep 'Remote SQL' | head -n 1)" "$3"
}
shipped "WHERE sst2_label" "SELECT count(*) FROM reviews WHERE sst2_label(review) = 'NEGATIVE'" \
	"WHERE \(\(public.sst2_label\(review\) = 'NEGATIVE'::text\)\)"
shipped "WHERE sst2_score" "SELECT id FROM reviews WHERE sst2_score(review) < 0.6" "public.sst2_score\(review\) < "
shipped "per-shard scored view" "SELECT id, label, score FROM reviews_scored WHERE label = 'NEGATIVE'" \
	"FROM public.reviews_scored WHERE \(\(label = 'NEGATIVE'"
shipped "counts per label (per-shard view)" "SELECT * FROM label_counts" "SELECT label, n FROM public.label_counts"
shipped "counts per label (scored view)" "SELECT label, count(*) FROM reviews_scored GROUP BY label"
shipped "bulk: window view" "SELECT label, count(*) FROM reviews_classified GROUP BY label" "FROM public.reviews_classified"
shipped "bulk: UPDATE" "UPDATE reviews SET label = sst2_label(review), score = sst2_score(review) WHERE label IS NULL" \
	"UPDATE public.reviews SET label = public.sst2_label\(review\), score = public.sst2_score\(review\)"
shipped "bulk: backfill view" "SELECT * FROM reviews_backfill" "SELECT n FROM public.reviews_backfill"
# the check can fail: these shapes compute sst2 on the coordinator
check_re "check flags GROUP BY sst2_label(review)" "$(where_sst2 "SELECT sst2_label(review), count(*) FROM reviews GROUP BY 1")" "Output: .*sst2_label"
check_re "check flags sst2_label in a select list" "$(where_sst2 "SELECT id, sst2_label(review) FROM reviews")" "Output: .*sst2_label"
check_re "check flags a composite field" "$(where_sst2 "SELECT id FROM reviews WHERE (sst2_classify(review)).label = 'NEGATIVE'")" "Filter: .*sst2_classify"
# the coordinator has no model: any classification there is an ERROR
check_re "coordinator cannot classify" "$(q -c "SELECT sst2_label(review), count(*) FROM reviews GROUP BY 1")" "sst2.model_path is not set"

# ---- one server holding all rows: a database on shard 1, same rows
node_psql 1 -c "CREATE DATABASE single" || exit 1
single() { psql -X -q -At -h "$SST2_WORK/shards/shard1/run" -p $((SHARDS_BASE_PORT + 1)) -U "$PGUSER" -d single "$@" 2>&1; }
single -c "CREATE EXTENSION sst2" -c "CREATE TABLE reviews (id bigint PRIMARY KEY, review text NOT NULL)" >/dev/null
coord -c "\\copy (SELECT id, review FROM reviews) TO '$SST2_WORK/shards/all.tsv'" || exit 1
single -c "\\copy reviews FROM '$SST2_WORK/shards/all.tsv'" >/dev/null
check "same rows" "$(single -c "SELECT count(*), sum(id) FROM reviews")" "$(q -c "SELECT count(*), sum(id) FROM reviews")"
want_counts=$(single -c "SELECT sst2_label(review), count(*) FROM reviews GROUP BY 1 ORDER BY 1")
check_re "(precondition) both labels" "$want_counts" "NEGATIVE\|[0-9]+.POSITIVE\|[0-9]+"
check "counts: label_counts = one server" "$(q -c "SELECT label, n FROM label_counts ORDER BY 1")" "$want_counts"
check "counts: stored labels = one server" "$(q -c "SELECT label, count(*) FROM reviews GROUP BY 1 ORDER BY 1")" "$want_counts"
check "counts: scored view = one server" "$(q -c "SELECT label, count(*) FROM reviews_scored GROUP BY 1 ORDER BY 1")" "$want_counts"
check "counts: window view = one server" "$(q -c "SELECT label, count(*) FROM reviews_classified GROUP BY 1 ORDER BY 1")" "$want_counts"
check "WHERE sst2_label: same ids" "$(q -c "SELECT md5(string_agg(id::text, ',' ORDER BY id)) FROM reviews WHERE sst2_label(review) = 'NEGATIVE'")" \
	"$(single -c "SELECT md5(string_agg(id::text, ',' ORDER BY id)) FROM reviews WHERE sst2_label(review) = 'NEGATIVE'")"
want_rows=$(single -c "SELECT md5(string_agg(id || ' ' || sst2_label(review) || ' ' || sst2_score(review), ',' ORDER BY id)) FROM reviews")
check "scores: trigger-stored = one server" "$(q -c "SELECT md5(string_agg(id || ' ' || label || ' ' || score, ',' ORDER BY id)) FROM reviews")" "$want_rows"
check "scores: scored view = one server" "$(q -c "SELECT md5(string_agg(id || ' ' || label || ' ' || score, ',' ORDER BY id)) FROM reviews_scored")" "$want_rows"
# the batched window form classifies a shard's rows together: same labels, scores
# within a few float ulps of the one-at-a-time form (measured: at most 4.8e-7)
window_diff=$(join -j1 <(q -F' ' -c "SELECT id, label, score FROM reviews_classified ORDER BY id::text") \
	<(single -F' ' -c "SELECT id, sst2_label(review), sst2_score(review) FROM reviews ORDER BY id::text") |
	awk '{ n++; if ($2 != $4) bad++; d = $3 - $5; if (d < 0) d = -d; if (d > 1e-6) bad++ } END { print n, bad + 0 }')
check "window view = one server (rows, labels and scores within 1e-6 that differ)" "$window_diff" "872 0"
# bulk UPDATE through the coordinator classifies rows that were written unlabelled
node_psql 1 -c "ALTER TABLE reviews DISABLE TRIGGER tag" -c "UPDATE reviews SET label = NULL, score = NULL" || exit 1
node_psql 1 -c "ALTER TABLE reviews ENABLE TRIGGER tag" || exit 1
check "(precondition) shard 1 unlabelled" "$(q -c "SELECT count(*) > 0 FROM reviews WHERE label IS NULL")" t
q -c "UPDATE reviews SET label = sst2_label(review), score = sst2_score(review) WHERE label IS NULL" >/dev/null
check "bulk UPDATE = one server" "$(q -c "SELECT md5(string_agg(id || ' ' || label || ' ' || score, ',' ORDER BY id)) FROM reviews")" "$want_rows"
# the backfill view: every shard classifies its unlabelled rows, batched, at once
node_psql 2 -c "ALTER TABLE reviews DISABLE TRIGGER tag" -c "UPDATE reviews SET label = NULL, score = NULL WHERE id % 3 = 0" \
	-c "ALTER TABLE reviews ENABLE TRIGGER tag" || exit 1
q -c "UPDATE reviews SET label = NULL, score = NULL WHERE id % 3 = 1" >/dev/null
unlabelled=$(q -c "SELECT count(*) FROM reviews WHERE label IS NULL")
check_re "(precondition) unlabelled rows on both shards" "$(q -c "SELECT count(*) FROM reviews_1 WHERE label IS NULL" -c "SELECT count(*) FROM reviews_2 WHERE label IS NULL" | tr '\n' ' ')" "^[1-9][0-9]* [1-9][0-9]* $"
check "backfill view: rows written" "$(q -c "SELECT n FROM reviews_backfill")" "$unlabelled"
check "backfill view: none left" "$(q -c "SELECT count(*) FROM reviews WHERE label IS NULL")" 0
window_diff=$(join -j1 <(q -F' ' -c "SELECT id, label, score FROM reviews ORDER BY id::text") \
	<(single -F' ' -c "SELECT id, sst2_label(review), sst2_score(review) FROM reviews ORDER BY id::text") |
	awk '{ n++; if ($2 != $4) bad++; d = $3 - $5; if (d < 0) d = -d; if (d > 1e-6) bad++ } END { print n, bad + 0 }')
check "backfill view = one server (rows, labels and scores within 1e-6 that differ)" "$window_diff" "872 0"
# an insert through the coordinator lands classified
check "INSERT lands classified" "$(q -c "INSERT INTO reviews (id, review) VALUES (100001, 'a gorgeous , witty , seductive movie .') RETURNING label" -c "DELETE FROM reviews WHERE id = 100001")" \
	"$(single -c "SELECT sst2_label('a gorgeous , witty , seductive movie .')")"

# a generated label column on a shard: written through a foreign table that
# omits it, the shard classifies; a foreign table that declares it generated
# makes the coordinator compute it (here: no model, ERROR); one that declares
# it plain sends NULL, which the shard refuses
node_psql 1 -c "CREATE TABLE g (id int, review text, label text GENERATED ALWAYS AS (sst2_label(review)) STORED)" || exit 1
coord -c "CREATE FOREIGN TABLE g_write (id int, review text) SERVER shard1 OPTIONS (table_name 'g')" \
	-c "CREATE FOREIGN TABLE g_read (id int, review text, label text) SERVER shard1 OPTIONS (table_name 'g')" \
	-c "CREATE FOREIGN TABLE g_gen (id int, review text, label text GENERATED ALWAYS AS (sst2_label(review)) STORED) SERVER shard1 OPTIONS (table_name 'g')" || exit 1
check "generated column: written without it, classified on the shard" \
	"$(q -c "INSERT INTO g_write VALUES (1, 'a gorgeous , witty , seductive movie .')" -c "SELECT label FROM g_read")" \
	"$(single -c "SELECT sst2_label('a gorgeous , witty , seductive movie .')")"
check_re "generated column: declared generated on the coordinator, computed there" "$(q -c "INSERT INTO g_gen (id, review) VALUES (2, 'a movie')")" "sst2.model_path is not set"
check_re "generated column: declared plain, NULL refused by the shard" "$(q -c "INSERT INTO g_read (id, review) VALUES (3, 'a movie')")" \
	'cannot insert a non-DEFAULT value into column "label"'

# ---- a shard down, then back
before=$(q -c "SELECT label, n FROM label_counts ORDER BY 1")
stop_cluster_dir "$SST2_WORK/shards/shard2"
down_err=$(q -c "SELECT label, n FROM label_counts ORDER BY 1"); echo "$down_err"
check_re "shard down: connection ERROR" "$down_err" \
	'ERROR: +could not connect to server "shard2"'
s1=$(node_psql 1 -At -c "SELECT count(*) FROM reviews")
# ids 200001..200010 hash to both shards: nothing may stay on shard 1
check_re "shard down: INSERT spanning it fails" "$(q -c "INSERT INTO reviews (id, review) SELECT i, 'a great movie' FROM generate_series(200001, 200010) i")" \
	'ERROR: +could not connect to server "shard2"'
check "shard down: nothing half-written" "$(node_psql 1 -At -c "SELECT count(*) FROM reviews")" "$s1"
pin=(); [ "$(nproc)" -ge 2 ] && pin=(taskset -c 1)
as_pg "${pin[@]}" "$PGBIN/pg_ctl" -D "$SST2_WORK/shards/shard2/data" -l "$SST2_WORK/shards/shard2/server.log" -w -t 60 start >/dev/null
check "shard back: same counts" "$(q -c "SELECT label, n FROM label_counts ORDER BY 1")" "$before"

[ "$fail" = 0 ] && echo "result: shards passed" || echo "result: shards FAILED"
exit $fail

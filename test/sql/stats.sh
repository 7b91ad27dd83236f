#!/usr/bin/env bash
# sst2_stats: without shared_preload_libraries the view is an ERROR with a
# hint (the test cluster); with it (a second cluster, SST2_PRELOAD=1), after
# classifying a known set the counters moved by exactly the known amounts:
# texts, tokens (from sst2_tokenize), texts truncated by sst2.max_length,
# batches, and the rows parallel workers classified.
# Needs the test cluster (PGHOST etc.) and SST2_MINI_MODEL from scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
MINI=${SST2_MINI_MODEL:?}

# 1. not preloaded: an ERROR that says why, never numbers
DB=sst2_stats_test
dropdb --if-exists "$DB" >/dev/null 2>&1; createdb "$DB"
out=$(psql -X -d "$DB" -v VERBOSITY=verbose -c "CREATE EXTENSION sst2" -c "SELECT * FROM sst2_stats" 2>&1 || true)
dropdb "$DB"
echo "$out"
grep -q 'ERROR:  55000: sst2 usage statistics are not being collected' <<<"$out"
grep -q 'HINT:  Add sst2 to shared_preload_libraries' <<<"$out"
echo "without preload: ERROR with a hint"

# 2. preloaded: a cluster of our own on the next port
source scripts/lib.sh
export SST2_PGPORT=$((${SST2_PGPORT:-54321} + 1))
SST2_PRELOAD=1 start_cluster stats "$MINI"
trap stop_cluster EXIT
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION sst2;
CREATE TABLE texts (id int, t text);
INSERT INTO texts SELECT i, CASE WHEN i % 10 = 0 THEN repeat('a long text ', 20) ELSE 'review number ' || i || ', quite good' END
	FROM generate_series(1, 200) i;
SET sst2.max_length = 32;
CREATE TABLE want AS SELECT count(*) AS texts,
	sum(array_length(sst2_tokenize(t), 1)) AS tokens FROM texts;
RESET sst2.max_length;
-- texts with more than 30 pieces (the truncated ones) counted without the cap
CREATE TABLE want_trunc AS SELECT count(*) FILTER (WHERE array_length(sst2_tokenize(t), 1) > 32) AS truncated FROM texts;
SET sst2.max_length = 32;

-- one at a time (200 batches), an array (4 batches of 64 and less), parallel workers
SELECT sst2_stats_reset();
SELECT count(sst2_classify(t)) FROM texts;
SELECT * FROM sst2_stats \gset s1_
SELECT cardinality(sst2_classify_batch(array_agg(t))) FROM texts;
SELECT * FROM sst2_stats \gset s2_
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
CREATE FUNCTION plan_workers(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
	FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
		IF l ~ 'Workers Launched' THEN
			RETURN substring(l FROM 'Workers Launched: (\d+)')::int;
		END IF;
	END LOOP;
	RETURN 0;
END $$;
-- all rows classified by the workers (the leader does not participate)
SELECT plan_workers('SELECT count(sst2_classify(t)) FROM texts') AS workers \gset
SELECT * FROM sst2_stats \gset s3_
RESET ALL;

SELECT texts, tokens, truncated FROM want, want_trunc \gset w_
\echo want: :w_texts texts, :w_tokens tokens, :w_truncated truncated
\echo after one at a time: :s1_texts texts, :s1_tokens tokens, :s1_truncated truncated, :s1_batches batches, :s1_forward_passes passes, tokenizer :s1_tokenizer_ms ms, model :s1_model_ms ms
\echo after the array: :s2_texts texts, :s2_tokens tokens, :s2_truncated truncated, :s2_batches batches
\echo after the parallel query (:workers workers): :s3_texts texts, :s3_tokens tokens, :s3_truncated truncated, :s3_batches batches

SELECT :s1_texts = :w_texts AND :s1_tokens = :w_tokens AND :s1_truncated = :w_truncated
   AND :s1_batches = :w_texts AND :s1_forward_passes = :w_texts
   AND :s1_tokenizer_ms > 0 AND :s1_model_ms > :s1_tokenizer_ms
   AND :s2_texts = 2 * :w_texts AND :s2_tokens = 2 * :w_tokens AND :s2_truncated = 2 * :w_truncated
   AND :s2_batches = :s1_batches + 4
   AND :s3_texts = 3 * :w_texts AND :s3_tokens = 3 * :w_tokens AND :s3_truncated = 3 * :w_truncated
   AND :workers > 0 AND :w_truncated > 0 AS ok \gset
\if :ok
\echo PASS: sst2_stats counted exactly
\else
DO $$ BEGIN RAISE EXCEPTION 'FAIL: sst2_stats counters'; END $$;
\endif
SQL

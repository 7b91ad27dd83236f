#!/usr/bin/env bash
# Memory: after a warm-up, 100,000 sst2_classify calls, 1,000 aggregate calls
# and 20 cancelled aggregates in ONE backend leave its RSS within 5% of the
# warmed-up figure (sst2-mini model; RSS read by the backend from /proc/self).
set -euo pipefail
[ -f "${SST2_MINI_MODEL:-/nonexistent}/model.safetensors" ] || { echo "FAIL: sst2-mini absent (SST2_MINI_MODEL, models/sst2-mini)"; exit 1; }
N=${SST2_MEMORY_CALLS:-100000}
dropdb --if-exists sst2_memory >/dev/null; createdb sst2_memory
# 2,000 distinct texts, cycled: the warm-up sees each once (so the same rows
# of the mapped embedding table are paged in; RSS counts those shared pages)
gen="CASE i % 4 WHEN 0 THEN 'a great movie ' || (i % 2000) WHEN 1 THEN repeat('dull ', i % 60) WHEN 2 THEN '' ELSE 'it ''s a charming and often affecting journey . ' END"
psql -X -q -At -v ON_ERROR_STOP=1 -d sst2_memory 2>"$SST2_TEST_TMP/memory.err" >"$SST2_TEST_TMP/memory.out" <<SQL
CREATE EXTENSION sst2;
CREATE FUNCTION rss_kb() RETURNS bigint LANGUAGE sql
	AS \$\$ SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\s+(\d+)'))[1]::bigint \$\$;
CREATE TABLE small AS SELECT $gen AS t FROM generate_series(1, 200) i;
CREATE TABLE long AS SELECT repeat('word ', 400) || i AS t FROM generate_series(1, 2000) i;
-- warm-up: the same shapes as below, once (count(*) over a subquery would let
-- the planner drop the aggregate: cardinality() makes it run).  A full batch of long texts first:
-- its workspace (over 64 MB) is given back when the statement ends, and so is
-- a cancelled one's; then the small shapes, whose workspace stays.
SELECT cardinality(sst2_classify_agg(t)) FROM (SELECT t FROM long LIMIT 64) l \g /dev/null
SET statement_timeout = '150ms';
\set ON_ERROR_STOP 0
SELECT sst2_classify_agg(t) FROM long;
\set ON_ERROR_STOP 1
RESET statement_timeout;
SELECT count(sst2_classify($gen)) FROM generate_series(1, 2000) i \g /dev/null
SELECT cardinality(sst2_classify_agg(t)) FROM small \g /dev/null
SELECT 'warm', rss_kb();
SELECT 'warm_anon', (regexp_match(pg_read_file('/proc/self/status'), 'RssAnon:\s+(\d+)'))[1];
SELECT count(sst2_classify($gen)) FROM generate_series(1, $N) i \g /dev/null
SELECT 'calls', rss_kb();
DO \$\$ BEGIN FOR i IN 1..1000 LOOP PERFORM sst2_classify_agg(t) FROM small; END LOOP; END \$\$;
SELECT 'aggs', rss_kb();
-- 20 aggregates cancelled by statement_timeout in the middle of a batch
SET statement_timeout = '150ms';
\set ON_ERROR_STOP 0
$(for i in $(seq 20); do echo "SELECT sst2_classify_agg(t) FROM long;"; done)
\set ON_ERROR_STOP 1
RESET statement_timeout;
SELECT 'cancels', rss_kb();
SELECT 'anon', (regexp_match(pg_read_file('/proc/self/status'), 'RssAnon:\s+(\d+)'))[1];
SQL
cat "$SST2_TEST_TMP/memory.out"; sort "$SST2_TEST_TMP/memory.err" | uniq -c
dropdb sst2_memory
awk -F'|' '$1 == "warm_anon" { wa = $2 } $1 == "anon" { printf "private (anonymous) RSS: %d kB after, %d kB warm\n", $2, wa } $1 == "warm" { w = $2 } $1 !~ /^(warm|warm_anon|anon)$/ && NF == 2 { n++; r = $2 / w; printf "%s: RSS %d kB = %.3f x warm (%d kB)\n", $1, $2, r, w; if (r > 1.05) bad++ }
	END { if (n < 2) { print "FAIL: missing measurements"; exit 1 } if (bad) { print "FAIL: RSS grew by more than 5%"; exit 1 } print "PASS: RSS stable within 5%" }' "$SST2_TEST_TMP/memory.out"

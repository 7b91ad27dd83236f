#!/usr/bin/env bash
# Load: pgbench, 16 clients for 60 s (SST2_LOAD_SECONDS), each transaction
# classifying a random SST-2 dev sentence with sst2_classify and storing the
# result; 0 failed transactions, and every stored result equal to the serial
# result for that sentence.  Then the server has not restarted.
set -euo pipefail
F=${SST2_DATA:?}
[ -f "$F/sst2/dev.tsv" ] || { echo "FAIL: $F/sst2/dev.tsv is absent (SST-2 dev set)"; exit 1; }
SECS=${SST2_LOAD_SECONDS:-60}
DB=sst2_load
dropdb --if-exists $DB >/dev/null 2>&1; createdb $DB
psql -X -q -v ON_ERROR_STOP=1 -d $DB <<SQL
CREATE EXTENSION sst2;
CREATE TABLE raw (line text);
\copy raw FROM '$F/sst2/dev.tsv' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
CREATE TABLE dev AS
	SELECT row_number() OVER () AS id, split_part(line, E'\t', 1) AS sentence
	FROM raw WHERE line <> E'sentence\tlabel';
CREATE TABLE serial AS SELECT id, sst2_classify(sentence) AS c FROM dev;
CREATE UNLOGGED TABLE results (id bigint, c sst2_result);
SQL
T0=$(psql -X -At -d $DB -c "SELECT pg_postmaster_start_time()")
cat >"$SST2_TEST_TMP/load.pgbench" <<'EOF2'
\set id random(1, 872)
INSERT INTO results SELECT id, sst2_classify(sentence) FROM dev WHERE id = :id;
EOF2
pgbench -n -c 16 -j 2 -T "$SECS" -f "$SST2_TEST_TMP/load.pgbench" $DB >"$SST2_TEST_TMP/load.out" 2>&1
rc=$?
grep -E "clients|duration|processed|failed|tps" "$SST2_TEST_TMP/load.out" || true
read -r n bad restarted < <(psql -X -At -F' ' -d $DB -c "
	SELECT count(*), count(*) FILTER (WHERE r.c IS DISTINCT FROM s.c),
		   pg_postmaster_start_time() <> '$T0'
	FROM results r JOIN serial s USING (id)")
echo "results: $n stored, $bad differ from the serial result, server restarted: $restarted"
dropdb $DB
fails=$(grep -oE 'number of failed transactions: [0-9]+' "$SST2_TEST_TMP/load.out" | grep -oE '[0-9]+$' || echo 0)
if [ $rc = 0 ] && [ "$n" -gt 0 ] && [ "$bad" = 0 ] && [ "$restarted" = f ] && [ "${fails:-0}" = 0 ]; then
	echo "PASS: load"
else
	echo "FAIL: load (pgbench exit $rc, $fails failed transactions)"; exit 1
fi

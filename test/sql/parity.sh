#!/usr/bin/env bash
# Hugging Face parity through SQL on sst2-mini: every golden tokenization
# (sst2_tokenize), every dev-set logit within 1e-4 and label identical
# (sst2_logits, sst2_classify), accuracy 78.67%, pipeline scores within 1e-4.
# Needs test/data (SST2_DATA), models/sst2-mini (SST2_MINI_MODEL) and the test
# cluster (PGHOST etc.) from scripts/test.sh.
set -euo pipefail
F=${SST2_DATA:?}
MINI=${SST2_MINI_MODEL:?}
[ -f "$F/golden/sst2-mini-dev.jsonl" ] || { echo "FAIL: $F/golden is absent (golden outputs)"; exit 1; }
DB=sst2_parity
dropdb --if-exists "$DB" >/dev/null; createdb "$DB"
export PGDATABASE=$DB
# JSON lines loaded verbatim: CSV with quote and delimiter bytes that never occur
LOAD="WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')"
psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION sst2;
SET sst2.model_path = '$MINI';
CREATE TABLE raw_tok (j text); \copy raw_tok FROM '$F/golden/tokenizer.jsonl' $LOAD
CREATE TABLE raw_dev (j text); \copy raw_dev FROM '$F/golden/sst2-mini-dev.jsonl' $LOAD
CREATE TABLE raw_pipe (j text); \copy raw_pipe FROM PROGRAM 'tr -d "\n" < "$F/golden/sst2-mini-pipeline.json"' $LOAD

CREATE TABLE tok AS
	SELECT j::jsonb->>'cat' AS cat, j::jsonb->>'text' AS t,
		   ARRAY(SELECT jsonb_array_elements_text(j::jsonb->'ids')::int) AS ids
	FROM raw_tok;
CREATE TABLE dev AS
	SELECT j::jsonb->>'text' AS t, (j::jsonb->>'gold')::int AS gold, j::jsonb->>'label' AS label,
		   ARRAY(SELECT jsonb_array_elements_text(j::jsonb->'logits')::float8) AS logits
	FROM raw_dev;
CREATE TABLE pipe AS
	SELECT e->>'text' AS t, e->>'label' AS label, (e->>'score')::float8 AS score
	FROM raw_pipe, jsonb_array_elements(j::jsonb) e;

-- tokenizer: the golden ids have no truncation; sst2.max_length caps at 512,
-- so longer golden rows must equal their first 511 ids + [SEP]
SELECT count(*) AS tok_rows,
	   count(*) FILTER (WHERE got IS DISTINCT FROM want) AS tok_mismatches
FROM (SELECT sst2_tokenize(t) AS got,
			 CASE WHEN cardinality(ids) <= 512 THEN ids ELSE ids[1:511] || 102 END AS want
	  FROM tok) s \gset
\echo tokenizer: :tok_rows rows, :tok_mismatches mismatches

SELECT count(*) AS dev_rows,
	   max(greatest(abs(l[1] - logits[1]), abs(l[2] - logits[2]))) AS max_err,
	   count(*) FILTER (WHERE (c).label <> label) AS label_mismatches,
	   round(100.0 * count(*) FILTER (WHERE (c).label = CASE gold WHEN 1 THEN 'POSITIVE' ELSE 'NEGATIVE' END) / count(*), 2) AS accuracy
FROM (SELECT *, sst2_logits(t)::float8[] AS l, sst2_classify(t) AS c FROM dev) s \gset
\echo dev: :dev_rows rows, max abs logit error :max_err, :label_mismatches label mismatches, accuracy :accuracy%

SELECT count(*) AS pipe_rows,
	   max(abs((c).score - score)) AS pipe_score_err,
	   count(*) FILTER (WHERE (c).label <> label) AS pipe_label_mismatches
FROM (SELECT *, sst2_classify(t) AS c FROM pipe) s \gset
\echo pipeline: :pipe_rows rows, max score error :pipe_score_err, :pipe_label_mismatches label mismatches

SELECT :tok_rows = 4947 AND :tok_mismatches = 0
   AND :dev_rows = 872 AND :max_err <= 1e-4 AND :label_mismatches = 0 AND :accuracy = 78.67
   AND :pipe_rows = 44 AND :pipe_score_err <= 1e-4 AND :pipe_label_mismatches = 0 AS ok \gset
\if :ok
\echo PASS: SQL parity with Hugging Face
\else
DO \$\$ BEGIN RAISE EXCEPTION 'FAIL: SQL parity with Hugging Face'; END \$\$;
\endif
SQL
dropdb "$DB"

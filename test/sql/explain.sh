#!/usr/bin/env bash
# sst2_explain against an independent computation: Hugging Face tokenizers
# (words, offsets) and ONNX Runtime (the occluded runs), test/explain_oracle.js,
# on the full-size distilbert-det.  Golden inputs of up to 20 ids, fresh texts
# with punctuation, accents, combining marks, CJK, emoji and special tokens,
# and long texts cut by sst2.max_length = 24: the same words (ord, original
# substring) and every attribution within 1e-4.
# Needs SST2_DATA, SST2_DET_MODEL, SST2_TEST_TMP, test/oracle and the test
# cluster (PGHOST etc.) from scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
F=${SST2_DATA:?}
DET=${SST2_DET_MODEL:?}
TMP=${SST2_TEST_TMP:?}/explain
mkdir -p "$TMP"
ONNX=$TMP/distilbert-det.onnx
if [ ! -f "$ONNX" ]; then
	/usr/bin/python3 bench/onnx_weights.py "$F/onnx/distilbert-det.graph.onnx" \
		"$F/onnx/distilbert-det.map.json" "$DET" "$ONNX.tmp" >/dev/null
	mv "$ONNX.tmp" "$ONNX"
fi

# the texts: JSON strings, one a line
/usr/bin/python3 - "$F/golden/distilbert-det.json" "$TMP" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
short = [r["text"] for r in rows if len(r["ids"]) <= 20]
fresh = [
    "Dull, predictable and far too long.",
    "The acting is wonderful -- and the story (mostly) beautiful!!!",
    "Café crème, naïve façade; Ångström résumé.",
    "e\u0301tonnant et de\u0301cevant",
    "我很喜欢这部电影，演员很好。",
    "東京の映画は最高だった",
    "I didn't like it... not at all?! 10/10 would NOT watch again :(",
    "great 😀 film 👍🏽 really",
    "[CLS] a [MASK] movie [SEP] indeed",
    "ＦＵＬＬＷＩＤＴＨ text and Ｒｏｍａｎ ⅷ",
    "\u00a0spaces\u2003everywhere\tand\nnewlines  ",
    "supercalifragilisticexpialidocious unaffable antidisestablishmentarianism",
]
with open(sys.argv[2] + "/texts.jsonl", "w") as f:
    for t in short + fresh:
        f.write(json.dumps(t) + "\n")
long = [r["text"] for r in rows if len(r["ids"]) > 40]
long.append("Это был отличный фильм, " * 30)
with open(sys.argv[2] + "/long.jsonl", "w") as f:
    for t in long:
        f.write(json.dumps(t) + "\n")
PY
node test/explain_oracle.js "$ONNX" "$F/tokenizer/tokenizer.json" 512 <"$TMP/texts.jsonl" >"$TMP/expected.jsonl"
node test/explain_oracle.js "$ONNX" "$F/tokenizer/tokenizer.json" 24 <"$TMP/long.jsonl" >"$TMP/expected_long.jsonl"

DB=sst2_explain_test
dropdb --if-exists "$DB" >/dev/null 2>&1; createdb "$DB"
export PGDATABASE=$DB
LOAD="WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')"
psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION sst2;
SET sst2.model_path = '$DET';
CREATE TABLE raw (j text, max_length int);
\copy raw (j) FROM '$TMP/expected.jsonl' $LOAD
UPDATE raw SET max_length = 512;
\copy raw (j) FROM '$TMP/expected_long.jsonl' $LOAD
UPDATE raw SET max_length = 24 WHERE max_length IS NULL;
CREATE TABLE want AS
	SELECT r.id, r.max_length, (w->>'ord')::int AS ord, w->>'word' AS word, (w->>'attribution')::float8 AS attribution
	FROM (SELECT row_number() OVER () AS id, j::jsonb AS j, max_length FROM raw) r,
		 jsonb_array_elements(r.j->'words') w;
CREATE TABLE texts AS
	SELECT row_number() OVER () AS id, j::jsonb->>'text' AS t, max_length FROM raw;

CREATE TABLE got (id bigint, ord int, word text, attribution float8);
DO \$\$
DECLARE r record;
BEGIN
	FOR r IN SELECT * FROM texts ORDER BY id LOOP
		PERFORM set_config('sst2.max_length', r.max_length::text, false);
		INSERT INTO got SELECT r.id, e.ord, e.word, e.attribution FROM sst2_explain(r.t) e;
	END LOOP;
END \$\$;

SELECT count(DISTINCT id) AS texts, count(*) AS words,
	   count(*) FILTER (WHERE g.word IS DISTINCT FROM w.word) AS word_mismatches,
	   max(abs(g.attribution - w.attribution)) AS max_err,
	   max(abs(w.attribution)) AS max_attr
FROM got g FULL JOIN want w USING (id, ord) \gset
\echo explain vs ONNX Runtime: :texts texts, :words words, :word_mismatches word mismatches, max abs attribution error :max_err (largest attribution :max_attr)
SELECT count(*) AS long_words FROM want WHERE max_length = 24 \gset
\echo truncated texts: :long_words words read

SELECT id, ord, g.word AS got, w.word AS want, g.attribution AS got_attr, w.attribution AS want_attr
FROM got g FULL JOIN want w USING (id, ord)
WHERE g.word IS DISTINCT FROM w.word OR NOT abs(g.attribution - w.attribution) <= 1e-4
ORDER BY id, ord LIMIT 10;

SELECT :texts >= 30 AND :word_mismatches = 0 AND :max_err <= 1e-4 AND :max_attr > 1e-3
   AND :long_words > 0 AS ok \gset
\if :ok
\echo PASS: sst2_explain equals the ONNX Runtime occlusion
\else
DO \$\$ BEGIN RAISE EXCEPTION 'FAIL: sst2_explain differs from ONNX Runtime'; END \$\$;
\endif
SQL
dropdb "$DB"

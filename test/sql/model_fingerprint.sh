#!/usr/bin/env bash
# Which model produced a value (issue 13):
#  1. sst2_model_info()->>'fingerprint' is a hex string, equal for two
#     byte-identical copies of a folder at different paths and in two
#     backends, different when one weight byte changes;
#  2. the IMMUTABLE rule, as a test: an expression index on
#     (sst2_classify(t)).label goes stale after a model change (index scan and
#     sequential scan disagree) and REINDEX fixes it (README, "Errors and
#     trust").
# Tiny model; model P says POSITIVE and model N says NEGATIVE for every text.
source "$(dirname "$0")/hostile_lib.bash"
need_tiny
hl_init model_fingerprint
mk() { /usr/bin/python3 "$HL_DIR/make_model.py" "$SST2_TINY_MODEL" "$@" || exit 1; }
mk "$T/a"; cp -r "$T/a" "$T/a_copy"; mk "$T/a_bump" --bump
mk "$T/p" --bias=-8,8; mk "$T/n" --bias=8,-8
fp() { q -c "SET sst2.model_path = '$1'" -c "SELECT sst2_model_info()->>'fingerprint'"; }
a1=$(fp "$T/a"); a2=$(fp "$T/a_copy"); a3=$(fp "$T/a"); b=$(fp "$T/a_bump")
check_re "1. fingerprint is a hex string" "$a1" '^[0-9a-f]{16,}$'
check "1. same bytes at another path: same fingerprint" "$a2" "$a1"
check "1. same folder in another backend: same fingerprint" "$a3" "$a1"
check "1. one weight byte changed: another fingerprint" "$([ -n "$b" ] && [ "$b" != "$a1" ] && echo differs || echo "same ($b)")" differs

# 2. an expression index goes stale after a model change; REINDEX fixes it
count() { # MODEL_DIR SCAN
	local s="SET enable_seqscan = off; SET enable_bitmapscan = on; SET enable_indexscan = on;"
	[ "$2" = seq ] && s="SET enable_seqscan = on; SET enable_bitmapscan = off; SET enable_indexscan = off;"
	q <<SQL | tail -n 1
SET sst2.model_path = '$1';
$s
SELECT count(*) FROM reviews WHERE (sst2_classify(t)).label = 'POSITIVE';
SQL
}
q <<SQL >/dev/null
SET sst2.model_path = '$T/p';
CREATE TABLE reviews AS SELECT i, 'review ' || i AS t FROM generate_series(1, 200) i;
CREATE INDEX reviews_label ON reviews (((sst2_classify(t)).label));
ANALYZE reviews;
SQL
plan=$(q -c "SET enable_seqscan = off" -c "EXPLAIN SELECT count(*) FROM reviews WHERE (sst2_classify(t)).label = 'POSITIVE'")
check_re "2. (precondition) the query can use the index" "$plan" 'reviews_label'
check "2. model P: index and sequential scan agree" "$(count "$T/p" index)/$(count "$T/p" seq)" "200/200"
check "2. after a change to model N: the index is stale (index 200, seq 0)" "$(count "$T/n" index)/$(count "$T/n" seq)" "200/0"
q -c "SET sst2.model_path = '$T/n'" -c "REINDEX INDEX reviews_label" >/dev/null
check "2. after REINDEX: they agree again" "$(count "$T/n" index)/$(count "$T/n" seq)" "0/0"
hl_done model_fingerprint

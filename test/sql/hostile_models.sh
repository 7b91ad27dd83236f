#!/usr/bin/env bash
# One statement, one model (issue 13): a statement uses the model that was
# current when its first sst2 call resolved it, for all its rows, whatever
# happens to the folder or to sst2.model_path meanwhile; the next statement
# picks up the new model.  Each case also checks that no backend crashed.
#  1. a cursor over the window form; a 2-label model renamed into the
#     3-label model's folder between two FETCHes (was: SIGSEGV);
#  2. the same with a superuser SET sst2.model_path between the FETCHes;
#  3. sst2_classify_agg whose aggregated expression changes sst2.model_path
#     with set_config, sst2.batch_size = 2;
#  4. a 300-row window query while another process renames a different
#     model's weights into the folder: every row is what ONE model gives.
# Tiny model; labels and classifier biases make each model's answer known.
source "$(dirname "$0")/hostile_lib.bash"
need_tiny
hl_init hostile_models
mk() { /usr/bin/python3 "$HL_DIR/make_model.py" "$SST2_TINY_MODEL" "$@" || exit 1; }
mk "$T/m3" --labels A3,B3,C3 --bias=0,0,20	# 3 labels, C3 always wins
mk "$T/m2" --labels N2,P2 --bias=-8,8		# 2 labels, P2 always wins
swap_in() { # FROM_DIR TO_DIR: config.json then model.safetensors, each renamed into place
	cp "$1/config.json" "$2/.config.json.tmp" && mv "$2/.config.json.tmp" "$2/config.json"
	cp "$1/model.safetensors" "$2/.model.tmp" && mv "$2/.model.tmp" "$2/model.safetensors"
}
CURSOR="DECLARE c CURSOR FOR SELECT (w).label FROM (SELECT sst2_classify_window('text ' || i) OVER (ORDER BY i) AS w FROM generate_series(1, 100) i) s;"

# 1. files renamed into the folder between FETCHes (batch 64: the FETCHes
# after the swap read rows already classified; batch 2: new batches run)
for bs in 64 2; do
rm -rf "$T/f1"; cp -r "$T/m3" "$T/f1"
out=$(q <<SQL
SET sst2.model_path = '$T/f1';
SET sst2.batch_size = $bs;
BEGIN;
$CURSOR
FETCH 2 FROM c;
\! cp "$T/m2/config.json" "$T/f1/.c.tmp" && mv "$T/f1/.c.tmp" "$T/f1/config.json" && cp "$T/m2/model.safetensors" "$T/f1/.m.tmp" && mv "$T/f1/.m.tmp" "$T/f1/model.safetensors"
FETCH 3 FROM c;
FETCH ALL FROM c;
COMMIT;
SELECT 'next ' || (sst2_classify('text')).label;
SQL
)
check "1. batch $bs, rename between FETCHes: all 100 rows from the pinned 3-label model" "$(grep -c '^C3$' <<<"$out")/$(grep -vc -e '^C3$' -e '^next' <<<"$out")" "100/0"
check "1. batch $bs, the next statement uses the new 2-label model" "$(grep '^next' <<<"$out")" "next P2"
grep -v -e '^C3$' -e '^next' <<<"$out" | sort | uniq -c | head -n 5
no_crash "1. batch $bs, rename between FETCHes"
done

# 2. SET sst2.model_path between FETCHes
for bs in 64 2; do
out=$(q <<SQL
SET sst2.model_path = '$T/m3';
SET sst2.batch_size = $bs;
BEGIN;
$CURSOR
FETCH 2 FROM c;
SET sst2.model_path = '$T/m2';
FETCH 3 FROM c;
FETCH ALL FROM c;
COMMIT;
SELECT 'next ' || (sst2_classify('text')).label;
SQL
)
check "2. batch $bs, SET model_path between FETCHes: all 100 rows from the pinned model" "$(grep -c '^C3$' <<<"$out")/$(grep -vc -e '^C3$' -e '^next' <<<"$out")" "100/0"
check "2. batch $bs, the next statement uses the new path" "$(grep '^next' <<<"$out")" "next P2"
grep -v -e '^C3$' -e '^next' <<<"$out" | sort | uniq -c | head -n 5
no_crash "2. batch $bs, SET between FETCHes"
done

# 3. set_config inside the aggregated expression
out=$(q <<SQL
SET sst2.model_path = '$T/m3';
SET sst2.batch_size = 2;
SELECT 'agg ' || string_agg(label, ',') FROM unnest((
	SELECT sst2_classify_agg('text ' || i || left(CASE WHEN i = 3 THEN set_config('sst2.model_path', '$T/m2', false) ELSE '' END, 0))
	FROM generate_series(1, 10) i));
SELECT 'path ' || current_setting('sst2.model_path');
SELECT 'next ' || (sst2_classify('text')).label;
SQL
)
check "3. aggregate: every element from the first model" "$(grep '^agg' <<<"$out")" "agg C3,C3,C3,C3,C3,C3,C3,C3,C3,C3"
check "3. set_config did change the path" "$(grep '^path' <<<"$out")" "path $T/m2"
check "3. the next statement uses the new path" "$(grep '^next' <<<"$out")" "next P2"
grep -v -e '^agg' -e '^path' -e '^next' <<<"$out" | head -n 5
no_crash "3. set_config inside the aggregate"

# 4. weights renamed into the folder during a 300-row window query
mk "$T/wa"						# model A: the tiny model as it is
mk "$T/wb" --bias=8,-8			# model B: NEGATIVE wins by 16
TEXTS="SELECT i, repeat('word ', 500) || i AS t FROM generate_series(1, 300) i"
q <<SQL >/dev/null
CREATE TABLE texts AS $TEXTS;
SET sst2.model_path = '$T/wa';
CREATE TABLE exp_a AS SELECT i, (c).label, (c).score FROM (SELECT i, sst2_classify(t) AS c FROM texts) s;
SET sst2.model_path = '$T/wb';
CREATE TABLE exp_b AS SELECT i, (c).label, (c).score FROM (SELECT i, sst2_classify(t) AS c FROM texts) s;
SQL
same=$(q -c "SELECT count(*) FROM exp_a a JOIN exp_b b USING (i) WHERE a.label = b.label AND abs(a.score - b.score) < 1e-5")
check "4. (precondition) the two models disagree on every row" "$same" 0
for try in 1 2 3; do
	rm -rf "$T/w" "$T/started"; cp -r "$T/wa" "$T/w"
	( while [ ! -f "$T/started" ]; do sleep 0.02; done; sleep 0.$((3 + try)); swap_in "$T/wb" "$T/w"; date +%s.%N >"$T/swapped" ) &
	bg=$!
	out=$(q <<SQL
SET sst2.model_path = '$T/w';
SET sst2.batch_size = 4;
SELECT (sst2_classify('warm')).label IS NOT NULL;
DROP TABLE IF EXISTS got;
\! date +%s.%N >"$T/started"
CREATE TABLE got AS SELECT i, (w).label, (w).score FROM (SELECT i, sst2_classify_window(t) OVER () AS w FROM texts) s;
\! date +%s.%N >"$T/ended"
SELECT 'mix', count(*) FILTER (WHERE am), count(*) FILTER (WHERE bm), count(*) FILTER (WHERE NOT am AND NOT bm),
	   count(*) = 300 AND (bool_and(am) OR bool_and(bm))
FROM (SELECT g.label = a.label AND abs(g.score - a.score) < 1e-5 AS am,
			 g.label = b.label AND abs(g.score - b.score) < 1e-5 AS bm
	  FROM got g JOIN exp_a a USING (i) JOIN exp_b b USING (i)) s;
SELECT 'next', (c).label = b.label AND abs((c).score - b.score) < 1e-5
FROM (SELECT i, sst2_classify(t) AS c FROM texts WHERE i = 7) s JOIN exp_b b USING (i);
SQL
)
	wait $bg
	mix=$(grep '^mix' <<<"$out")
	echo "(try $try: rows from model A|B|neither|consistent: ${mix#mix|}; swap $(awk -v s="$(cat "$T/started")" -v w="$(cat "$T/swapped")" -v e="$(cat "$T/ended" 2>/dev/null || echo 0)" 'BEGIN { printf "%.2f s after the start, query took %.2f s", w - s, e - s }'))"
	check_re "4. try $try: every row from one model" "$mix" '\|t$'
	check "4. try $try: the next statement uses the new weights" "$(grep '^next' <<<"$out")" "next|t"
	no_crash "4. try $try"
done
hl_done hostile_models

#!/usr/bin/env bash
# pg_dump / pg_restore of tables holding sst2 results, the 872 SST-2 dev
# sentences, two forms:
#   gen   a GENERATED ... STORED sst2_result column: restore recomputes it;
#   trig  label/score columns filled by the sst2_tag trigger: restore copies
#         them as data (pg_dump creates triggers after the data), shown by a
#         marker row whose label no model produces.
# Restored into a database where sst2.model_path is '' (ALTER DATABASE ... SET):
# gen's COPY fails and it stays empty, trig is complete.  Restored where it is
# set: every gen row is classified again and equals the source.  Prints the
# data-restore time of each table (the README's "Operations" figures).
set -euo pipefail
F=${SST2_DATA:?}
[ -f "$F/sst2/dev.tsv" ] || { echo "FAIL: $F/sst2/dev.tsv is missing"; exit 1; }
T=${SST2_TEST_TMP:-/tmp}/dump_restore; rm -rf "$T"; mkdir -p "$T"
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
q() { psql -X -At -v ON_ERROR_STOP=1 "$@"; }
# seconds CMD...: run CMD, print its wall time in seconds.
seconds() { local t0 t1; t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'; }
for db in dr_src dr_unset dr_set; do dropdb --if-exists $db >/dev/null 2>&1; done

createdb dr_src
psql -X -q -v ON_ERROR_STOP=1 -d dr_src <<SQL
CREATE EXTENSION sst2;
CREATE TEMP TABLE raw (line text);
\copy raw FROM '$F/sst2/dev.tsv' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
CREATE TEMP TABLE dev AS
	SELECT (row_number() OVER ())::int AS id, split_part(line, E'\t', 1) AS sentence
	FROM raw WHERE line <> E'sentence\tlabel';
CREATE TABLE gen (id int PRIMARY KEY, sentence text NOT NULL,
	sentiment sst2_result GENERATED ALWAYS AS (sst2_classify(sentence)) STORED);
INSERT INTO gen (id, sentence) SELECT id, sentence FROM dev;
CREATE TABLE trig (id int PRIMARY KEY, sentence text NOT NULL, label text, score real);
CREATE TRIGGER tag BEFORE INSERT OR UPDATE ON trig FOR EACH ROW
	EXECUTE FUNCTION sst2_tag('sentence', 'label', 'score');
INSERT INTO trig (id, sentence) SELECT id, sentence FROM dev;
ALTER TABLE trig DISABLE TRIGGER tag;
UPDATE trig SET label = 'MARKER' WHERE id = 1;
ALTER TABLE trig ENABLE TRIGGER tag;
SQL
N=$(q -d dr_src -c "SELECT count(*) FROM gen")
echo "source: gen $N rows, trig $(q -d dr_src -c "SELECT count(*) FROM trig") rows (model: $(q -d dr_src -c "SHOW sst2.model_path"))"
pg_dump -Fc -d dr_src -f "$T/dump"
# rows DB TABLE: the table's rows as text, in id order.
rows() { q -d "$1" -c "SELECT t::text FROM $2 t ORDER BY id"; }
rows dr_src gen >"$T/src_gen"; rows dr_src trig >"$T/src_trig"

# 1. A target where sst2.model_path is unset.
createdb dr_unset
q -c "ALTER DATABASE dr_unset SET sst2.model_path = ''"
[ -z "$(q -d dr_unset -c "SHOW sst2.model_path")" ] && ok "dr_unset sees sst2.model_path = ''" || bad "dr_unset's model_path"
rc=0; pg_restore -d dr_unset "$T/dump" >"$T/unset.log" 2>&1 || rc=$?
grep -E 'error|ERROR|HINT|CONTEXT' "$T/unset.log" | head -n 8
gen_n=$(q -d dr_unset -c "SELECT count(*) FROM gen"); trig_n=$(q -d dr_unset -c "SELECT count(*) FROM trig")
echo "restore without a model: pg_restore exit $rc, gen $gen_n rows, trig $trig_n rows"
[ $rc != 0 ] && grep -q 'sst2.model_path is not set' "$T/unset.log" && grep -q 'COPY gen' "$T/unset.log" &&
	ok "gen's COPY fails: sst2.model_path is not set" || bad "expected gen's COPY to fail"
[ "$gen_n" = 0 ] && ok "gen is empty" || bad "gen has $gen_n rows"
[ "$trig_n" = "$N" ] && rows dr_unset trig | cmp -s - "$T/src_trig" && ok "trig restored as data, $trig_n rows equal to the source" || bad "trig: $trig_n rows"

# 2. A target where it is set (the cluster's setting): data section timed per table.
createdb dr_set
pg_restore -d dr_set --section=pre-data "$T/dump"
t_gen=$(seconds pg_restore -d dr_set --section=data -t gen "$T/dump")
t_trig=$(seconds pg_restore -d dr_set --section=data -t trig "$T/dump")
pg_restore -d dr_set --section=post-data "$T/dump"
gen_n=$(q -d dr_set -c "SELECT count(*) FROM gen"); trig_n=$(q -d dr_set -c "SELECT count(*) FROM trig")
echo "restore with the model: gen $gen_n rows in $t_gen s, trig $trig_n rows in $t_trig s"
awk -v n="$N" -v g="$t_gen" -v t="$t_trig" 'BEGIN { printf "result: %d rows: generated column %.2f s (%.0f rows/s), trigger-filled %.2f s (%.0f rows/s), %.0f x\n", n, g, n / g, t, n / t, g / t }'
[ "$gen_n" = "$N" ] && rows dr_set gen | cmp -s - "$T/src_gen" && ok "gen: every row classified again, $gen_n equal to the source" || bad "gen: $gen_n rows or values differ"
[ "$trig_n" = "$N" ] && rows dr_set trig | cmp -s - "$T/src_trig" && ok "trig: $trig_n rows equal to the source" || bad "trig: $trig_n rows or values differ"
[ "$(q -d dr_set -c "SELECT label FROM trig WHERE id = 1")" = MARKER ] && ok "trig's marker row kept: the trigger did not fire during the restore" || bad "trig's marker row was reclassified"
[ "$(q -d dr_set -c "SELECT tgenabled FROM pg_trigger WHERE tgname = 'tag'")" = O ] && ok "the trigger exists after the restore" || bad "trigger missing"

for db in dr_src dr_unset dr_set; do dropdb $db; done
rm -rf "$T"
if [ $fails = 0 ]; then echo "PASS: dump_restore"; else echo "FAIL: dump_restore ($fails checks failed)"; exit 1; fi

#!/usr/bin/env bash
# sst2_tag honours the typmod of its target columns, as an INSERT would
# (issue 13): a label too long for varchar(3) is ERROR 22001; a score into
# numeric(3,2) is stored rounded (1.00); into numeric(2,2) a score >= 0.995
# is ERROR 22003; a table tagged into varchar(20)/numeric(6,4) survives
# pg_dump -t | psql into another database with every row.  And the trigger
# works with search_path = pg_catalog.  Tiny model with a flipped classifier
# bias: POSITIVE wins by about 6, so the score is about 0.9975.
source "$(dirname "$0")/hostile_lib.bash"
need_tiny
hl_init trigger_typmod
/usr/bin/python3 "$HL_DIR/make_model.py" "$SST2_TINY_MODEL" "$T/pos" --bias=-3,3 || exit 1
psql -X -q -d "$DB" -c "ALTER DATABASE $DB SET sst2.model_path = '$T/pos'"
q <<SQL >/dev/null
CREATE TABLE v3 (t text, label varchar(3));
CREATE TRIGGER tag BEFORE INSERT OR UPDATE ON v3 FOR EACH ROW EXECUTE FUNCTION sst2_tag('t', 'label');
CREATE TABLE n32 (t text, label text, score numeric(3,2));
CREATE TRIGGER tag BEFORE INSERT OR UPDATE ON n32 FOR EACH ROW EXECUTE FUNCTION sst2_tag('t', 'label', 'score');
CREATE TABLE n22 (t text, label text, score numeric(2,2));
CREATE TRIGGER tag BEFORE INSERT OR UPDATE ON n22 FOR EACH ROW EXECUTE FUNCTION sst2_tag('t', 'label', 'score');
CREATE TABLE d (id int, t text, label varchar(20), score numeric(6,4));
CREATE TRIGGER tag BEFORE INSERT OR UPDATE ON d FOR EACH ROW EXECUTE FUNCTION sst2_tag('t', 'label', 'score');
SQL

check "(precondition) score >= 0.995" "$(q -c "SELECT (sst2_classify('a great movie')).score >= 0.995")" t
check_re "varchar(3): ERROR 22001 at INSERT" "$(q -c "INSERT INTO v3 (t) VALUES ('a great movie')")" \
	'ERROR:  22001: value too long for type character varying\(3\)'
check "varchar(3): no row stored" "$(q -c "SELECT count(*) FROM v3")" 0
check "varchar(3): a NULL text still gives a NULL label" "$(q -c "INSERT INTO v3 (t) VALUES (NULL)" -c "SELECT count(*) FROM v3 WHERE label IS NULL")" 1
check "numeric(3,2): stored rounded to the typmod" \
	"$(q -c "INSERT INTO n32 (t) VALUES ('a great movie')" -c "SELECT score::text, score = ((sst2_classify(t)).score)::numeric(3,2) FROM n32")" "1.00|t"
check_re "numeric(2,2): ERROR 22003 at INSERT" "$(q -c "INSERT INTO n22 (t) VALUES ('a great movie')")" \
	'ERROR:  22003: numeric field overflow'
check "numeric(2,2): no row stored" "$(q -c "SELECT count(*) FROM n22")" 0
check "UPDATE is coerced too" "$(q -c "INSERT INTO v3 (t) VALUES (NULL)" -c "UPDATE v3 SET t = 'x'" 2>&1 | grep -o 22001 | head -n 1)" 22001

# every stored value is what the column holds; pg_dump | psql keeps every row
q <<SQL >/dev/null
INSERT INTO d (id, t) SELECT i, 'review number ' || i FROM generate_series(1, 50) i;
SQL
check "varchar(20)/numeric(6,4): 50 rows, scores at scale 4" "$(q -c "SELECT count(*), bool_and(score = round(score, 4) AND score = ((sst2_classify(t)).score)::numeric(6,4)) FROM d")" "50|t"
DB2=${DB}_restore
dropdb --if-exists "$DB2" >/dev/null 2>&1; createdb "$DB2"
psql -X -q -d "$DB2" -c "CREATE EXTENSION sst2" -c "ALTER DATABASE $DB2 SET sst2.model_path = '$T/pos'"
restore=$(timeout 120 pg_dump -t d "$DB" | timeout 120 psql -X -q -v ON_ERROR_STOP=1 -d "$DB2" 2>&1 >/dev/null)
check "pg_dump -t d | psql: no error" "$restore" ""
check "restored: every row, same values" \
	"$(timeout 60 psql -X -At -d "$DB2" -c "SELECT count(*), md5(string_agg(id || label || score, ',' ORDER BY id)) FROM d")" \
	"$(q -c "SELECT count(*), md5(string_agg(id || label || score, ',' ORDER BY id)) FROM d")"
dropdb "$DB2"

# the trigger does not depend on search_path
out=$(q <<SQL
SET search_path = pg_catalog;
INSERT INTO public.d (id, t) VALUES (100, 'a great movie');
SELECT 'row', label, score FROM public.d WHERE id = 100;
SQL
)
check "search_path = pg_catalog: the trigger tags the row" "$(grep "^row" <<<"$out")" "$(q -c "SELECT 'row|POSITIVE|' || ((sst2_classify('a great movie')).score)::numeric(6,4)")"
[ -z "$(grep ERROR <<<"$out")" ] || echo "$out"
hl_done trigger_typmod

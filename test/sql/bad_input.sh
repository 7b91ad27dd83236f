#!/usr/bin/env bash
# Bad input through SQL (test/sql/bad_input.sql): broken model folders made
# from the tiny deterministic model, odd texts; the output (messages and
# SQLSTATEs) must equal test/sql/bad_input.out exactly.  Then the encodings:
# a LATIN1 database converts to UTF-8 (same ids as UTF-8), a SQL_ASCII one
# takes valid UTF-8 as is and rejects other bytes with 22021.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ -f "${SST2_TINY_MODEL:-/nonexistent}/model.safetensors" ] || { echo "FAIL: no tiny model (SST2_TINY_MODEL, made by scripts/test.sh)"; exit 1; }
MODELS="$SST2_TEST_TMP/bad_models"
/usr/bin/python3 "$HERE/make_bad_models.py" "$SST2_TINY_MODEL" "$MODELS"
cp -r "$SST2_TINY_MODEL" "$MODELS/good"; chmod -R a+rX "$MODELS"
dropdb --if-exists sst2_bad >/dev/null; createdb sst2_bad

psql -X -d sst2_bad -v models="$MODELS" -f "$HERE/bad_input.sql" 2>&1 \
	| sed -e "s|$MODELS|@MODELS@|g" -e '/^LOCATION:/d' -e 's/^psql:[^:]*:[0-9]*: //' >"$SST2_TEST_TMP/bad_input.out"
if ! diff -u "$HERE/bad_input.out" "$SST2_TEST_TMP/bad_input.out"; then
	echo "FAIL: output differs from test/sql/bad_input.out (got $SST2_TEST_TMP/bad_input.out)"; exit 1
fi
echo "bad_input.sql: output as expected"

# encodings
fail=0
utf8_ids=$(psql -X -q -At -d sst2_bad -c "SET sst2.model_path = '$MODELS/good'" -c "SELECT sst2_tokenize('Café déjà vu, naïve façade')")
for enc in LATIN1 SQL_ASCII; do
	dropdb --if-exists "sst2_$enc" >/dev/null
	createdb -T template0 -E "$enc" --locale=C "sst2_$enc"
	psql -X -q -d "sst2_$enc" -c "CREATE EXTENSION sst2"
	ids=$(PGCLIENTENCODING=UTF8 psql -X -q -At -d "sst2_$enc" -c "SET sst2.model_path = '$MODELS/good'" -c "SELECT sst2_tokenize('Café déjà vu, naïve façade')")
	if [ "$ids" = "$utf8_ids" ]; then echo "$enc: same ids as UTF-8 ($ids)"; else echo "FAIL $enc: $ids vs $utf8_ids"; fail=1; fi
done
# SQL_ASCII: bytes that are not UTF-8 (here Latin-1 é) are an error, not garbage
out=$(psql -X -q -At -d sst2_SQL_ASCII -v VERBOSITY=verbose -c "SET sst2.model_path = '$MODELS/good'" \
	-c "SELECT sst2_tokenize(convert_from('\\x636166e9'::bytea, 'SQL_ASCII'))" 2>&1 || true)
if grep -q "22021" <<<"$out"; then echo "SQL_ASCII non-UTF-8 bytes: ERROR 22021 as documented"; else echo "FAIL SQL_ASCII: $out"; fail=1; fi
for db in sst2_bad sst2_LATIN1 sst2_SQL_ASCII; do dropdb "$db"; done
[ $fail = 0 ] && echo "PASS: bad input"
exit $fail

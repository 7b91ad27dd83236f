#!/usr/bin/env bash
# sst2.precision through SQL: the default is fp32; int8 and bf16 give the
# CLI's logits at that precision (bin/sst2 --precision, same core), which
# differ from fp32's; switching between statements in one backend gives each
# statement its own precision's results, and a statement keeps the precision
# it started with (set_config in the middle of it changes the next one only);
# sst2_model_info() names the precision and kernel; the batched form agrees
# with the scalar one; only superusers set it (42501); the i8/bf16 cache files
# are written once in $PGDATA/sst2_cache, and a truncated one or another
# precision's file in its place is never used (same results in a new backend).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DB=sst2_precision
MODEL=${SST2_MINI_MODEL:-$ROOT/models/sst2-mini}
fail=0
check() { if [ "$2" = true ]; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
q() { psql -X -At -v ON_ERROR_STOP=1 -d $DB -c "$1" 2>&1; }
t() { [ "$1" = t ] && echo true || echo false; }

dropdb --if-exists $DB >/dev/null 2>&1; createdb $DB && psql -X -q -d $DB -c "CREATE EXTENSION sst2" || exit 1
DATA=$(q "SHOW data_directory")
SENT="it is a charming and often affecting journey."

# the CLI's logits at each precision, as a SQL real[] literal
declare -A want
for p in fp32 bf16 int8; do
	l=$(printf '%s\n' "$SENT" | "$ROOT/bin/sst2" --precision $p "$MODEL" | cut -f3)
	want[$p]="'{$l}'::real[]"
done
# close A B: every logit within 5e-5
close() { echo "(SELECT bool_and(abs(a - b) < 5e-5) FROM unnest($1, $2) AS u(a, b))"; }

check "default precision is fp32" "$([ "$(q "SELECT sst2_model_info()->>'precision'")" = fp32 ] && echo true || echo false)"
check "the three precisions differ on this sentence (so the checks below can fail)" \
	"$(t "$(q "SELECT NOT $(close "${want[fp32]}" "${want[int8]}") AND NOT $(close "${want[fp32]}" "${want[bf16]}") AND NOT $(close "${want[int8]}" "${want[bf16]}")")")"

# one session, switching between statements
out=$(psql -X -At -v ON_ERROR_STOP=1 -d $DB <<SQL 2>&1
SELECT $(close "sst2_logits('$SENT')" "${want[fp32]}");
SET sst2.precision = int8;
SELECT $(close "sst2_logits('$SENT')" "${want[int8]}");
SELECT sst2_model_info()->>'precision', sst2_model_info()->>'kernel';
SET sst2.precision = bf16;
SELECT $(close "sst2_logits('$SENT')" "${want[bf16]}");
SELECT sst2_model_info()->>'precision';
SET sst2.precision = int8;
SELECT $(close "(sst2_classify_batch(ARRAY['$SENT', 'a dull movie'])) [1].score::real || '{}'::real[]" "ARRAY[(sst2_classify('$SENT')).score]");
SELECT $(close "(SELECT array_agg((r).score) FROM (SELECT sst2_classify_window(s) OVER () AS r FROM (VALUES ('$SENT'), ('$SENT')) v(s)) w)" "ARRAY[(sst2_classify('$SENT')).score, (sst2_classify('$SENT')).score]");
RESET sst2.precision;
SELECT $(close "sst2_logits('$SENT')" "${want[fp32]}");
SQL
)
out=$(grep -vxE 'SET|RESET' <<<"$out")
mapfile -t L <<<"$out"
check "fp32 first: the CLI's fp32 logits (${L[0]:-})" "$(t "${L[0]:-}")"
check "SET sst2.precision = int8: the CLI's int8 logits (${L[1]:-})" "$(t "${L[1]:-}")"
kern=$(cut -d'|' -f2 <<<"${L[2]:-}")
check "sst2_model_info(): precision int8, kernel $kern" \
	"$([ "$(cut -d'|' -f1 <<<"${L[2]:-}")" = int8 ] && [[ $kern == avx512-vnni || $kern == generic ]] && echo true || echo false)"
check "SET sst2.precision = bf16: the CLI's bf16 logits (${L[3]:-})" "$(t "${L[3]:-}")"
check "sst2_model_info()->>'precision' = bf16 (${L[4]:-})" "$([ "${L[4]:-}" = bf16 ] && echo true || echo false)"
check "int8: sst2_classify_batch agrees with sst2_classify (${L[5]:-})" "$(t "${L[5]:-}")"
check "int8: sst2_classify_window agrees with sst2_classify (${L[6]:-})" "$(t "${L[6]:-}")"
check "RESET: fp32 again (${L[7]:-})" "$(t "${L[7]:-}")"
[ "${#L[@]}" = 8 ] || { echo "$out"; fail=1; }

# a statement keeps the precision it started with
out=$(psql -X -At -v ON_ERROR_STOP=1 -d $DB <<SQL 2>&1
SELECT $(close "sst2_logits('$SENT')" "${want[fp32]}"), set_config('sst2.precision', 'int8', false) FROM generate_series(1, 3);
SELECT $(close "sst2_logits('$SENT')" "${want[int8]}");
SQL
)
check "set_config inside a statement: every row keeps fp32, the next statement is int8: $(tr '\n' ' ' <<<"$out")" \
	"$([ "$out" = $'t|int8\nt|int8\nt|int8\nt' ] && echo true || echo false)"

# superuser only
psql -X -q -d $DB -c "DROP ROLE IF EXISTS sst2_prec_user; CREATE ROLE sst2_prec_user LOGIN" >/dev/null 2>&1
# (the library loaded first: before that, SET only makes a placeholder)
err=$(psql -X -At -U sst2_prec_user -d $DB -c "\\set VERBOSITY verbose" -c "SELECT sst2_tokenize('a')" -c "SET sst2.precision = int8" 2>&1)
check "a non-superuser cannot SET sst2.precision: $(grep -m1 ERROR <<<"$err")" "$([[ $err == *"42501"* ]] && echo true || echo false)"
psql -X -q -d $DB -c "DROP ROLE sst2_prec_user" >/dev/null 2>&1

# the cache files: one per precision; damaged or swapped, never used
# (this model's files: other tests leave cache files of their own models there)
i8=$(ls "$DATA"/sst2_cache/"$(basename "$MODEL")"-*.i8 2>/dev/null | head -n 1)
bf=$(ls "$DATA"/sst2_cache/"$(basename "$MODEL")"-*.bf16 2>/dev/null | head -n 1)
check "cache files written: $(basename "${i8:-none}") $(basename "${bf:-none}")" "$([ -f "$i8" ] && [ -f "$bf" ] && echo true || echo false)"
if [ -f "$i8" ] && [ -f "$bf" ]; then
	truncate -s 4096 "$i8"
	got=$(q "SET sst2.precision = int8; SELECT $(close "sst2_logits('$SENT')" "${want[int8]}")" | tail -n 1)
	check "truncated i8 file: a new backend rebuilds it, same int8 logits ($got)" "$(t "$got")"
	check "the rebuilt i8 file has its full size" "$([ "$(stat -c %s "$i8")" -gt 4096 ] && echo true || echo false)"
	cp "$bf" "$i8"
	got=$(q "SET sst2.precision = int8; SELECT $(close "sst2_logits('$SENT')" "${want[int8]}")" | tail -n 1)
	check "the bf16 file under the i8 name: not used, same int8 logits ($got)" "$(t "$got")"
fi

dropdb --if-exists $DB >/dev/null 2>&1
[ $fail = 0 ] && echo "PASS: sql_precision"
exit $fail

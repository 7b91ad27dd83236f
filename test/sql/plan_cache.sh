#!/usr/bin/env bash
# Cached plans follow model changes (issue 16): a statement prepared (or a
# PL/pgSQL function planned) before SET sst2.model_path / sst2.precision gives
# the same result as a direct call afterwards, also after a rolled-back SET
# LOCAL.  Without the invalidation, the prepared statement's constant call is
# folded when planned and keeps the old model's result.
# Tiny model; model P says POSITIVE and model N says NEGATIVE for every text.
source "$(dirname "$0")/hostile_lib.bash"
need_tiny
hl_init plan_cache
mk() { /usr/bin/python3 "$HL_DIR/make_model.py" "$SST2_TINY_MODEL" "$@" || exit 1; }
mk "$T/p" --bias=-8,8; mk "$T/n" --bias=8,-8

out=$(q <<SQL
SET sst2.model_path = '$T/p';
CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS \$\$ BEGIN RETURN (sst2_classify('a fine film')).label; END \$\$;
PREPARE c AS SELECT (sst2_classify('a fine film')).label;
PREPARE l AS SELECT sst2_logits('a fine film')::text;
EXECUTE c; SELECT f();
SET sst2.model_path = '$T/n';
EXECUTE c; SELECT f(); SELECT (sst2_classify('a fine film')).label;
BEGIN; SET LOCAL sst2.model_path = '$T/p'; EXECUTE c; ROLLBACK;
EXECUTE c; SELECT f();
EXECUTE l; SELECT sst2_logits('a fine film')::text;
SET sst2.precision = int8;
EXECUTE l; SELECT sst2_logits('a fine film')::text;
SQL
)
read -r -d '' -a r <<<"$out"
check "model P: prepared, PL/pgSQL" "${r[0]} ${r[1]}" "POSITIVE POSITIVE"
check "after SET sst2.model_path = N: prepared, PL/pgSQL, direct" "${r[2]} ${r[3]} ${r[4]}" "NEGATIVE NEGATIVE NEGATIVE"
check "SET LOCAL back to P inside a transaction: prepared" "${r[5]}" "POSITIVE"
check "after its ROLLBACK: prepared, PL/pgSQL" "${r[6]} ${r[7]}" "NEGATIVE NEGATIVE"
check "fp32: prepared logits equal direct" "${r[8]}" "${r[9]}"
check "int8: prepared logits equal direct" "${r[10]}" "${r[11]}"
check "int8 logits differ from fp32 (the precision change is visible)" "$([ "${r[10]}" != "${r[8]}" ] && echo differs || echo "same: ${r[10]}")" differs
hl_done plan_cache

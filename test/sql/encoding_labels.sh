#!/usr/bin/env bash
# Labels in the database encoding (issue 13): config.json is UTF-8; a label
# must come back in the database's encoding.
#  1. LATIN1 database, labels "très négatif"/"très positif": the label equals
#     'très positif' and sst2_model_info()->'labels' shows both right (was:
#     mojibake, = false);
#  2. EUC_JP database, label ポジティブ: equal (was: ERROR 22021 on output);
#  3. LATIN1 database, label ポジティブ (not representable): ERROR 22P05 when
#     the model loads, not mojibake.
# Tiny model with a flipped classifier bias: label 1 wins by 16.
source "$(dirname "$0")/hostile_lib.bash"
need_tiny
hl_init encoding_labels
export PGCLIENTENCODING=UTF8
/usr/bin/python3 "$HL_DIR/make_model.py" "$SST2_TINY_MODEL" "$T/fr" --labels "très négatif,très positif" --bias=-8,8 || exit 1
/usr/bin/python3 "$HL_DIR/make_model.py" "$SST2_TINY_MODEL" "$T/ja" --labels "ネガティブ,ポジティブ" --bias=-8,8 || exit 1
mkdb() { # NAME ENCODING
	dropdb --if-exists "$1" >/dev/null 2>&1
	createdb -E "$2" -l C -T template0 "$1" && psql -X -q -d "$1" -c "CREATE EXTENSION sst2" -c "ALTER DATABASE $1 SET synchronous_commit = on"
}
L1=${DB}_latin1 EJ=${DB}_eucjp
mkdb "$L1" LATIN1; mkdb "$EJ" EUC_JP
ql() { local d=$1; shift; timeout 60 psql -X -q -At -v VERBOSITY=verbose -d "$d" "$@" 2>&1; }

check "1. LATIN1: label = 'très positif'" \
	"$(ql "$L1" -c "SET sst2.model_path = '$T/fr'" -c "SELECT (sst2_classify('a great movie')).label = 'très positif', (sst2_classify('a great movie')).label")" "t|très positif"
check "1. LATIN1: the label's length in characters" \
	"$(ql "$L1" -c "SET sst2.model_path = '$T/fr'" -c "SELECT length((sst2_classify('a great movie')).label)")" 12
check "1. LATIN1: sst2_model_info()->'labels'" \
	"$(ql "$L1" -c "SET sst2.model_path = '$T/fr'" -c "SELECT sst2_model_info()->'labels'")" '["très négatif", "très positif"]'
check "1. LATIN1: the batched form too" \
	"$(ql "$L1" -c "SET sst2.model_path = '$T/fr'" -c "SELECT (sst2_classify_batch(ARRAY['a great movie']))[1].label = 'très positif'")" t
check "1. LATIN1: sst2_label too" \
	"$(ql "$L1" -c "SET sst2.model_path = '$T/fr'" -c "SELECT sst2_label('a great movie') = 'très positif', length(sst2_label('a great movie'))")" "t|12"
check "2. EUC_JP: label = 'ポジティブ'" \
	"$(ql "$EJ" -c "SET sst2.model_path = '$T/ja'" -c "SELECT (sst2_classify('a great movie')).label = 'ポジティブ', (sst2_classify('a great movie')).label")" "t|ポジティブ"
check "2. EUC_JP: sst2_label too" \
	"$(ql "$EJ" -c "SET sst2.model_path = '$T/ja'" -c "SELECT sst2_label('a great movie') = 'ポジティブ'")" t
check "2. EUC_JP: sst2_model_info()->'labels'" \
	"$(ql "$EJ" -c "SET sst2.model_path = '$T/ja'" -c "SELECT sst2_model_info()->'labels'")" '["ネガティブ", "ポジティブ"]'
check_re "3. LATIN1, label not representable: ERROR 22P05 at load" \
	"$(ql "$L1" -c "SET sst2.model_path = '$T/ja'" -c "SELECT (sst2_classify('a great movie')).label")" "^ERROR:  22P05: "
DB=$L1 no_crash "encodings"
dropdb "$L1"; dropdb "$EJ"
hl_done encoding_labels

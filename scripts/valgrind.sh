#!/usr/bin/env bash
# scripts/valgrind.sh: the C unit tests and the CLI under valgrind memcheck.
#
# Builds the core, the unit tests and bin/sst2 into build/valgrind/ with
# -O1 -g (the x86-64 baseline, as the Makefile), then runs them with
# SST2_ISA=avx2: the gemm kernel is chosen at run time and valgrind 3.19
# cannot decode AVX-512 (OpenBLAS is pinned to its Haswell kernels for the
# same reason; SST2_ISA=generic checks the baseline kernel).  Each runs under
#   valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1
# and ends with "valgrind: N passed, N failed[, N skipped]".  unit_model runs
# with SST2_UNIT_QUICK=1 (a few rows per set) to keep this within a few minutes.
# The tiny deterministic model is generated here, under valgrind, by
# bin/sst2 --make-det.  The full-size distilbert-det model is left out (one
# forward pass of it takes about 30 s under memcheck; its F32 in-place path is
# the same code as tiny-det's, which runs): SST2_VALGRIND_FULL=1 includes it
# (unit_model's det checks and a CLI run).
#
# Environment: SST2_VALGRIND_ISA (generic or avx2, default avx2), SST2_DATA
# (default test/data), SST2_DET_MODEL (default $SST2_WORK/models/distilbert-det,
# else build/distilbert-det; only with SST2_VALGRIND_FULL=1).
# Logs: build/valgrind/logs/NAME.log (program) and NAME.vg.log (valgrind).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/valgrind
export SST2_DATA=${SST2_DATA:-$ROOT/test/data}
SST2_WORK=${SST2_WORK:-/tmp/sst2-work}
# the gemm kernel path (cpu.c): not avx512, which valgrind 3.19 cannot decode
export SST2_ISA=${SST2_VALGRIND_ISA:-avx2}
T0=$SECONDS

pick_model() { # NAME: first existing candidate (or the first, to be reported absent)
	local c
	for c in "$SST2_WORK/models/$1" "$ROOT/build/$1"; do
		[ -f "$c/model.safetensors" ] && { echo "$c"; return; }
	done
	echo "$SST2_WORK/models/$1"
}
export SST2_DET_MODEL=${SST2_DET_MODEL:-$(pick_model distilbert-det)}
MINI=$ROOT/models/sst2-mini

command -v valgrind >/dev/null 2>&1 || { echo "SKIP: valgrind is not installed"; exit 77; }

# ---- build
CC=${CC:-gcc}
CFLAGS="-O1 -g -fno-math-errno -Wall -DSST2_MEMCHECK -I$ROOT/src $(pkg-config --cflags json-c libutf8proc openblas)"
LIBS="$(pkg-config --libs json-c libutf8proc openblas) -lm"
# the PostgreSQL-free core, as listed once in src/core.mk
CORE=$(make -s --no-print-directory -f - <<<"include $ROOT/src/core.mk
all: ; @echo \$(SST2_CORE)")
[ -n "$CORE" ] || { echo "could not read the core sources from src/core.mk"; exit 1; }
mkdir -p "$OUT/obj" "$OUT/logs"
rm -f "$OUT"/logs/*
echo "==> building into $OUT (-O1 -g, x86-64 baseline; run with SST2_ISA=$SST2_ISA)"
build() {
	local f objs=""
	for f in $CORE cli; do
		$CC $CFLAGS -c -o "$OUT/obj/$f.o" "$ROOT/src/$f.c" || return 1
		[ $f = cli ] || objs="$objs $OUT/obj/$f.o"
	done
	# the generator rounds like numpy only without fused multiply-add (see the Makefile)
	$CC $CFLAGS -ffp-contract=off -c -o "$OUT/obj/detgen.o" "$ROOT/src/detgen.c" || return 1
	$CC $CFLAGS -o "$OUT/sst2" "$OUT/obj/cli.o" "$OUT/obj/detgen.o" $objs $LIBS || return 1
	for f in unit_tokenizer unit_loader unit_model unit_trust; do
		$CC $CFLAGS -o "$OUT/$f" "$ROOT/test/$f.c" $objs $LIBS || return 1
	done
}
if ! build >"$OUT/logs/build.log" 2>&1; then
	cat "$OUT/logs/build.log"
	echo "valgrind: 0 passed, 1 failed"
	exit 1
fi

# ---- run
export OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Haswell SST2_UNIT_QUICK=1 SST2_UNIT_NO_TIMING=1
VG=(valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1
	--show-leak-kinds=definite,indirect --num-callers=30)
PASSED=0 FAILED=0 SKIPPED=0 FAILURES=""
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/sst2-valgrind.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

# vg NAME EXPECT INPUT CMD...: EXPECT is ok (exit 0) or fail (a non-zero exit,
# e.g. a CLI error path); INPUT is a file for stdin or -.  Any valgrind error
# (invalid access, uninitialised value, definite/indirect leak, in the process
# or in a forked child) fails the step.
vg() {
	local name=$1 expect=$2 input=$3; shift 3
	local logf=$OUT/logs/$name.log vgl=$OUT/logs/$name.vg.log t0=$SECONDS rc errs
	[ "$input" = - ] && input=/dev/null
	(cd "$ROOT" && "${VG[@]}" --log-file="$OUT/logs/$name.vg.%p" "$@" <"$input" >"$logf" 2>&1)
	rc=$?
	cat "$OUT/logs/$name.vg."* >"$vgl" 2>/dev/null; rm -f "$OUT/logs/$name.vg."[0-9]*
	errs=$(grep -hoE 'ERROR SUMMARY: [0-9]+' "$vgl" | awk '{s += $3} END {print s + 0}')
	if [ $rc = 77 ] && [ "$errs" = 0 ]; then
		SKIPPED=$((SKIPPED + 1)); printf 'SKIP  %-22s %s\n' "$name" "$(grep -m1 SKIP "$logf")"
	elif [ "$errs" = 0 ] && { { [ $expect = ok ] && [ $rc = 0 ]; } || { [ $expect = fail ] && [ $rc != 0 ] && [ $rc -lt 128 ]; }; }; then
		PASSED=$((PASSED + 1)); printf 'PASS  %-22s %4ds  %s\n' "$name" $((SECONDS - t0)) "$(grep -E 'passed|^(POSITIVE|NEGATIVE)|sst2:' "$logf" | tail -n 1)"
	else
		FAILED=$((FAILED + 1)); FAILURES="$FAILURES $name"
		printf 'FAIL  %-22s (exit %d, %d valgrind errors) logs: %s %s\n' "$name" $rc "$errs" "$logf" "$vgl"
		grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|[0-9,]+ bytes in|   (at|by) )' "$vgl" | head -n 20 | sed 's/^/      /'
		tail -n 5 "$logf" | sed 's/^/      /'
	fi
}

LINES=$SCRATCH/lines.txt
printf "%b" "$(cat <<'EOT'
This movie was wonderful, I loved every minute of it.
A dull, lifeless and far too long film.
Café naïve [SEP] 中文 ok! \xc3(

not good
EOT
)" >"$LINES"

vg unit_tokenizer ok - "$OUT/unit_tokenizer"
vg unit_loader ok - "$OUT/unit_loader"
if [ "${SST2_VALGRIND_FULL:-0}" = 1 ]; then
	vg unit_model ok - "$OUT/unit_model"
else
	SST2_DET_MODEL=none vg unit_model ok - "$OUT/unit_model"
fi

TINY=$SCRATCH/tiny-det
vg make_det ok - "$OUT/sst2" --make-det "$TINY" --dim 64 --layers 2 --heads 2 --hidden 128 \
	--vocab-file "$SST2_DATA/bert-base-uncased-vocab.txt"
vg make_det_bad_vocab fail - "$OUT/sst2" --make-det "$SCRATCH/det-bad" --vocab-file "$SCRATCH/no-such-vocab"
# the truncated-weights part faults on purpose; valgrind cannot follow the retry
SST2_UNIT_NO_FAULTS=1 SST2_TINY_MODEL=$TINY SST2_MINI_MODEL=$MINI vg unit_trust ok - "$OUT/unit_trust"
vg cli_tiny ok "$LINES" "$OUT/sst2" "$TINY"
vg cli_tiny_batch_ids ok "$LINES" "$OUT/sst2" --batch 3 --ids --max-length 8 "$TINY"
vg cli_tiny_info ok - "$OUT/sst2" --info "$TINY"
# F16: the fp32 cache is created by the first run and mapped by the second
vg cli_mini_cache_new ok "$LINES" "$OUT/sst2" --batch 2 --cache-dir "$SCRATCH/cache" "$MINI"
vg cli_mini_cache_reuse ok "$LINES" "$OUT/sst2" --cache-dir "$SCRATCH/cache" "$MINI"
if [ "${SST2_VALGRIND_FULL:-0}" != 1 ]; then
	SKIPPED=$((SKIPPED + 1)); echo "SKIP  cli_det                full-size model only with SST2_VALGRIND_FULL=1"
else
	head -n 2 "$LINES" >"$SCRATCH/two.txt"
	vg cli_det ok "$SCRATCH/two.txt" "$OUT/sst2" --batch 2 "$SST2_DET_MODEL"
fi
vg cli_missing_model fail "$LINES" "$OUT/sst2" "$SCRATCH/no-such-model"
vg cli_bad_option fail - "$OUT/sst2" --max-length 1 "$SCRATCH"

echo
[ -n "$FAILURES" ] && echo "failed:$FAILURES"
echo "valgrind: $PASSED passed, $FAILED failed, $SKIPPED skipped ($((SECONDS - T0))s)"
[ "$FAILED" = 0 ]

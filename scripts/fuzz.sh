#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS]: build the libFuzzer targets of the sst2 core
# (test/fuzz/, clang with AddressSanitizer + UndefinedBehaviorSanitizer, into
# build/fuzz/) and run each for SECONDS (default 60), one at a time, on a
# scratch copy of its seed corpus (test/fuzz/corpus/<target>, never modified).
# Prints a line per target and "fuzz: N passed, N failed"; exits non-zero on
# any crash, leak, timeout, sanitizer report or broken invariant.  Crash
# artifacts are kept in build/fuzz/artifacts/<target>/.
#
#   SST2_FUZZ_TARGETS="tokenizer vocab"   run only these targets
#   SST2_DATA                             real vocabulary for fuzz_tokenizer
#                                         (default test/data; a built-in one is
#                                         used when absent)
#
# Reproduce a crash: build/fuzz/fuzz_<target> build/fuzz/artifacts/<target>/crash-...
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECS=${1:-60}
OUT=$ROOT/build/fuzz
TARGETS=${SST2_FUZZ_TARGETS:-tokenizer safetensors model config vocab}
export SST2_DATA=${SST2_DATA:-$ROOT/test/data}

[[ $SECS =~ ^[0-9]+$ ]] && [ "$SECS" -gt 0 ] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
if ! command -v clang >/dev/null 2>&1; then
	echo "SKIP: clang is not installed (apt-get install clang libclang-rt-14-dev)"
	exit 77
fi

echo "==> building the fuzz targets into $OUT"
mkdir -p "$OUT/logs" "$OUT/artifacts"
if ! make -s -C "$ROOT/test/fuzz" OUT="$OUT" -j2 >"$OUT/logs/build.log" 2>&1; then
	cat "$OUT/logs/build.log"
	echo "fuzz: 0 passed, 1 failed (build)"
	exit 1
fi

# scratch files of the targets on tmpfs when possible
if [ -d /dev/shm ] && [ -w /dev/shm ]; then TMPBASE=/dev/shm; else TMPBASE=$OUT; fi
SCRATCH=$(mktemp -d "$TMPBASE/sst2-fuzz.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OPENBLAS_NUM_THREADS=1

PASSED=0 FAILED=0 FAILURES=""
for t in $TARGETS; do
	bin=$OUT/fuzz_$t
	seeds=$ROOT/test/fuzz/corpus/$t
	case $t in model) dict=safetensors ;; *) dict=$t ;; esac
	dictf=$ROOT/test/fuzz/dict/$dict.dict
	corpus=$SCRATCH/corpus-$t
	art=$OUT/artifacts/$t
	logf=$OUT/logs/$t.log
	if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
		FAILED=$((FAILED + 1)); FAILURES="$FAILURES $t"
		printf 'FAIL  fuzz_%-12s no such target\n' "$t"; continue
	fi
	rm -rf "$corpus"; mkdir -p "$corpus" "$art" "$SCRATCH/tmp-$t"
	cp "$seeds"/* "$corpus"/
	touch "$SCRATCH/start-$t"
	args=(-max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$art/")
	[ -f "$dictf" ] && args+=(-dict="$dictf")
	SST2_FUZZ_TMP=$SCRATCH/tmp-$t "$bin" "${args[@]}" "$corpus" >"$logf" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logf" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logf" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$logf" | tail -n 1)
	ncorp=$(ls "$corpus" | wc -l)
	new=$(find "$art" -type f -newer "$SCRATCH/start-$t")
	if [ $rc -eq 0 ] && ! grep -qE 'ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:|fuzz invariant failed|ERROR: libFuzzer' "$logf"; then
		PASSED=$((PASSED + 1))
		printf 'PASS  fuzz_%-12s %ss  execs %s (%s/s)  %s  corpus %s\n' "$t" "$SECS" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$ncorp"
	else
		FAILED=$((FAILED + 1)); FAILURES="$FAILURES $t"
		printf 'FAIL  fuzz_%-12s (exit %d) execs %s  %s  log: %s\n' "$t" "$rc" "${execs:-?}" "${cov:-?}" "$logf"
		grep -m1 -E 'ERROR: |runtime error:|fuzz invariant failed' "$logf" | sed 's/^/      /'
		for a in $new; do echo "      artifact: $a"; done
	fi
done

[ -n "$FAILURES" ] && echo "failed:$FAILURES"
echo "fuzz: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]

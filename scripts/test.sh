#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs the C unit
# tests, the tokenizer differential test against Hugging Face's tokenizers,
# starts a throwaway cluster, runs the regression and SQL tests, and ends with
# "N passed, N failed, N skipped".  Everything it needs is in the repository:
# test/data (SST2_DATA), models/sst2-mini, and the deterministic models that
# bin/sst2 --make-det generates into $SST2_WORK/models.
#
#   SST2_QUICK=1       shorter fuzz and differential runs (local iteration)
#   SST2_FUZZ_SECONDS  seconds per fuzz target (default 60)
#   SST2_ONLY=REGEX    run only the steps whose name matches
#   SST2_BUSY=1        keep one core busy with a busy loop for the whole run (CI does): no test
#                      may depend on a quiet machine
source "$(dirname "$0")/lib.sh"
set +e

PASSED=0 FAILED=0 SKIPPED=0 FAILURES=""
LOGDIR="$SST2_WORK/logs"
QUICK=${SST2_QUICK:-0}

# step NAME CMD...: run a test command; exit 0 passes, 77 skips, anything else fails.
step() {
	local name=$1; shift
	if [ -n "${SST2_ONLY:-}" ] && ! [[ $name =~ $SST2_ONLY ]]; then return 0; fi
	local logf="$LOGDIR/$name.log" t0=$SECONDS rc
	"$@" >"$logf" 2>&1
	rc=$?
	case $rc in
	0) PASSED=$((PASSED + 1)); printf 'PASS  %-28s %4ds  %s\n' "$name" $((SECONDS - t0)) "$(grep -E 'passed|PASS:|result:' "$logf" | tail -n 1)" ;;
	77) SKIPPED=$((SKIPPED + 1)); printf 'SKIP  %-28s %s\n' "$name" "$(grep -m1 SKIP "$logf")" ;;
	*) FAILED=$((FAILED + 1)); FAILURES="$FAILURES $name"; printf 'FAIL  %-28s (exit %d) log: %s\n' "$name" $rc "$logf"; tail -n 25 "$logf" | sed 's/^/      /' ;;
	esac
}

BUSY_PID=""
cleanup() {
	stop_cluster
	if [ -n "$BUSY_PID" ]; then kill "$BUSY_PID" 2>/dev/null; wait "$BUSY_PID" 2>/dev/null; fi
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ "${SST2_BUSY:-0}" = 1 ]; then
	(while :; do :; done) &
	BUSY_PID=$!
	log "SST2_BUSY=1: a busy loop (pid $BUSY_PID) keeps one core busy until the end of the run"
fi

# setup FAILURE: the run cannot go on; still end with the closing line.
setup_failed() { echo "$1"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

mkdir -p "$LOGDIR"
timed "Debian packages for the extension and the tests" ensure_test_deps || setup_failed "could not install the packages"
timed "npm oracles" ensure_oracles || setup_failed "npm ci failed (test/oracle)"
timed "build and install sst2" build_install || setup_failed "build failed"

DET=$(det_model distilbert-det)
TINY=$(det_model tiny-det --dim 64 --layers 2 --heads 2 --hidden 128)
MINI=$(server_model "$ROOT/models/sst2-mini")
export SST2_DET_MODEL=$DET SST2_TINY_MODEL=$TINY SST2_MINI_MODEL=$MINI
export SST2_TEST_TMP="$SST2_WORK/tmp"; mkdir -p "$SST2_TEST_TMP"

cd "$ROOT"

# ---- the PostgreSQL-free core
step det_sha256 bash test/det_sha256.sh
step unit_tokenizer ./test/unit_tokenizer
step unit_loader ./test/unit_loader
step unit_model ./test/unit_model
step unit_trust ./test/unit_trust
step unit_isa ./test/unit_isa
# the model parity checks once per kernel path; a path this CPU lacks skips
for isa in generic avx2 avx512; do
	step "unit_model_$isa" bash -c "if missing=\$(./test/unit_isa --lacks $isa); then SST2_ISA=$isa ./test/unit_model; else echo \"SKIP: this CPU lacks \$missing\"; exit 77; fi"
done
# bf16/int8: kernels, quality on the golden data, cache files; and on the portable path
step unit_qgemm ./test/unit_qgemm
step unit_qgemm_generic env SST2_ISA=generic ./test/unit_qgemm
step isa_select bash test/isa_select.sh
step isa_baseline bash scripts/check_isa.sh
DIFF_COUNT=20000; [ "$QUICK" = 1 ] && DIFF_COUNT=3000
step tokenizer_diff node test/tokenizer_diff.js --count $DIFF_COUNT
FUZZ_SECONDS=${SST2_FUZZ_SECONDS:-60}; [ "$QUICK" = 1 ] && FUZZ_SECONDS=10
step fuzz bash scripts/fuzz.sh "$FUZZ_SECONDS"
step valgrind bash scripts/valgrind.sh

# ---- PostgreSQL: a throwaway cluster with the sst2-mini model
start_cluster test "$MINI"

# pg_regress: one result per regression test
make -s installcheck >"$LOGDIR/installcheck.log" 2>&1
while read -r line; do
	name=$(sed -E 's/^(test|ok|not ok) +([0-9]+ +- +)?([A-Za-z0-9_]+).*/\3/' <<<"$line")
	if [[ $line =~ ^ok\  || $line =~ \.\.\.\ +ok ]]; then PASSED=$((PASSED + 1)); printf 'PASS  regress/%s\n' "$name"
	else FAILED=$((FAILED + 1)); FAILURES="$FAILURES regress/$name"; printf 'FAIL  regress/%s\n' "$name"; fi
done < <(grep -E '^(test |ok |not ok )' "$LOGDIR/installcheck.log")
grep -qE '^(test |ok |not ok )' "$LOGDIR/installcheck.log" || { FAILED=$((FAILED + 1)); echo "FAIL  installcheck (no results)"; tail -n 20 "$LOGDIR/installcheck.log"; }
[ -f regression.diffs ] && head -n 60 regression.diffs

for t in test/sql/*.sh; do
	[ -f "$t" ] || continue
	step "sql_$(basename "$t" .sh)" bash "$t"
done

# ---- packaging: versions agree, download_model.sh (file:// mirror), the .deb (last: it reinstalls)
step deb_version bash test/pkg/version.sh
step download_model bash test/pkg/download.sh
step deb bash test/pkg/deb.sh

echo
[ -n "$FAILURES" ] && echo "failed:$FAILURES"
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" = 0 ]

#!/usr/bin/env bash
# scripts/matrix.sh VERSION: sst2 against one PostgreSQL major, 15, 17 or 18.
#
#   15  on this machine, with the PostgreSQL that PGBIN names (default Debian's
#       /usr/lib/postgresql/15/bin; scripts/lib.sh)
#   17  in a Debian trixie root, 18 in a Debian sid root: Debian's own
#       postgresql-17 / postgresql-18 packages, made with scripts/root.sh from
#       Debian's archive once and kept in $SST2_ROOTS (made again when missing);
#       every run works in a fresh copy of it, removed at the end.
#
# Steps, each PASS, FAIL or SKIP:
#   build          the extension and core tools against that major's pg_config,
#                  with -Werror (PGXS's own -Wall etc. stay on), in a copy of the tree;
#                  then make install
#   regress/*      the regression suite (sql/, expected/) on a throwaway cluster
#   sql_*          every SQL test group (test/sql/*.sh) against that cluster,
#                  with the same models and environment scripts/test.sh gives them
#   deb_*          (17, 18) README.md's "deb-VERSION" block as written:
#                  dpkg-buildpackage builds postgresql-VERSION-sst2, apt installs it;
#                  then the regression suite against the installed package
# and ends with "N passed, N failed, N skipped" (exit 1 when any failed).
#
# Environment: SST2_WORK, SST2_PGPORT, PGBIN (scripts/lib.sh); SST2_ROOTS
# (scripts/root.sh); SST2_MATRIX_ONLY=REGEX runs only the steps whose name
# matches (build always runs).  Needs root for 17 and 18 (chroot, mounts).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=run
[ "${1:-}" = --root ] && { MODE=root; shift; }
V=${1:-}
case $V in
15 | 17 | 18) ;;
15-here) [ "${SST2_MATRIX_INSIDE:-0}" = 1 ] || { echo "usage: bash scripts/matrix.sh [--root] 15|17|18" >&2; exit 2; } ;;
*) echo "usage: bash scripts/matrix.sh [--root] 15|17|18" >&2; exit 2 ;;
esac

# Debian suite and packages of each major's root (everything the SQL groups use:
# python3-numpy/onnx for the generated models, nodejs for the explain oracle,
# procps for ps, locales-all for the LATIN1/EUC_JP databases).
case $V in
17) SUITE=trixie ;;
18) SUITE=sid ;;
esac
ROOT_PACKAGES="postgresql-$V,postgresql-server-dev-$V,postgresql-server-dev-all,build-essential,pkg-config,\
libopenblas-dev,libutf8proc-dev,libjson-c-dev,debhelper,dpkg-dev,python3-numpy,python3-onnx,nodejs,procps,locales-all"

# --root 17|18: make (when missing) the major's base root, print its path (test/pkg/upgrade.sh).
if [ $MODE = root ]; then
	[ "$V" = 17 ] || [ "$V" = 18 ] || { echo "matrix.sh --root: 17 or 18" >&2; exit 2; }
	exec bash "$HERE/root.sh" base "pg$V" "$SUITE" --include="$ROOT_PACKAGES"
fi

# The tree's files as git sees them (tracked and new, no build output), into DIR.
copy_tree() { # SRC DIR
	local src=$1 dir=$2
	rm -rf "$dir"; mkdir -p "$dir"
	if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$src" && git ls-files -co --exclude-standard -z | grep -zv '^test/oracle/node_modules/' |
			while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
			tar --null -T - -cf -) | tar -C "$dir" -xf -
	else # a release tarball: all of it, cleaned
		tar -C "$src" --exclude=./test/oracle/node_modules -cf - . | tar -C "$dir" -xf -
		make -C "$dir" -s clean >/dev/null 2>&1 || true
	fi
}

# ---- outside: 17 and 18 run this same script inside a fresh copy of their root
if [ "$V" != 15 ] && [ "${SST2_MATRIX_INSIDE:-0}" != 1 ]; then
	[ "$(id -u)" = 0 ] || { echo "matrix.sh $V needs root (it makes and enters a Debian root)"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
	SRC=$(cd "$HERE/.." && pwd)
	# the oracles of the explain group (npm packages, not ours) on this machine, shared read-only
	source "$HERE/lib.sh"
	ensure_oracles || { echo "npm ci failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
	t0=$SECONDS
	bash "$HERE/root.sh" base "pg$V" "$SUITE" --include="$ROOT_PACKAGES" >/dev/null
	copy=$(bash "$HERE/root.sh" new "pg$V" "matrix-$V")
	trap 'bash "$HERE/root.sh" clean "matrix-$V"' EXIT
	log "root pg$V ($SUITE) ready in $((SECONDS - t0)) s"
	copy_tree "$SRC" "$copy/build/sst2"
	mkdir -p "$copy/build/sst2/test/oracle/node_modules"
	# the step logs outlive the copy
	logs=${SST2_WORK:-/tmp/sst2-work}/matrix-$V-logs
	rm -rf "$logs"; mkdir -p "$logs"
	set +e
	bash "$HERE/root.sh" run "matrix-$V" --env SST2_MATRIX_INSIDE=1 \
		--env "SST2_PGPORT=${SST2_PGPORT:-54329}" --env "SST2_MATRIX_ONLY=${SST2_MATRIX_ONLY:-}" \
		--env "SST2_LOAD_SECONDS=${SST2_LOAD_SECONDS:-}" \
		--bind "$SRC/test/oracle/node_modules:/build/sst2/test/oracle/node_modules" --bind "$logs:/build/logs" \
		-- bash /build/sst2/scripts/matrix.sh "$V"
	rc=$?
	set -e
	log "matrix.sh $V: $((SECONDS - t0)) s in all; step logs in $logs"
	[ -n "${SST2_MATRIX_KEEP:-}" ] && { trap - EXIT; log "kept the root copy $copy"; }
	exit $rc
fi

# ---- inside (or 15 on this machine): build, cluster, tests
if [ "$V" = 15 ]; then
	PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
	SST2_WORK=${SST2_WORK:-/tmp/sst2-work}
	mkdir -p "$SST2_WORK"
	T=$SST2_WORK/matrix-15/sst2
	copy_tree "$(cd "$HERE/.." && pwd)" "$T"
	# the explain group's npm oracles: the tree's own
	if [ -d "$HERE/../test/oracle/node_modules" ]; then
		ln -s "$(cd "$HERE/../test/oracle/node_modules" && pwd)" "$T/test/oracle/node_modules"
	fi
	export PGBIN SST2_WORK
	exec env SST2_MATRIX_INSIDE=1 bash "$T/scripts/matrix.sh" 15-here
fi
[ "$V" = 15-here ] && V=15
export PGBIN=${PGBIN:-/usr/lib/postgresql/$V/bin}
export PG_CONFIG=$PGBIN/pg_config
# the throwaway clusters, models and logs: beside the copy on the host, in the root inside it
[ "$V" = 15 ] || export SST2_WORK=/build/work

source "$HERE/lib.sh"
set +e
PASSED=0 FAILED=0 SKIPPED=0 FAILURES=""
if [ "$V" = 15 ]; then LOGDIR=$SST2_WORK/matrix-15-logs; rm -rf "$LOGDIR"; else LOGDIR=/build/logs; fi
mkdir -p "$LOGDIR"
cd "$ROOT"

# step NAME CMD...: as scripts/test.sh: exit 0 passes, 77 skips, anything else fails.
step() {
	local name=$1; shift
	if [ -n "${SST2_MATRIX_ONLY:-}" ] && ! [[ $name =~ $SST2_MATRIX_ONLY ]]; then return 0; fi
	local logf="$LOGDIR/$name.log" t0=$SECONDS rc
	"$@" >"$logf" 2>&1
	rc=$?
	case $rc in
	0) PASSED=$((PASSED + 1)); printf 'PASS  %-28s %4ds  %s\n' "$name" $((SECONDS - t0)) "$(grep -E 'passed|PASS:|result:' "$logf" | tail -n 1)" ;;
	77) SKIPPED=$((SKIPPED + 1)); printf 'SKIP  %-28s %s\n' "$name" "$(grep -m1 SKIP "$logf")" ;;
	*) FAILED=$((FAILED + 1)); FAILURES="$FAILURES $name"; printf 'FAIL  %-28s (exit %d) log: %s\n' "$name" $rc "$logf"; tail -n 25 "$logf" | sed 's/^/      /' ;;
	esac
}

# regress LOGFILE PREFIX: one result per pg_regress test of an installcheck log.
regress() {
	local logf=$1 prefix=$2 line name
	while read -r line; do
		name=$(sed -E 's/^(test|ok|not ok) +([0-9]+ +- +)?([A-Za-z0-9_]+).*/\3/' <<<"$line")
		if [[ $line =~ ^ok\  || $line =~ \.\.\.\ +ok ]]; then PASSED=$((PASSED + 1)); printf 'PASS  %s/%s\n' "$prefix" "$name"
		else FAILED=$((FAILED + 1)); FAILURES="$FAILURES $prefix/$name"; printf 'FAIL  %s/%s\n' "$prefix" "$name"; fi
	done < <(grep -E '^(test |ok |not ok )' "$logf")
	grep -qE '^(test |ok |not ok )' "$logf" || { FAILED=$((FAILED + 1)); FAILURES="$FAILURES $prefix"; echo "FAIL  $prefix (no results)"; tail -n 20 "$logf"; }
	[ -f regression.diffs ] && head -n 60 regression.diffs
}

finish() {
	echo
	[ -n "$FAILURES" ] && echo "failed:$FAILURES"
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	[ "$FAILED" = 0 ]
	exit
}

echo "PostgreSQL $("$PG_CONFIG" --version | sed 's/^PostgreSQL //') ($PGBIN), $(. /etc/os-release; echo "$PRETTY_NAME")"

# build: -Werror on top of PGXS's warnings; the core tools too (models, tests)
build() {
	make -s -j2 COPT=-Werror all core && make -s install
}
SST2_MATRIX_ONLY_SAVED=${SST2_MATRIX_ONLY:-}; SST2_MATRIX_ONLY=
step build build
SST2_MATRIX_ONLY=$SST2_MATRIX_ONLY_SAVED
[ "$FAILED" = 0 ] || finish

DET=$(det_model distilbert-det)
TINY=$(det_model tiny-det --dim 64 --layers 2 --heads 2 --hidden 128)
MINI=$ROOT/models/sst2-mini
export SST2_DET_MODEL=$DET SST2_TINY_MODEL=$TINY SST2_MINI_MODEL=$MINI
export SST2_TEST_TMP="$SST2_WORK/tmp"; mkdir -p "$SST2_TEST_TMP"
# the memory group's leak check: 100,000 calls in scripts/test.sh (15, the full suite); on 17
# and 18 a fifth of that, which still shows a leak of a few bytes per call (the server's memory
# contexts are the same code in each major) and keeps the matrix inside CI's time
[ "$V" = 15 ] || export SST2_MEMORY_CALLS=${SST2_MEMORY_CALLS:-20000}
# the README's blocks of this major (test/sql/readme.sh): deps-17, deps-18
[ "$V" = 15 ] || export SST2_README_SUFFIX="-$V"

start_cluster "matrix-$V" "$MINI"
trap stop_cluster EXIT
if [ -z "${SST2_MATRIX_ONLY:-}" ] || [[ regress =~ $SST2_MATRIX_ONLY ]]; then
	make -s installcheck >"$LOGDIR/installcheck.log" 2>&1
	regress "$LOGDIR/installcheck.log" regress
fi
for t in test/sql/*.sh; do
	step "sql_$(basename "$t" .sh)" bash "$t"
done
stop_cluster

# ---- the Debian package of this major (15: test/pkg/deb.sh of scripts/test.sh)
if [ "$V" != 15 ]; then
	step "deb_$V" bash test/pkg/deb.sh "$V"
fi
finish

#!/usr/bin/env bash
# deb.sh [VERSION]: the Debian package for PostgreSQL VERSION (default 15),
# end to end: copy the tree into scratch (the .deb lands in the parent of the
# source folder, which must be ours), run README.md's "deb" block (15) or
# "deb-VERSION" block (17, 18: it runs pg_buildext updatecontrol first) there
# as written (dpkg-buildpackage, apt install), check what the package holds
# and that the installed files are the package's, then start a throwaway
# cluster, CREATE EXTENSION sst2 and run the pg_regress suite against the
# installed package.  At exit the package is removed and the tree's own build
# is installed again (make install), so later tests use it.
# Needs root (it installs into the system PostgreSQL): run it under the
# install lock, /tmp/sst2-install.lock, like every install; scripts/matrix.sh
# runs it for 17 and 18 inside their Debian roots.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../../scripts/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (dpkg -i into the system PostgreSQL)"; exit 77; }
MODEL=${SST2_MINI_MODEL:-$ROOT/models/sst2-mini}
[ -f "$MODEL/model.safetensors" ] || { echo "SKIP: no sst2-mini model at $MODEL"; exit 77; }
V=${1:-15}
PKG=postgresql-$V-sst2
BLOCK=deb; [ "$V" = 15 ] || BLOCK=deb-$V
# 15: the PostgreSQL lib.sh names (PGBIN); another major: Debian's, which the package installs into
[ "$V" = 15 ] || export PGBIN=/usr/lib/postgresql/$V/bin PG_CONFIG=/usr/lib/postgresql/$V/bin/pg_config
[ -x "$PGBIN/postgres" ] || { echo "SKIP: PostgreSQL $V is not installed here"; exit 77; }
ver=$(sed -nE "s/^default_version *= *'([^']+)'.*/\1/p" "$ROOT/sst2.control")
arch=$(dpkg --print-architecture)

# Build tools the package needs (the README block installs them too; without
# network they must already be here).
for p in debhelper postgresql-server-dev-all dpkg-dev; do
	dpkg -s "$p" >/dev/null 2>&1 || { log "apt-get install $p"; apt-get install -y -qq "$p" >/dev/null; }
done

# cleanup: stop our cluster, remove the package, put the tree's build back.
cleanup() {
	local rc=$?
	stop_cluster
	if dpkg -s $PKG >/dev/null 2>&1; then dpkg -r $PKG >/dev/null || rc=1; fi
	make -C "$ROOT" -s install >/dev/null || { echo "FAIL: could not reinstall the tree's build"; rc=1; }
	exit $rc
}
trap cleanup EXIT

# 1. A copy of the tree as git sees it (tracked and new files, no build output).
W=$SST2_WORK/debpkg   # (start_cluster deb uses $SST2_WORK/deb)
rm -rf "$W"; mkdir -p "$W/src"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$ROOT" && git ls-files -co --exclude-standard -z | grep -zv '^test/oracle/node_modules/' |
		tar --null -T - -cf -) | tar -C "$W/src" -xf -
else	# not a git checkout (a release tarball): copy all and clean
	tar -C "$ROOT" --exclude=./test/oracle/node_modules -cf - . | tar -C "$W/src" -xf -
	make -C "$W/src" -s clean >/dev/null
fi

# 2. README.md's block, verbatim; "sudo" is a pass-through (we are root).
sudo() { while [[ ${1:-} == -* ]]; do case $1 in -u) shift 2 ;; *) shift ;; esac; done; "$@"; }
block=$(bash "$HERE/readme_block.sh" "$BLOCK")
printf 'README block "%s":\n%s\n' "$BLOCK" "$block"
t0=$(date +%s.%N)
(cd "$W/src" && eval "$block") </dev/null >"$W/build.log" 2>&1 || { tail -n 30 "$W/build.log"; echo "FAIL: the README's $BLOCK block failed"; exit 1; }
t1=$(date +%s.%N)
deb="$W/${PKG}_${ver}_${arch}.deb"
[ -f "$deb" ] || { ls "$W"; echo "FAIL: $deb was not built"; exit 1; }
printf "built and installed %s in %.1f s\n" "$(basename "$deb")" "$(awk -v a="$t0" -v b="$t1" "BEGIN { print b - a }")"

# 3. What the package holds and what it depends on.
fail=0
dpkg-deb -c "$deb" | awk '{print $6}' >"$W/contents"
for f in ./usr/lib/postgresql/$V/lib/sst2.so ./usr/share/postgresql/$V/extension/sst2.control \
	./usr/share/postgresql/$V/extension/sst2--$ver.sql; do
	grep -qxF "$f" "$W/contents" && echo "ok: contains $f" || { echo "MISSING in package: $f"; fail=1; }
done
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
# (library package names differ between suites: libutf8proc2 in bookworm, libutf8proc3 in trixie)
for d in postgresql-$V libopenblas0 libutf8proc libjson-c; do
	[[ ", $depends" == *", $d"* ]] && echo "ok: depends on $d" || { echo "MISSING dependency: $d"; fail=1; }
done
[ "$(dpkg-query -W -f '${Status} ${Version}' $PKG)" = "install ok installed $ver" ] &&
	echo "ok: $PKG $ver is installed" || { echo "FAIL: $PKG $ver is not installed"; fail=1; }
[ "$(dpkg -S /usr/lib/postgresql/$V/lib/sst2.so | cut -d: -f1)" = $PKG ] &&
	echo "ok: sst2.so belongs to $PKG" || { echo "FAIL: sst2.so is not the package's"; fail=1; }
dpkg --verify $PKG && echo "ok: installed files equal the package's (dpkg --verify)" || { echo "FAIL: dpkg --verify"; fail=1; }

# 4. The regression suite against the installed package.
start_cluster deb "$MODEL"
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION sst2" \
	-c "SELECT sst2_classify('a gorgeous, witty, seductive movie .')"
make -C "$W/src" -s installcheck PG_CONFIG="$PG_CONFIG" >"$W/installcheck.log" 2>&1 || true
cat "$W/installcheck.log"
[ -f "$W/src/regression.diffs" ] && head -n 40 "$W/src/regression.diffs"
grep -qE 'All [0-9]+ tests passed' "$W/installcheck.log" || { echo "FAIL: installcheck"; fail=1; }
dpkg --verify $PKG || { echo "FAIL: the package's files changed during the tests"; fail=1; }

if [ $fail = 0 ]; then echo "PASS: deb ($(basename "$deb"): built, installed, regression suite passed)"
else echo "FAIL: deb"; exit 1; fi

#!/usr/bin/env bash
# The version lives in one place, default_version in sst2.control; every other
# file that names it must agree: debian/changelog (its upstream part),
# META.json (the same number as SemVer, 1.0 -> 1.0.0, for the distribution and
# what it provides), the install script name in META.json and the Makefile's
# DATA, and debian/control must be what pg_buildext generates from control.in.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
fail=0
# check WHAT GOT WANT: print one line per comparison, remember a mismatch.
check() {
	if [ "$2" = "$3" ]; then echo "ok: $1 = $2"; else echo "MISMATCH: $1 is '$2', expected '$3'"; fail=1; fi
}

ver=$(sed -nE "s/^default_version *= *'([^']+)'.*/\1/p" sst2.control)
[ -n "$ver" ] || { echo "FAIL: no default_version in sst2.control"; exit 1; }
echo "sst2.control default_version: $ver"
# meta KEY...: the value at that path in META.json.
meta() { /usr/bin/python3 -c 'import json, sys
v = json.load(open("META.json"))
for k in sys.argv[1:]: v = v[k]
print(v)' "$@"; }
semver=$ver; [[ $ver =~ ^[0-9]+\.[0-9]+$ ]] && semver=$ver.0

deb=$(dpkg-parsechangelog -l debian/changelog -S Version)
check "debian/changelog version (upstream part)" "${deb%-*}" "$ver"
check "META.json version" "$(meta version)" "$semver"
check "META.json provides.sst2.version" "$(meta provides sst2 version)" "$semver"
check "META.json provides.sst2.file" "$(meta provides sst2 file)" "sql/sst2--$ver.sql"
# DATA: the full script of this version first, then every other script in sql/
# (older versions' full scripts and the update scripts between them)
data=$(sed -nE 's/^DATA *= *//p' Makefile)
check "Makefile DATA's first file" "${data%% *}" "sql/sst2--$ver.sql"
check "Makefile DATA lists every sql/sst2--*.sql" "$(tr ' ' '\n' <<<"$data" | sort | xargs)" "$(ls sql/sst2--*.sql | sort | xargs)"
# every older full script updates to this version, one script after another
for full in sql/sst2--*.sql; do
	v=$(sed -nE 's|^sql/sst2--([0-9.]+)\.sql$|\1|p' <<<"$full"); [ -n "$v" ] && [ "$v" != "$ver" ] || continue
	while [ "$v" != "$ver" ]; do
		next=$(ls sql/sst2--"$v"--*.sql 2>/dev/null | sed -nE "s|^sql/sst2--$v--([0-9.]+)\.sql$|\1|p" | head -n 1)
		[ -n "$next" ] || { echo "MISSING: an update script from $v (sql/sst2--$v--*.sql)"; fail=1; break; }
		v=$next
	done
	[ "$v" = "$ver" ] && echo "ok: $full updates to $ver"
done
[ -f "sql/sst2--$ver.sql" ] && echo "ok: sql/sst2--$ver.sql exists" || { echo "MISSING: sql/sst2--$ver.sql"; fail=1; }

# debian/control is generated: it must be what control.in gives today.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/debian"; cp debian/control.in debian/pgversions debian/changelog "$tmp/debian/"
(cd "$tmp" && pg_buildext updatecontrol >/dev/null 2>&1)
if cmp -s "$tmp/debian/control" debian/control; then echo "ok: debian/control is up to date with control.in"
else echo "MISMATCH: debian/control differs from 'pg_buildext updatecontrol' output:"; diff "$tmp/debian/control" debian/control || true; fail=1; fi

if [ $fail = 0 ]; then echo "PASS: versions agree ($ver)"; else echo "FAIL: versions disagree"; exit 1; fi

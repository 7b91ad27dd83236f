#!/usr/bin/env bash
# SST2_ISA reaches the server (pg_ctl passes its environment to every
# backend): restarted with each path this CPU has, sst2_model_info()->>'isa'
# names it and classification gives the same result; without SST2_ISA it is
# the widest path; with an unknown value, loading the model is an ERROR with
# SQLSTATE 22023 naming the value, and the server stays up.  The cluster is
# restarted with this script's own environment at the end.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DB=sst2_isa
DATA=$(psql -X -At -d postgres -c "SHOW data_directory") || { echo "FAIL: no server"; exit 1; }
fail=0
check() { if [ "$2" = true ]; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }

# restart ENV-ARGS...: restart the cluster under env ENV-ARGS (as the database's OS user)
restart() {
	local as=()
	[ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
	"${as[@]}" env "$@" "$PGBIN/pg_ctl" -D "$DATA" -w -t 60 restart -m fast >/dev/null
}
q() { psql -X -At -v ON_ERROR_STOP=1 -d $DB -c "$1" 2>&1; }

dropdb --if-exists $DB >/dev/null 2>&1; createdb $DB && psql -X -q -d $DB -c "CREATE EXTENSION sst2" || exit 1
SENT="it is a charming and often affecting journey."

widest=generic ref=""
for isa in generic avx2 avx512; do
	if missing=$("$ROOT/test/unit_isa" --lacks $isa); then
		widest=$isa
		restart SST2_ISA=$isa
		got=$(q "SELECT sst2_model_info()->>'isa'")
		check "server started with SST2_ISA=$isa: sst2_model_info()->>'isa' = $got" "$([ "$got" = $isa ] && echo true || echo false)"
		res=$(q "SELECT (c).label || ' ' || round((c).score::numeric, 4) FROM (SELECT sst2_classify('$SENT') AS c) s")
		[ -z "$ref" ] && ref=$res
		check "SST2_ISA=$isa: classification $res (generic: $ref)" "$([ "$res" = "$ref" ] && echo true || echo false)"
	else
		echo "SKIP: path $isa: this CPU lacks $missing"
	fi
done

restart -u SST2_ISA
got=$(q "SELECT sst2_model_info()->>'isa'")
check "server started without SST2_ISA: the widest path, $widest (got $got)" "$([ "$got" = $widest ] && echo true || echo false)"

restart SST2_ISA=bogus
err=$(psql -X -At -d $DB -c "\\set VERBOSITY verbose" -c "SELECT sst2_model_info()" 2>&1)
ok=false; [[ $err == *"ERROR:  22023: SST2_ISA=\"bogus\" is not a known instruction set"* ]] && ok=true
check "server started with SST2_ISA=bogus: ERROR 22023 ($(head -n 1 <<<"$err"))" $ok
got=$(q "SELECT 1")
check "then the next query works" "$([ "$got" = 1 ] && echo true || echo false)"

# back to this script's environment for the tests that follow
restart
dropdb --if-exists $DB >/dev/null 2>&1
[ $fail = 0 ] && echo "PASS: sql_isa"
exit $fail

# test/sql/hostile_lib.bash: helpers of the hostile-input tests (sourced, not
# run; scripts/test.sh only runs test/sql/*.sh).
#
# After `hl_init NAME`: $T is an empty scratch folder, $DB a fresh database
# with the extension, $T0 the postmaster start time, $SERVER_LOG the cluster's
# log (SST2_SERVER_LOG, or server.log beside the data directory, where
# scripts/lib.sh puts it) and $LOG_OFF its size now, so that crashes of this
# test are found in the log.  Every psql call is under `timeout`, so that a
# hang is a FAIL and not a stuck suite.
set -uo pipefail
HL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail=0

# Skip unless the tiny model exists.
need_tiny() { [ -f "${SST2_TINY_MODEL:-/nonexistent}/model.safetensors" ] || { echo "FAIL: SST2_TINY_MODEL is not a model folder (scripts/test.sh makes it with bin/sst2 --make-det)"; exit 1; }; }

hl_init() { # NAME
	T="$SST2_TEST_TMP/$1"; rm -rf "$T"; mkdir -p "$T"; chmod 755 "$T"
	DB=sst2_$1
	dropdb --if-exists "$DB" >/dev/null 2>&1; createdb "$DB" || exit 1
	# the test cluster runs with synchronous_commit = off: without this, a
	# crash of a backend would also lose the extension and the tables below
	psql -X -q -d "$DB" -c "ALTER DATABASE $DB SET synchronous_commit = on" || exit 1
	psql -X -q -d "$DB" -c "CREATE EXTENSION sst2" || exit 1
	T0=$(psql -X -At -d "$DB" -c "SELECT pg_postmaster_start_time()")
	SERVER_LOG=${SST2_SERVER_LOG:-$(dirname "$(psql -X -At -d "$DB" -c 'SHOW data_directory')")/server.log}
	LOG_OFF=$( [ -r "$SERVER_LOG" ] && stat -c %s "$SERVER_LOG" || echo 0)
}

check() { # WHAT GOT WANT
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: got '$2', want '$3'"; fail=1; fi
}
check_re() { # WHAT GOT REGEX
	if [[ $2 =~ $3 ]]; then echo "ok: $1"; else echo "FAIL: $1: got '$(head -c 600 <<<"$2")', want /$3/"; fail=1; fi
}

# q [psql args]: psql on $DB, tuples only, verbose errors (SQLSTATE shown), under timeout.
q() { timeout "${TO:-60}" psql -X -q -At -v VERBOSITY=verbose -d "$DB" "$@" 2>&1; }

# The server has not restarted since hl_init and the log shows no backend
# crash since the last call (pg_postmaster_start_time() does not change when
# the postmaster reinitializes after a crash: the log is what tells).  After a
# crash, waits for the server to accept connections again.
no_crash() { # WHAT
	local st log size
	for _ in $(seq 60); do pg_isready -q -d "$DB" 2>/dev/null && timeout 10 psql -X -At -d "$DB" -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.5; done
	st=$(timeout 20 psql -X -At -d "$DB" -c "SELECT pg_postmaster_start_time() = '$T0'" 2>&1)
	size=$( [ -r "$SERVER_LOG" ] && stat -c %s "$SERVER_LOG" || echo 0)
	log=$( [ -r "$SERVER_LOG" ] && tail -c +$((LOG_OFF + 1)) "$SERVER_LOG" | head -c $((size - LOG_OFF)) | grep -E "terminated by signal|was terminated by|server process .* exited with exit code [^0]" | head -n 3)
	LOG_OFF=$size
	check "$1: no server restart" "$st" t
	check "$1: no backend crash in the server log" "$log" ""
}

# Run a command as the server's OS user (postgres when we are root).
as_server_user() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# kB of a /proc/PID/status field (VmRSS, VmHWM, ...) of a backend.
vm_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }

hl_done() { # NAME
	no_crash "end of $1"
	timeout 30 dropdb "$DB" >/dev/null 2>&1 || echo "(could not drop $DB)"
	[ $fail = 0 ] && echo "PASS: $1"
	exit $fail
}

#!/usr/bin/env bash
# Memory with a bound (issue 13), tiny model:
#  1. a plain role's `SET sst2.batch_size = 4095` aggregate of 4,095 texts of
#     512 tokens succeeds and the backend's peak memory stays within
#     sst2.batch_memory (default 256 MB) + 200 MB of its warmed-up RSS (was:
#     12.9 GB asked for);
#  2. after a 4,096 x ~30-token aggregate the idle session's RSS is back
#     within 64 MB of before (was: the workspace kept until disconnect);
#  3. sst2.batch_memory: a superuser can SET it, a plain role cannot (42501);
#     a batch split by a small batch_memory gives the same results.
# Each backend is capped with prlimit (3 GB of address space) and killed past
# 2 GB of RSS, so today's behaviour cannot take the machine down.
source "$(dirname "$0")/hostile_lib.bash"
need_tiny
hl_init hostile_memory
ROLE=sst2_hostile_plain
BM=256	# sst2.batch_memory's default, MB
psql -X -q -d "$DB" <<SQL >/dev/null 2>&1
DROP ROLE IF EXISTS $ROLE;
CREATE ROLE $ROLE LOGIN;
ALTER DATABASE $DB SET sst2.model_path = '$SST2_TINY_MODEL';
SQL

# watched NAME ROLE SQL: run SQL (which may use \$PIDF and \$RSS <tag>) in one
# backend under a cap and an RSS watchdog; its output in $T/NAME.out
watched() {
	local name=$1 role=$2 pid bg
	rm -f "$T/pid" "$T/rss" "$T/go"
	{ echo "SELECT pg_backend_pid() \\g $T/pid"; echo "\\! while [ ! -f '$T/go' ]; do sleep 0.02; done"; cat; } >"$T/$name.sql"
	timeout 300 psql -X -q -At -v VERBOSITY=verbose -U "$role" -d "$DB" -f "$T/$name.sql" >"$T/$name.out" 2>&1 &
	bg=$!
	for _ in $(seq 200); do [ -s "$T/pid" ] && break; sleep 0.05; done
	pid=$(tr -dc 0-9 <"$T/pid")
	as_server_user prlimit --pid "$pid" --as=$((3 << 30)):$((3 << 30))
	touch "$T/go"
	while kill -0 $bg 2>/dev/null; do
		if [ "$(vm_kb "$pid" VmRSS || echo 0)" -gt $((2 << 20)) ] 2>/dev/null; then
			echo "($name: backend $pid passed 2 GB of RSS: kill -9)"; echo "killed 2097152" >>"$T/rss"; kill -9 "$pid"; sleep 1
		fi
		sleep 0.1
	done
	wait $bg
}
# a psql line that appends "TAG VmRSS VmHWM" (kB) of this backend to $T/rss
rss() { echo "\\! echo $1 \$(awk '\$1 == \"VmRSS:\" { r = \$2 } \$1 == \"VmHWM:\" { h = \$2 } END { print r, h }' /proc/\$(tr -dc 0-9 <'$T/pid')/status) >>'$T/rss'"; }
field() { awk -v t="$1" -v i="$2" '$1 == t { print $i }' "$T/rss"; }

# 1. a plain role's 4,095 x 512-token aggregate
watched big $ROLE <<SQL
SELECT (sst2_classify('warm up')).label IS NOT NULL;
$(rss before)
SET sst2.batch_size = 4095;
SELECT 'n', cardinality(sst2_classify_agg(repeat('word ', 600))) FROM generate_series(1, 4095);
$(rss after)
SQL
cat "$T/rss"
check "1. plain role, 4,095 long texts in one batch: all classified" "$(grep '^n|' "$T/big.out" || head -c 300 "$T/big.out")" "n|4095"
before=$(field before 2); hwm=$(field after 3)
check "1. peak memory - RSS before < batch_memory + 200 MB" \
	"$(awk -v b="${before:-0}" -v h="${hwm:-999999999}" -v m=$BM 'BEGIN { d = (h - b) / 1024; print (b > 0 && d < m + 200) ? "yes" : sprintf("no (%.0f MB)", d) }')" yes
no_crash "1. 4,095 long texts"

# 2. memory given back after a 4,096 x ~30-token aggregate
watched short $ROLE <<SQL
SELECT (sst2_classify('warm up')).label IS NOT NULL;
$(rss before)
SET sst2.batch_size = 4096;
SELECT 'n', cardinality(sst2_classify_agg('a fine movie ' || repeat('good ', 25) || i)) FROM generate_series(1, 4096) i;
\! sleep 0.5
$(rss after)
SQL
cat "$T/rss"
check "2. 4,096 short texts: all classified" "$(grep '^n|' "$T/short.out" || head -c 300 "$T/short.out")" "n|4096"
before=$(field before 2); after=$(field after 2)
check "2. idle RSS after the statement within 64 MB of before" \
	"$(awk -v b="${before:-0}" -v a="${after:-999999999}" 'BEGIN { d = (a - b) / 1024; print (b > 0 && d < 64) ? "yes" : sprintf("no (+%.0f MB)", d) }')" yes
no_crash "2. 4,096 short texts"

# 3. the GUC: superuser only (the library is loaded first: before that a SET
# only makes a placeholder); a batch split by it gives the same results
check "3. a superuser can SET sst2.batch_memory" "$(q -c "SELECT sst2_tokenize('a') IS NOT NULL" -c "SET sst2.batch_memory = 64" -c "SHOW sst2.batch_memory" | grep -c -e ERROR -e '^64')" 1
check_re "3. a plain role cannot (42501)" "$(timeout 30 psql -X -q -At -v VERBOSITY=verbose -U $ROLE -d "$DB" -c "SELECT sst2_tokenize('a') IS NOT NULL" -c "SET sst2.batch_memory = 64" 2>&1)" "ERROR:  42501"
out=$(q <<SQL
SET sst2.batch_memory = 1;
SET sst2.batch_size = 300;
SELECT 'same', count(*), count(*) FILTER (WHERE a.label = (s.c).label AND abs(a.score - (s.c).score) < 1e-5)
FROM (SELECT ord, label, score FROM unnest((SELECT sst2_classify_agg(repeat('word ', 100) || i ORDER BY i) FROM generate_series(1, 300) i)) WITH ORDINALITY AS u(label, score, ord)) a
JOIN (SELECT i, sst2_classify(repeat('word ', 100) || i) AS c FROM generate_series(1, 300) i) s ON s.i = a.ord;
SQL
)
check "3. sst2.batch_memory = 1: a batch of 300 split, results as one at a time" "$(grep '^same' <<<"$out" || head -c 300 <<<"$out")" "same|300|300"
psql -X -q -d "$DB" -c "DROP OWNED BY $ROLE" >/dev/null 2>&1
hl_done_role() { psql -X -q -d postgres -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1; }
trap hl_done_role EXIT
hl_done hostile_memory

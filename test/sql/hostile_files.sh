#!/usr/bin/env bash
# Files that are not what they claim (issue 13):
#  1. config.json, model.safetensors, vocab.txt or tokenizer_config.json as a
#     FIFO: ERROR 42809 '"PATH" is not a regular file' within seconds (was:
#     the backend blocked in open(), deaf to cancel and terminate);
#  2. vocab.txt or tokenizer_config.json as a symlink to /dev/zero: the same
#     ERROR, quickly, and the backend's peak memory stays small (was: read
#     until the OOM killer came);
#  3. a world-writable model folder (777, files 666) loads with one WARNING
#     naming the path per load.
# Each hostile call runs under `timeout 10` in a backend whose address space is
# capped with prlimit (1.5 GB; run as the server's OS user, who may lower its
# own processes' limits) and watched: past 1 GB of RSS it is killed, so
# today's behaviour cannot take the machine down; a backend left blocked is
# unblocked and terminated.
source "$(dirname "$0")/hostile_lib.bash"
need_tiny
hl_init hostile_files
CAP=$((1536 * 1024 * 1024))

# unblock(DIR): open every FIFO of DIR read-write for a moment, so that a
# backend blocked opening it goes on (and reads end-of-file)
unblock() { local p; for p in "$1"/*; do [ -p "$p" ] && timeout 2 bash -c "exec 3<>'$p'; sleep 0.3"; done; return 0; }

# bounded NAME MODEL_DIR: one call in a fresh backend under a 10 s timeout;
# sets OUT (its output), SECS (time of the call) and HWM (peak kB)
bounded() {
	local name=$1 dir=$2 pid t1 rc
	rm -f "$T/pid" "$T/go"
	timeout 10 psql -X -q -At -v VERBOSITY=verbose -d "$DB" >"$T/$name.out" 2>&1 <<SQL &
SELECT pg_backend_pid() \g $T/pid
\! while [ ! -f "$T/go" ]; do sleep 0.02; done
SET sst2.model_path = '$dir';
SELECT 'label', (sst2_classify('a great movie')).label;
SELECT 'hwm', (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+)'))[1];
SQL
	local bg=$!
	for _ in $(seq 200); do [ -s "$T/pid" ] && break; sleep 0.05; done
	pid=$(tr -dc 0-9 <"$T/pid")
	[ -n "$pid" ] && as_server_user prlimit --pid "$pid" --as=$CAP:$CAP
	t1=$(date +%s.%N); touch "$T/go"
	while kill -0 $bg 2>/dev/null; do
		if [ -n "$pid" ] && [ "$(vm_kb "$pid" VmRSS || echo 0)" -gt $((1024 * 1024)) ] 2>/dev/null; then
			echo "($name: backend $pid passed 1 GB of RSS after $(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s: kill -9)"
			HWM_KILLED=$(vm_kb "$pid" VmHWM); kill -9 "$pid"; sleep 1
		fi
		sleep 0.1
	done
	wait $bg; rc=$?
	SECS=$(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	OUT=$(cat "$T/$name.out")
	HWM=$(grep '^hwm' <<<"$OUT" | cut -d'|' -f2)
	[ -n "${HWM_KILLED:-}" ] && HWM=$HWM_KILLED && HWM_KILLED=
	if [ $rc = 124 ] && [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
		HWM=$(vm_kb "$pid" VmHWM)
		echo "($name: timed out after $SECS s, backend $pid still there, VmHWM $HWM kB: unblocking and terminating it)"
		unblock "$dir"
		psql -X -q -At -d "$DB" -c "SELECT pg_terminate_backend($pid)" >/dev/null 2>&1
		for _ in $(seq 40); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
		[ -d "/proc/$pid" ] && { echo "($name: backend $pid ignores pg_terminate_backend: kill -9)"; kill -9 "$pid"; sleep 1; }
	fi
	return 0
}

for f in config.json model.safetensors vocab.txt tokenizer_config.json; do
	d="$T/fifo_${f%%.*}"; cp -r "$SST2_TINY_MODEL" "$d"; rm "$d/$f"; mkfifo -m 644 "$d/$f"
	bounded "fifo_${f%%.*}" "$d"
	check_re "$f as a FIFO: ERROR 42809 naming it" "$OUT" "ERROR:  42809: ([a-z ]+ )?\"$d/$f\" is not a regular file"
	check "$f as a FIFO: the call returns within 5 s" "$(awk -v s="$SECS" 'BEGIN { print (s < 5) ? "yes" : "no (" s " s)" }')" yes
	no_crash "$f as a FIFO"
done

for f in vocab.txt tokenizer_config.json; do
	d="$T/zero_${f%%.*}"; cp -r "$SST2_TINY_MODEL" "$d"; rm "$d/$f"; ln -s /dev/zero "$d/$f"
	bounded "zero_${f%%.*}" "$d"
	check_re "$f -> /dev/zero: ERROR 42809 naming it" "$OUT" "ERROR:  42809: ([a-z ]+ )?\"$d/$f\" is not a regular file"
	check "$f -> /dev/zero: the call returns within 5 s" "$(awk -v s="$SECS" 'BEGIN { print (s < 5) ? "yes" : "no (" s " s)" }')" yes
	check "$f -> /dev/zero: backend peak memory under 300 MB" "$(awk -v h="${HWM:-0}" 'BEGIN { print (h > 0 && h < 300 * 1024) ? "yes" : "no (VmHWM " h " kB)" }')" yes
	no_crash "$f -> /dev/zero"
done

# a world-writable model folder: one WARNING per load, naming the path
d="$T/world"; cp -r "$SST2_TINY_MODEL" "$d"; chmod 777 "$d"; chmod 666 "$d"/*
out=$(TO=30 q <<SQL
SET sst2.model_path = '$d';
SELECT 'one', (sst2_classify('a great movie')).label IS NOT NULL;
SELECT 'two', (sst2_classify('a dull movie')).label IS NOT NULL;
SQL
)
check "world-writable folder: the model loads" "$(grep -c -e '^one|t' -e '^two|t' <<<"$out")" 2
check "world-writable folder: one WARNING per load" "$(grep -c '^WARNING:' <<<"$out")" 1
check_re "world-writable folder: the WARNING names the path" "$(grep '^WARNING:' <<<"$out")" "$d"
no_crash "world-writable folder"
hl_done hostile_files

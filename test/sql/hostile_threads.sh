#!/usr/bin/env bash
# sst2.threads = 2 and model.safetensors (F32, used in place) truncated in
# place during a long forward pass (issue 13): a clean ERROR XX001 whose
# message says "truncated", no crashed backend (was: SIGBUS in an OpenBLAS
# worker thread, which the guard of the backend's own thread did not cover,
# and a restart of every connection); the next query works once the file is
# restored.  The full-size distilbert-det (SST2_DET_MODEL; its big weight
# matrices are what the worker threads read) with a 512-text
# sst2_classify_batch, else the tiny model with 1,500 long texts.  Three
# tries, each must end in the clean ERROR (which thread touches a missing page
# first is chance).
source "$(dirname "$0")/hostile_lib.bash"
need_tiny
hl_init hostile_threads
if [ -f "${SST2_DET_MODEL:-/nonexistent}/model.safetensors" ]; then
	SRC=$SST2_DET_MODEL
	LONG="SELECT cardinality(sst2_classify_batch(array_agg('the film is ' || repeat('rather good and ', 6) || i))) FROM generate_series(1, 512) i"
else
	SRC=$SST2_TINY_MODEL
	LONG="SELECT sst2_classify_agg(t) FROM (SELECT repeat('word ', 600) || i AS t FROM generate_series(1, 1500) i) s"
fi
cp -r "$SRC" "$T/m"
for try in 1 2 3; do
	cp "$SRC/model.safetensors" "$T/m/model.safetensors"
	rm -f "$T/started"
	TO=120 q >"$T/out" <<SQL &
SET sst2.model_path = '$T/m';
SET sst2.threads = 2;
SET sst2.batch_size = 4096;
SELECT (sst2_classify('warm')).label IS NOT NULL;
\! touch "$T/started"
$LONG;
SQL
	bg=$!
	while [ ! -f "$T/started" ] && kill -0 $bg 2>/dev/null; do sleep 0.05; done
	sleep 0.6
	truncate -s 4096 "$T/m/model.safetensors"
	wait $bg
	sleep 1
	echo "(try $try: $(tr '\n' ' ' <"$T/out" | cut -c1-200))"
	check_re "try $try: threads = 2, truncated during the pass: ERROR XX001 saying truncated" "$(grep ERROR "$T/out")" "ERROR:  XX001: .*truncated"
	no_crash "try $try: threads = 2, truncated during the pass"
done
cp "$SRC/model.safetensors" "$T/m/.tmp" && mv "$T/m/.tmp" "$T/m/model.safetensors"
check "next query works after the file is restored" \
	"$(q -c "SET sst2.model_path = '$T/m'" -c "SET sst2.threads = 2" -c "SELECT cardinality(sst2_classify_agg('a great movie ' || i)) FROM generate_series(1, 100) i")" 100
hl_done hostile_threads

#!/usr/bin/env bash
# bench/run.sh: the sst2 benchmark, one command.
#
#   bench/run.sh                      full run (about 20-30 minutes; run it on a quiet machine)
#   SST2_BENCH_QUICK=1 bench/run.sh   smoke test: 24 sentences, a few seconds per part
#
# Workload: the SST-2 dev sentences (test/data/sst2/dev.tsv, 872) on the full-size
# deterministic DistilBERT (bin/sst2 --make-det, 268 MB F32).  Everything except the
# parallel-scaling part runs pinned to one core (taskset -c $SST2_BENCH_CPU), OpenBLAS one thread.
#
# Two environments, in the same run (SST2_BENCH_ENVS):
#   user      OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for the benchmark's commands (and the
#             server it starts): OpenBLAS picks its kernels for the CPU, as users run it
#   pinned    OPENBLAS_CORETYPE as the calling environment sets it (Haswell when it sets none) and
#             OPENBLAS_L2_SIZE as it sets it: how CI and the development machines pin OpenBLAS
# The parts sgemm, core, ort and sql run in each environment; tok, tag, first, mem and parallel
# in the first one only.  Each records OpenBLAS's chosen core (openblas_get_corename()) and
# sst2's kernel paths; the meta line records the CPU model and its SIMD flags.
#
#   sgemm     the core's FMA peak (bench/fma_peak.c: registers only, no library), which with the
#             workload's FLOP count (from its token counts) gives the fastest possible fp32
#             time, "the limit"; and the machine's cblas_sgemm rate (bench/sgemm_peak.c) at
#             2048^3 and at the model's shapes, OpenBLAS's own ceiling in that environment
#   core      the core library without SQL (bench/bench_core.c) at each sst2.precision
#             (fp32, bf16, int8): batch 1 and length-sorted batches of 32 (fp32 also batch 64)
#   ort       the peer: ONNX Runtime (onnxruntime-node 1.30.0, one thread) on the same weights
#             (bench/onnx_weights.py into test/data/onnx's graph) fed the same token ids: batch 1 in
#             file order and length-sorted batches of 32 padded with attention_mask (bench/ort.js),
#             in fp32 and in int8 (bench/onnx_quantize.py: the graph quantize_dynamic(per_channel=True)
#             writes, run by ORT as DynamicQuantizeMatMul / MatMulIntegerToFloat)
#   tok       tokenizer throughput: ours (sst2_tokenize) vs npm tokenizers (bench/tok_npm.js)
#   sql       through SQL in one pinned backend after a warm-up call: per row
#             (sst2_classify), sst2_classify_agg, sst2_classify_window, sst2_classify_batch,
#             and sst2_classify_agg(... ORDER BY length) with sst2.batch_size = 32
#   tag       tagging rows on insert: the sst2_tag row trigger vs an INSERT computing the
#             columns with the window form vs a window-form backfill UPDATE
#   first     connect + first sst2_classify in a new backend (bench/backends.c), median
#   mem       summed Pss of 8 backends before / after each classified once
#   parallel  dev repeated to ~5,000 rows, max_parallel_workers_per_gather 0 vs 2 (forced), unpinned
#
# Each measurement is repeated $SST2_BENCH_REPS (3) times; best and median are reported.
# Results: $SST2_WORK/bench/results.json (machine-readable), results.md (the table, also
# printed to stdout), raw.jsonl and logs/ (every raw measurement).  The throwaway cluster
# lives in $SST2_WORK/bench as well (port $SST2_PGPORT, default 54339, so tests can run).
#
# Environment:
#   SST2_BENCH_QUICK=1        tiny version for smoke testing (numbers not representative)
#   SST2_BENCH_NOBUILD=1      assume the extension is built and installed (skip
#                             ensure_deps/build_install); bench/'s C programs are still made
#   SST2_BENCH_PARTS=LIST     comma-separated subset of: sgemm,core,portable,ort,tok,sql,tag,first,mem,parallel
#                             (default: all)
#   SST2_BENCH_REPS=N         repetitions of each measurement (default 3)
#   SST2_BENCH_CPU=N          the core to pin to (default 1)
#   SST2_BENCH_PRECISION=P    sst2.precision of the pinned SQL sessions: fp32 (default), bf16, int8
#                             (a comma-separated list runs the SQL part once per precision)
#   SST2_BENCH_PRECISIONS=L   precisions of the core part (default fp32,bf16,int8)
#   SST2_BENCH_ENVS=L         environments, in order (default user,pinned; e.g. SST2_BENCH_ENVS=user)
#   SST2_BENCH_SENTENCES=N    only the first N dev sentences (default all; quick: 24).  A quick
#                             but representative run: SST2_BENCH_SENTENCES=200
#                             SST2_BENCH_PARTS=core,ort SST2_BENCH_REPS=2 (a few minutes)
#   SST2_BENCH_PRELOAD=1      the cluster preloads sst2 (shared_preload_libraries, default 1):
#                             the "first" part's first-call figure is the preloaded one
#   SST2_BENCH_PARALLEL_ROWS  rows of the parallel-scaling table (default 5000; quick: 96)
#   plus scripts/lib.sh's SST2_WORK, SST2_DATA, SST2_PGPORT, PG_CONFIG.
export SST2_PGPORT=${SST2_PGPORT:-54339}
source "$(dirname "$0")/../scripts/lib.sh"

QUICK=${SST2_BENCH_QUICK:-0}
REPS=${SST2_BENCH_REPS:-3}
CPU=${SST2_BENCH_CPU:-1}
PRECISION=${SST2_BENCH_PRECISION:-fp32}
PRECISIONS=${SST2_BENCH_PRECISIONS:-fp32,bf16,int8}
ENVS=${SST2_BENCH_ENVS:-user,pinned}
FIRST_ENV=${ENVS%%,*}
PORTABLE_ENV=$FIRST_ENV
[[ ,$ENVS, == *,pinned,* ]] && PORTABLE_ENV=pinned
PIN_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
PIN_L2=${OPENBLAS_L2_SIZE:-}
export SST2_PRELOAD=${SST2_BENCH_PRELOAD:-1}
PARTS=,${SST2_BENCH_PARTS:-sgemm,core,portable,ort,tok,sql,tag,first,mem,parallel},
want() { [[ $PARTS == *,$1,* ]]; }

OUT=$SST2_WORK/bench
BUILD=$SST2_WORK/bench-build
PIN="taskset -c $CPU"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# one thread for the npm tokenizers (Rust rayon) and node's libuv pool
export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false UV_THREADPOOL_SIZE=1

if [ "$QUICK" = 1 ]; then
	N_SENT=${SST2_BENCH_SENTENCES:-24} TOK_ITERS=20 NPM_ITERS=2 SGEMM_TIME=0.1 SGEMM_SQUARE=2048 FIRST_N=3
	PAR_ROWS=${SST2_BENCH_PARALLEL_ROWS:-96}
else
	N_SENT=${SST2_BENCH_SENTENCES:-0} TOK_ITERS=200 NPM_ITERS=10 SGEMM_TIME=0.5 SGEMM_SQUARE=2048 FIRST_N=9
	PAR_ROWS=${SST2_BENCH_PARALLEL_ROWS:-5000}
fi

if [ "${SST2_BENCH_NOBUILD:-0}" != 1 ]; then
	ensure_deps
	ensure_oracles
	if want sql || want tag || want first || want mem || want parallel; then build_install; fi
fi
ensure_oracles
log "bench programs"
mkdir -p "$SST2_WORK"
make -C "$ROOT/bench" -s OUT="$BUILD" PG_CONFIG="$PG_CONFIG" 2>"$SST2_WORK/bench-build.log" >/dev/null ||
	{ cat "$SST2_WORK/bench-build.log"; exit 1; }

DET=$(det_model distilbert-det)
ONNX=$SST2_WORK/models/distilbert-det.onnx
if want ort && [ ! -f "$ONNX" ]; then
	log "building $ONNX"
	$PY "$ROOT/bench/onnx_weights.py" "$SST2_DATA/onnx/distilbert-det.graph.onnx" \
		"$SST2_DATA/onnx/distilbert-det.map.json" "$DET" "$ONNX.tmp" >/dev/null
	mv "$ONNX.tmp" "$ONNX"
fi
ONNX8=$SST2_WORK/models/distilbert-det.int8.onnx
if want ort && { [ ! -f "$ONNX8" ] || [ "$ONNX8" -ot "$ONNX" ]; }; then
	log "building $ONNX8"
	$PY "$ROOT/bench/onnx_quantize.py" "$ONNX" "$ONNX8.tmp" >/dev/null
	mv "$ONNX8.tmp" "$ONNX8"
fi

mkdir -p "$OUT"
need_cluster() { want sql || want tag || want first || want mem || want parallel; }
T=$OUT/tmp LOGS=$OUT/logs RAW=$OUT/raw.jsonl
rm -rf "$T" "$LOGS" "$RAW" "$OUT/results.json" "$OUT/results.md"
mkdir -p "$T" "$LOGS"
chmod a+rx "$OUT" "$T"

# the workload: sentence column of dev.tsv (header dropped), one per line
tail -n +2 "$SST2_DATA/sst2/dev.tsv" | cut -f1 >"$T/dev_all.txt"
if [ "$N_SENT" -gt 0 ]; then head -n "$N_SENT" "$T/dev_all.txt" >"$T/dev.txt"; else cp "$T/dev_all.txt" "$T/dev.txt"; fi
N=$(wc -l <"$T/dev.txt")
cat >>"$RAW" <<EOJ
{"kind":"meta","quick":$([ "$QUICK" = 1 ] && echo true || echo false),"sentences":$N,"reps":$REPS,"cpu":$CPU,"precision":"$PRECISION","precisions":"$PRECISIONS","envs":"$ENVS","pinned_coretype":"$PIN_CORETYPE","pinned_l2_size":"$PIN_L2","preload":$SST2_PRELOAD,"date":"$(date -u +%FT%TZ)","host":"$(hostname)","cpu_model":"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//;s/"//g')","cpu_flags":"$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(sse4_2|avx|avx2|fma|f16c|avx512[a-z0-9_]*|avx_vnni|amx[a-z0-9_]*)$' | sort | tr '\n' ' ' | sed 's/ $//')","nproc":$(nproc --all),"model_dir":"$DET","model_bytes":$(stat -c %s "$DET/model.safetensors"),"git":"$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)","loadavg":"$(cut -d' ' -f1-3 /proc/loadavg)"}
EOJ

# token ids (our tokenizer): the input of every forward measurement and of the FLOP count
$BUILD/bench_core "$DET" "$T/dev.txt" --ids "$T/dev.ids" --reps 1 >/dev/null

# ---------------------------------------------------------------- environments
# use_env ENV: export (or unset) the OpenBLAS pins of ENV for every later command
use_env() {
	if [ "$1" = user ]; then
		unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
	elif [ "$1" = pinned ]; then
		export OPENBLAS_CORETYPE=$PIN_CORETYPE
		if [ -n "$PIN_L2" ]; then export OPENBLAS_L2_SIZE=$PIN_L2; else unset OPENBLAS_L2_SIZE; fi
	else
		echo "SST2_BENCH_ENVS: unknown environment \"$1\" (user, pinned)" >&2; exit 2
	fi
}
# tagged ENV [PRECISION]: add "env" (and "sql_precision") to every JSON line
tagged() {
	if [ $# -gt 1 ]; then sed "s/^{/{\"env\":\"$1\",\"sql_precision\":\"$2\",/"; else sed "s/^{/{\"env\":\"$1\",/"; fi
}
CLUSTER_ENV=
# cluster_for ENV: the benchmark's cluster, started in ENV's environment (once per ENV)
cluster_for() {
	[ "$CLUSTER_ENV" = "$1" ] && return 0
	stop_cluster
	start_cluster bench-pg "$DET"
	trap stop_cluster EXIT
	CLUSTER_ENV=$1
	psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS sst2' >/dev/null
	echo "{\"kind\":\"server\",\"env\":\"$1\",\"preload\":$SST2_PRELOAD,\"postmaster_env\":\"$(tr '\0' '\n' <"/proc/$(head -1 "$CLUSTER_DIR/data/postmaster.pid")/environ" | grep '^OPENBLAS_' | sort | tr '\n' ' ' | sed 's/ $//')\"}" >>"$RAW"
	if [ "$SST2_PRELOAD" = 1 ]; then grep -A1 'sst2 opened the model' "$CLUSTER_DIR/server.log" >&2 || true; fi
}

# sgemm rate, measured at the start and again at the end of each environment's part (the
# report takes the best of each shape)
sgemm_peak() {
	# model shapes: the average tokens of a batch-1, batch-32 and batch-64 forward pass
	local avg
	avg=$(awk '{t += NF} END {printf "%d", t / NR + 0.5}' "$T/dev.ids")
	$PIN $BUILD/sgemm_peak --min-time $SGEMM_TIME --square $SGEMM_SQUARE --m "$avg" --m $((avg * 32)) --m $((avg * 64)) \
		2>>"$LOGS/sgemm.log" | tagged "$E" >>"$RAW"
	# the core's own limit, whatever any library does (bench/fma_peak.c)
	$PIN $BUILD/fma_peak 2>>"$LOGS/sgemm.log" | tagged "$E" >>"$RAW"
}

# (every statement orders by id: COPY's heap order need not be file order, and the
# sanity checks compare row i with sentence i)
# sql_timed LABEL STATEMENT: REPS runs in the pinned session; output rows to $T/LABEL.out
sql_timed() {
	local label=$1 stmt=$2
	for r in $(seq 1 "$REPS"); do
		printf '\\o %s\n\\echo @@ %s\n%s;\n\\o\n' "$T/${SQL_TAG:-}$label.out" "$label" "$stmt"
	done
}

# sql_times LOG: one JSON line per "@@ LABEL" of a psql log with \timing, with the
# sst2.batch_size that was in force ("batch_size=N" lines)
sql_times() {
	awk -v n="$N" '
		/^batch_size=/ { sub(/^batch_size=/, ""); bs = $0; next }
		/^@@ affinity/ { next }
		/^@@ / { label = $2; b[label] = bs; next }
		/^Time: / && label != "" { t[label] = t[label] (t[label] == "" ? "" : ",") ($2 / 1000); label = "" }
		END { for (l in t) printf "{\"kind\":\"sql\",\"name\":\"%s\",\"sentences\":%d,\"batch_size\":%d,\"times_s\":[%s]}\n", l, n, b[l], t[l] }
	' "$1"
}

# psql lines that make the session's backend run on the benchmark core (and say so)
pinned_session() {
	cat <<EOSQL
\pset format unaligned
\pset tuples_only on
SELECT pg_backend_pid() AS pid \gset
\setenv BENCH_PID :pid
\! taskset -a -cp $CPU \$BENCH_PID >/dev/null
SET sst2.precision = '${SQL_PRECISION:-fp32}';
\! echo "@@ affinity \$(taskset -cp \$BENCH_PID)"
EOSQL
}

for E in ${ENVS//,/ }; do
use_env "$E"
log "environment $E: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-(unset)}"
if want sgemm; then
	log "[$E] sgemm peak"
	sgemm_peak
fi
if want core; then
	for p in ${PRECISIONS//,/ }; do
		specs="--forward 1 --forward s32"
		[ "$p" = fp32 ] && specs="--forward 1 --forward 64 --forward s32"
		log "[$E] core forward, $p: ${specs//--forward /}"
		$PIN $BUILD/bench_core "$DET" "$T/dev.txt" $specs --reps "$REPS" --precision "$p" \
			--logits "$T/core.$E.$p" 2>"$LOGS/core.$E.$p.log" | tagged "$E" >>"$RAW"
	done
fi
# The portable paths (SST2_ISA=avx2 and generic: what a CPU without AVX-512 runs), in one
# environment only: the pinned one when there is one, since OpenBLAS, which their large
# fp32 products go through, runs AVX2 kernels there as it would on such a CPU.  int8 has
# one portable kernel (plain C) whatever the ISA, and it is slow: sorted 32 only, once.
portable() { # ISA PRECISION SPECS...
	local isa=$1 p=$2
	shift 2
	log "[$E] core forward, $p, SST2_ISA=$isa: ${*//--forward /}"
	SST2_ISA=$isa $PIN $BUILD/bench_core "$DET" "$T/dev.txt" "$@" --reps "$REPS" --precision "$p" \
		--logits "$T/core.$E.$p.$isa" 2>"$LOGS/core.$E.$p.$isa.log" |
		sed "s/^{/{\"forced_isa\":\"$isa\",/" | tagged "$E" >>"$RAW"
}
if want portable && [ "$E" = "$PORTABLE_ENV" ]; then
	portable avx2 fp32 --forward 1 --forward s32
	portable generic fp32 --forward 1 --forward s32
	portable avx2 int8 --forward s32
fi
if want tok && [ "$E" = "$FIRST_ENV" ]; then
	log "tokenizers: ours vs npm"
	$PIN $BUILD/bench_core "$DET" "$T/dev.txt" --tokenize "$TOK_ITERS" --reps "$REPS" 2>"$LOGS/tok.log" | tagged "$E" >>"$RAW"
	$PIN node "$ROOT/bench/tok_npm.js" "$SST2_DATA/tokenizer/tokenizer.json" "$T/dev.txt" "$T/dev.ids" \
		--iters "$NPM_ITERS" --reps "$REPS" 2>>"$LOGS/tok_npm.log" | tagged "$E" >>"$RAW"
fi
if want ort; then
	log "[$E] ONNX Runtime fp32 and int8: batch 1, sorted 32"
	$PIN node "$ROOT/bench/ort.js" "$ONNX" "$T/dev.ids" --mode b1 --mode s32 --reps "$REPS" --label fp32 \
		--logits "$T/ort.$E.fp32" 2>"$LOGS/ort.$E.fp32.log" | tagged "$E" >>"$RAW"
	$PIN node "$ROOT/bench/ort.js" "$ONNX8" "$T/dev.ids" --mode b1 --mode s32 --reps "$REPS" --label int8 \
		--logits "$T/ort.$E.int8" --optimized "$T/ort_int8_optimized.onnx" 2>"$LOGS/ort.$E.int8.log" | tagged "$E" >>"$RAW"
	# which kernels ORT fused the int8 graph into (the peer must be DynamicQuantizeMatMul's)
	$PY -c 'import collections, json, onnx, sys
m = onnx.load(sys.argv[1], load_external_data=False)
c = collections.Counter(n.op_type for n in m.graph.node)
print(json.dumps({"kind": "ort_int8_ops", "ops": {k: c[k] for k in ("DynamicQuantizeMatMul", "MatMulIntegerToFloat", "DynamicQuantizeLinear", "MatMulInteger", "MatMul", "FusedMatMul")}}))' \
		"$T/ort_int8_optimized.onnx" | tagged "$E" >>"$RAW"
fi

# ---------------------------------------------------------------- SQL
PSQL="psql -X -v ON_ERROR_STOP=1 -q"
if need_cluster && { want sql || [ "$E" = "$FIRST_ENV" ]; }; then
	cluster_for "$E"
fi
if { want sql || want tag || want parallel; } && [ "$CLUSTER_ENV" = "$E" ]; then
	log "[$E] loading dev into a table"
	$PSQL <<EOSQL >"$LOGS/load.log" 2>&1
DROP TABLE IF EXISTS dev;
CREATE TABLE dev (id serial PRIMARY KEY, sentence text NOT NULL);
\copy dev (sentence) FROM '$T/dev.txt' WITH (FORMAT csv, DELIMITER E'\t', QUOTE E'\x01')
VACUUM ANALYZE dev;
EOSQL
	[ "$($PSQL -At -c 'SELECT count(*) FROM dev')" = "$N" ] || { echo "dev table: wrong row count"; exit 1; }
fi

if want sql; then
	for SQL_PRECISION in ${PRECISION//,/ }; do
		SQL_TAG=$E.$SQL_PRECISION.
		log "[$E] SQL, $SQL_PRECISION: per row, agg, window, batch (one pinned backend)"
		{
			cat <<EOSQL
$(pinned_session)
SELECT sst2_classify('warm up: the model load is not part of throughput');
SELECT sst2_classify_agg(sentence) IS NOT NULL AS warm FROM (SELECT sentence FROM dev ORDER BY id LIMIT 64) s;
SELECT 'batch_size=' || current_setting('sst2.batch_size');
\copy (SELECT array_to_string(sst2_tokenize(sentence), ' ') FROM dev ORDER BY id) TO '$T/sql.ids'
\timing on
EOSQL
			sql_timed sql_row "SELECT sst2_classify(sentence) FROM dev ORDER BY id"
			sql_timed sql_agg "SELECT sst2_classify_agg(sentence ORDER BY id) FROM dev"
			sql_timed sql_window "SELECT sst2_classify_window(sentence) OVER (ORDER BY id) FROM dev ORDER BY id"
			sql_timed sql_batchfn "SELECT sst2_classify_batch(array_agg(sentence ORDER BY id)) FROM dev"
			echo "SET sst2.batch_size = 32;"
			echo "SELECT 'batch_size=' || current_setting('sst2.batch_size');"
			sql_timed sql_agg_sorted32 "SELECT sst2_classify_agg(sentence ORDER BY length(sentence)) FROM dev"
		} >"$T/sql_bench.sql"
		$PSQL -f "$T/sql_bench.sql" >"$LOGS/sql.$E.$SQL_PRECISION.log" 2>&1 || { tail -20 "$LOGS/sql.$E.$SQL_PRECISION.log"; exit 1; }
		grep '^@@ affinity' "$LOGS/sql.$E.$SQL_PRECISION.log" >&2 || true
		sql_times "$LOGS/sql.$E.$SQL_PRECISION.log" | tagged "$E" "$SQL_PRECISION" >>"$RAW"
	done
	SQL_TAG= SQL_PRECISION=${PRECISION%%,*}
fi

if [ "$E" = "$FIRST_ENV" ]; then
# tagging rows as they arrive: the row trigger against the batched ways (window form)
if want tag; then
	log "tagging: row trigger vs window-form insert and backfill (one pinned backend)"
	{
		cat <<EOSQL
$(pinned_session)
SELECT sst2_classify('warm up');
DROP TABLE IF EXISTS tagged;
CREATE TABLE tagged (id int PRIMARY KEY, review text, sentiment_label text, sentiment_score real);
CREATE TRIGGER tag BEFORE INSERT OR UPDATE ON tagged
	FOR EACH ROW EXECUTE FUNCTION sst2_tag('review', 'sentiment_label', 'sentiment_score');
SELECT 'batch_size=' || current_setting('sst2.batch_size');
\timing on
EOSQL
		for r in $(seq 1 "$REPS"); do
			cat <<EOSQL
ALTER TABLE tagged ENABLE TRIGGER tag;
TRUNCATE tagged;
\echo @@ tag_trigger
INSERT INTO tagged (id, review) SELECT id, sentence FROM dev;
ALTER TABLE tagged DISABLE TRIGGER tag;
TRUNCATE tagged;
\echo @@ tag_insert_window
INSERT INTO tagged SELECT id, sentence, (c).label, (c).score
	FROM (SELECT id, sentence, sst2_classify_window(sentence) OVER () AS c FROM dev) s;
TRUNCATE tagged;
INSERT INTO tagged (id, review) SELECT id, sentence FROM dev;
\echo @@ tag_backfill
UPDATE tagged t SET sentiment_label = (s.c).label, sentiment_score = (s.c).score
	FROM (SELECT id, sst2_classify_window(review) OVER () AS c FROM tagged) s WHERE t.id = s.id;
EOSQL
		done
	} >"$T/tag_bench.sql"
	$PSQL -f "$T/tag_bench.sql" >"$LOGS/tag.log" 2>&1 || { tail -20 "$LOGS/tag.log"; exit 1; }
	sql_times "$LOGS/tag.log" | tagged "$E" >>"$RAW"
fi

if want first; then
	log "first call in a new backend (preload: $SST2_PRELOAD)"
	$BUILD/backends first "$FIRST_N" 2>"$LOGS/first.log" | tagged "$E" >>"$RAW" || { cat "$LOGS/first.log"; exit 1; }
fi
if want mem; then
	log "memory: 8 backends"
	$BUILD/backends memory 8 2>"$LOGS/mem.log" | tagged "$E" >>"$RAW" || { cat "$LOGS/mem.log"; exit 1; }
fi

if want parallel; then
	log "parallel scaling: $PAR_ROWS rows, 0 vs 2 workers (unpinned)"
	{
		cat <<EOSQL
\pset format unaligned
\pset tuples_only on
DROP TABLE IF EXISTS big;
CREATE TABLE big AS SELECT d.sentence FROM dev d, generate_series(1, ceil($PAR_ROWS::numeric / (SELECT count(*) FROM dev))::int) g;
ALTER TABLE big SET (parallel_workers = 2);
VACUUM ANALYZE big;
SELECT count(*) FROM big;
SELECT sst2_classify('warm up');
SET max_parallel_workers_per_gather = 0;
\timing on
EOSQL
		sql_timed par0 "SELECT sst2_classify(sentence) FROM big"
		cat <<EOSQL
\timing off
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
\echo @@ plan
EXPLAIN (VERBOSE, COSTS OFF) SELECT sst2_classify(sentence) FROM big;
\timing on
EOSQL
		sql_timed par2 "SELECT sst2_classify(sentence) FROM big"
	} >"$T/par_bench.sql"
	$PSQL -f "$T/par_bench.sql" >"$LOGS/parallel.log" 2>&1 || { tail -20 "$LOGS/parallel.log"; exit 1; }
	rows=$($PSQL -At -c 'SELECT count(*) FROM big')
	workers=$(grep -m1 -o 'Workers Planned: [0-9]*' "$LOGS/parallel.log" | grep -o '[0-9]*$' || echo 0)
	awk -v n="$rows" -v w="$workers" '
		/^@@ / { label = $2; next }
		/^Time: / && label != "" { t[label] = t[label] (t[label] == "" ? "" : ",") ($2 / 1000); label = "" }
		END { for (l in t) printf "{\"kind\":\"parallel\",\"name\":\"%s\",\"sentences\":%d,\"workers_planned\":%d,\"times_s\":[%s]}\n", l, n, w, t[l] }
	' "$LOGS/parallel.log" | tagged "$E" >>"$RAW"
fi

fi # first environment only

if want sgemm; then
	log "[$E] sgemm peak, again"
	sgemm_peak
fi
done
stop_cluster
echo "{\"kind\":\"meta_end\",\"date\":\"$(date -u +%FT%TZ)\",\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >>"$RAW"

log "report"
node "$ROOT/bench/report.js" "$OUT" "$DET"

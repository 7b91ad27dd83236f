# scripts/lib.sh: shared steps of scripts/demo.sh and scripts/test.sh (sourced, not run).
#
# Environment (all optional):
#   SST2_DATA      test data read in place        (default: test/data of the repository)
#   SST2_WORK      scratch: cluster, generated models, logs (default: /tmp/sst2-work)
#   SST2_PGPORT    port of the throwaway cluster  (default: 54329)
#   PG_CONFIG      which PostgreSQL to build for  (default: pg_config of PostgreSQL 15)

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SST2_DATA=${SST2_DATA:-$ROOT/test/data}
SST2_DATA=$(cd "$SST2_DATA" && pwd)
SST2_WORK=${SST2_WORK:-/tmp/sst2-work}
SST2_PGPORT=${SST2_PGPORT:-54329}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
export PG_CONFIG=${PG_CONFIG:-$PGBIN/pg_config}
export SST2_DATA SST2_WORK
PY=/usr/bin/python3

# What the main job needs (scripts/demo.sh): build, install and run the extension.
# The PostgreSQL major is PGBIN's (.../postgresql/MAJOR/bin: 15 on Debian 12; the version
# matrix runs these scripts with 17's and 18's).
PG_MAJOR=$(basename "$(dirname "$PGBIN")")
[[ $PG_MAJOR =~ ^[0-9]+$ ]] || PG_MAJOR=15
DEMO_PACKAGES="build-essential pkg-config postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR libopenblas-dev
 libutf8proc-dev libjson-c-dev"
# What only the tests need on top (scripts/test.sh): the Python and npm oracles, the fuzzers'
# clang, valgrind, and curl for scripts/download_model.sh.
TEST_PACKAGES="python3-numpy python3-onnx clang libclang-rt-14-dev valgrind curl"

log() { printf '==> %s\n' "$*" >&2; }

# timed DESCRIPTION CMD...: run one step of a script, saying what it does and how long it took.
timed() {
	local what=$1 t0=$SECONDS rc=0; shift
	log "$what"
	"$@" || rc=$?
	if [ $rc = 0 ]; then log "    done in $((SECONDS - t0)) s"
	else log "    FAILED after $((SECONDS - t0)) s: $what"; fi
	return $rc
}

# Run a command as the database's OS user (postgres when we are root).
as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# ensure_packages PKG...: install the Debian packages that are missing (as root; otherwise say
# which and how, and fail).  NODE=1 also wants node and npm (any node on PATH will do).
ensure_packages() {
	local missing="" p
	for p in "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	if [ "${NODE:-0}" = 1 ] && ! command -v npm >/dev/null 2>&1; then missing="$missing nodejs npm"; fi
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" != 0 ]; then
		log "missing Debian packages:$missing"
		log "install them first (sudo apt-get install$missing), or run this script as root"
		return 1
	fi
	log "installing Debian packages:$missing"
	log "(a first run on a fresh machine downloads them and what they depend on: minutes)"
	apt-get update -qq >/dev/null || { log "apt-get update failed"; return 1; }
	local plan
	plan=$(apt-get install --assume-no $missing 2>/dev/null | grep -E 'newly installed|^Need to get' || true)
	[ -n "$plan" ] && log "apt-get: $(tr '\n' ' ' <<<"$plan")"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing </dev/null >/dev/null ||
		{ log "apt-get install$missing failed"; return 1; }
}

ensure_deps() { ensure_packages $DEMO_PACKAGES; }
ensure_test_deps() { NODE=1 ensure_packages $DEMO_PACKAGES $TEST_PACKAGES; }

# npm oracles (Hugging Face tokenizers, ONNX Runtime) for the tests; not ours.
ensure_oracles() {
	if [ ! -d "$ROOT/test/oracle/node_modules/tokenizers" ] || [ ! -d "$ROOT/test/oracle/node_modules/onnxruntime-node" ]; then
		log "npm ci --ignore-scripts (test/oracle)"
		(cd "$ROOT/test/oracle" && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
	fi
}

# Build the extension and the core tools, and install the extension.
build_install() {
	log "build"
	make -C "$ROOT" -s -j2 all core >/dev/null
	log "make install"
	if [ "$(id -u)" = 0 ]; then
		make -C "$ROOT" -s install >/dev/null
	else
		sudo make -C "$ROOT" -s install >/dev/null
	fi
}

# server_model DIR: print a path of the model folder DIR that the server's OS user can read.
# DIR itself when it can (a clone in a home folder that is not world-readable, e.g. root's,
# is not), otherwise a copy in $SST2_WORK/models, made once and refreshed when DIR changes.
server_model() {
	local dir=$1 name copy
	if [ "$(id -u)" != 0 ] || runuser -u postgres -- test -r "$dir/config.json" 2>/dev/null; then
		echo "$dir"; return 0
	fi
	name=$(basename "$dir"); copy="$SST2_WORK/models/$name"
	if ! diff -rq "$dir" "$copy" >/dev/null 2>&1; then
		log "the server's user (postgres) cannot read $dir: using a copy in $copy"
		mkdir -p "$SST2_WORK/models"; chmod a+rx "$SST2_WORK" "$SST2_WORK/models"
		rm -rf "$copy.tmp"; cp -r "$dir" "$copy.tmp"; chmod -R a+rX "$copy.tmp"
		rm -rf "$copy"; mv "$copy.tmp" "$copy"
	fi
	echo "$copy"
}

# Generate a deterministic checkpoint folder (bin/sst2 --make-det, src/detgen.c) once;
# scripts/test.sh's det_sha256 step checks it against test/data/PROVENANCE.md.
det_model() { # NAME [--dim N --layers N --heads N --hidden N]
	local name=$1; shift
	local dir="$SST2_WORK/models/$name"
	if [ ! -f "$dir/model.safetensors" ]; then
		log "generating $name"
		make -C "$ROOT" -s bin/sst2 >/dev/null
		mkdir -p "$SST2_WORK/models"
		rm -rf "$dir.tmp"
		"$ROOT/bin/sst2" --make-det "$dir.tmp" "$@" --vocab-file "$SST2_DATA/bert-base-uncased-vocab.txt" >/dev/null
		rm -rf "$dir"; mv "$dir.tmp" "$dir"
	fi
	chmod -R a+rX "$SST2_WORK/models"
	echo "$dir"
}

# Start a throwaway cluster in $SST2_WORK/NAME on port $SST2_PGPORT; sets PGHOST,
# PGPORT, PGUSER, PGDATABASE.  CPUS (a taskset list, e.g. 1) pins the server and
# every backend it forks to those cores.  SST2_PRELOAD=1 adds
# shared_preload_libraries = 'sst2'.
start_cluster() { # NAME MODEL_PATH [CPUS]
	local name=$1 model=$2 cpus=${3:-}
	local dir="$SST2_WORK/$name" pin=()
	[ -n "$cpus" ] && pin=(taskset -c "$cpus")
	stop_cluster_dir "$dir"
	rm -rf "$dir"; mkdir -p "$dir/run"
	chmod a+rx "$SST2_WORK"
	[ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
	as_pg "$PGBIN/initdb" -D "$dir/data" -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
	cat >>"$dir/data/postgresql.conf" <<EOC
listen_addresses = ''
port = $SST2_PGPORT
unix_socket_directories = '$dir/run'
fsync = off
synchronous_commit = off
full_page_writes = off
sst2.model_path = '$model'
EOC
	# SST2_PRELOAD=1: the library loaded by the postmaster (statistics, model at start)
	[ "${SST2_PRELOAD:-0}" = 1 ] && echo "shared_preload_libraries = 'sst2'" >>"$dir/data/postgresql.conf"
	as_pg "${pin[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
	export PGHOST="$dir/run" PGPORT="$SST2_PGPORT" PGDATABASE=postgres
	if [ "$(id -u)" = 0 ]; then export PGUSER=postgres; else export PGUSER=$(id -un); fi
	CLUSTER_DIR=$dir
	log "cluster up: $dir (port $SST2_PGPORT)"
}

stop_cluster_dir() {
	local dir=$1
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
}

stop_cluster() { [ -n "${CLUSTER_DIR:-}" ] && stop_cluster_dir "$CLUSTER_DIR"; return 0; }

#!/usr/bin/env bash
# The main job on a fresh machine: install the Debian packages it needs (PostgreSQL 15 and its
# server headers, the compiler, pkg-config, OpenBLAS, utf8proc, json-c; nothing for the tests),
# build and install sst2, start a throwaway PostgreSQL cluster, load a model folder and
# classify a few reviews in a database of its own, sst2_demo.  Each step says how long it took.
#
#   SST2_MODEL=DIR  the checkpoint folder (default: the bundled models/sst2-mini, a small
#                   stand-in for the real checkpoint that scripts/download_model.sh fetches)
#   SST2_KEEP=1     leave the cluster running and print the command that opens a session on it
source "$(dirname "$0")/lib.sh"

T_ALL=$SECONDS
log "sst2 demo: packages, build, a throwaway cluster, five reviews classified"
timed "Debian packages the extension needs (a first run on a fresh machine downloads them)" ensure_deps
timed "build and install sst2 (make; make install)" build_install
if [ -z "${SST2_MODEL:-}" ]; then
	SST2_MODEL=$ROOT/models/sst2-mini
	log "model: the bundled sst2-mini (78.67% on SST-2 dev, a stand-in; see models/sst2-mini/README.md)"
	log "       SST2_MODEL=DIR picks another folder, e.g. the real checkpoint from scripts/download_model.sh DIR"
else
	log "model: $SST2_MODEL (SST2_MODEL)"
fi
[ -f "$SST2_MODEL/config.json" ] || { log "no checkpoint at $SST2_MODEL (set SST2_MODEL; scripts/download_model.sh DIR fetches the real one)"; exit 1; }
SST2_MODEL=$(server_model "$(cd "$SST2_MODEL" && pwd)")
# preloaded, as the README recommends: the model opens at server start and sst2_stats counts
SST2_PRELOAD=1 timed "start a throwaway PostgreSQL $PG_MAJOR cluster ($SST2_WORK/demo, port $SST2_PGPORT)" \
	start_cluster demo "$SST2_MODEL"
[ "${SST2_KEEP:-0}" = 1 ] || trap stop_cluster EXIT

# classify: the demo's own database, so README.md's examples start from a clean "postgres"
classify() {
	psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS sst2_demo" -c "CREATE DATABASE sst2_demo" || return 1
	echo
	# -a echoes the statements: what follows is README.md's opening example, with its output
	psql -X -q -a -v ON_ERROR_STOP=1 -d sst2_demo <<'SQL' || return 1
CREATE EXTENSION sst2;
CREATE TABLE reviews (id int PRIMARY KEY, review text);
INSERT INTO reviews VALUES
    (1, 'A charming, funny and moving film: the best I have seen this year.'),
    (2, 'Dull, predictable and far too long.'),
    (3, 'The acting is wonderful and the story is beautiful.'),
    (4, 'I wanted my money back after twenty minutes.'),
    (5, 'it ''s a charming and often affecting journey . ');
SELECT id, review, sst2_classify(review) FROM reviews ORDER BY id;
SQL
	psql -X -q -At -d sst2_demo -c "SELECT format('model: %s (%s), loaded in %s ms', sst2_model_info()->>'path',
		sst2_model_info()->>'dtype', sst2_model_info()->>'load_ms')"
	echo
}
timed "classify five reviews (database sst2_demo)" classify
log "demo done in $((SECONDS - T_ALL)) s"

if [ "${SST2_KEEP:-0}" = 1 ]; then
	# a command that opens a session whoever runs it: the cluster belongs to postgres when
	# the demo ran as root, else to the user who ran it
	if [ "$(id -u)" = 0 ]; then
		if command -v sudo >/dev/null 2>&1; then as="sudo -u postgres "; else as="runuser -u postgres -- "; fi
	else as=""; fi
	log "cluster left running; open a session (database postgres; the demo's table is in sst2_demo) with:"
	echo "${as}psql -h $PGHOST -p $PGPORT -d postgres"
	log "stop it with: ${as}$PGBIN/pg_ctl -D $CLUSTER_DIR/data stop"
else
	log "cluster stopped (SST2_KEEP=1 leaves it running)"
fi
exit 0

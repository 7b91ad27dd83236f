#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build and install
# sst2, start a throwaway PostgreSQL cluster, load a model folder and classify
# a few reviews.  SST2_MODEL picks the checkpoint folder (default: the bundled
# models/sst2-mini, a small stand-in for the real checkpoint); SST2_KEEP=1
# leaves the cluster running.
source "$(dirname "$0")/lib.sh"

ensure_deps
build_install
if [ -z "${SST2_MODEL:-}" ]; then
	SST2_MODEL=$ROOT/models/sst2-mini
	log "model: the bundled sst2-mini (78.67% on SST-2 dev, a stand-in; see models/sst2-mini/README.md)"
	log "       SST2_MODEL=DIR picks another folder, e.g. the real checkpoint from scripts/download_model.sh DIR"
else
	log "model: $SST2_MODEL (SST2_MODEL)"
fi
[ -f "$SST2_MODEL/config.json" ] || { log "no checkpoint at $SST2_MODEL (set SST2_MODEL; scripts/download_model.sh fetches the real one)"; exit 1; }
SST2_MODEL=$(cd "$SST2_MODEL" && pwd)
start_cluster demo "$SST2_MODEL"
[ "${SST2_KEEP:-0}" = 1 ] || trap stop_cluster EXIT

psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION sst2;
CREATE TABLE reviews (id int PRIMARY KEY, review text);
INSERT INTO reviews VALUES
	(1, 'A charming, funny and moving film: the best I have seen this year.'),
	(2, 'Dull, predictable and far too long.'),
	(3, 'The acting is wonderful and the story is beautiful.'),
	(4, 'I wanted my money back after twenty minutes.'),
	(5, 'it ''s a charming and often affecting journey . ');
\echo
SELECT sst2_model_info() ->> 'path' AS model, sst2_model_info() ->> 'dtype' AS dtype,
	   sst2_model_info() ->> 'load_ms' AS load_ms;
SELECT id, (s).label, round((s).score::numeric, 4) AS score, review
FROM (SELECT id, review, sst2_classify(review) AS s FROM reviews) r ORDER BY id;
SQL
[ "${SST2_KEEP:-0}" = 1 ] && log "cluster left running: PGHOST=$PGHOST PGPORT=$PGPORT psql"
exit 0

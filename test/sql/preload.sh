#!/usr/bin/env bash
# shared_preload_libraries = 'sst2': the postmaster opens sst2.model_path's
# model at start and backends inherit it (sst2_model_info()->'preloaded',
# the same load_ms in every backend), in a UTF8 and a LATIN1 database; a
# changed setting is still picked up; the weights are inherited on anonymous huge pages
# (no model file mapped in a backend); sst2_prewarm() works; a model that
# cannot be opened at start is a WARNING in the log and the usual ERROR at use.
# Needs SST2_MINI_MODEL and SST2_TINY_MODEL from scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
MINI=${SST2_MINI_MODEL:?}
TINY=${SST2_TINY_MODEL:?}
source scripts/lib.sh
export SST2_PGPORT=$((${SST2_PGPORT:-54321} + 2))
SST2_PRELOAD=1 start_cluster preload "$MINI"
trap stop_cluster EXIT
grep -q "sst2 opened the model \"$MINI\" at server start" "$CLUSTER_DIR/server.log"
createdb -E LATIN1 -T template0 --locale=C latin1
for db in postgres latin1; do psql -X -q -d $db -c "CREATE EXTENSION sst2"; done

info() { psql -X -At -d "$1" -c "SELECT (i->>'preloaded') || ' ' || (i->>'load_ms') FROM sst2_model_info() i"; }
a=$(info postgres); b=$(info postgres); c=$(info latin1)
echo "backend 1: $a; backend 2: $b; LATIN1 backend: $c"
[ "${a%% *}" = true ] && [ "$a" = "$b" ] && [ "$a" = "$c" ]
label() { psql -X -At -d "$1" -c "SELECT (sst2_classify('a gorgeous , witty , seductive movie . ')).label"; }
[ "$(label postgres)" = POSITIVE ] && [ "$(label latin1)" = POSITIVE ]
# the labels of a preloaded model in a LATIN1 database are LATIN1 text
[ "$(psql -X -At -d latin1 -c "SELECT sst2_scores('great') ? 'POSITIVE'")" = t ]

# the postmaster moved the weights onto anonymous huge pages (weights_anon.c): a backend
# inherits them and maps no model file, so its first call does not fault the model in;
# without transparent huge pages nothing moves and the files stay mapped
anon=$(psql -X -At -c "SELECT sst2_model_info()->>'inherited_anonymous_bytes'")
maps=$(psql -X -At <<'EOS'
SELECT (sst2_classify('a first call')).label IS NOT NULL;
SELECT pg_backend_pid() AS pid \gset
\setenv BP :pid
\! grep -cE 'sst2_cache|model[.]safetensors' /proc/$BP/maps || true
EOS
)
echo "inherited anonymous bytes: $anon; model files mapped by a backend: $(tail -1 <<<"$maps")"
if grep -qE '\[(always|madvise)\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; then
	[ "$anon" -gt 0 ] && [ "$(tail -1 <<<"$maps")" = 0 ]
	grep -q 'MB of weights on anonymous huge pages for backends to inherit' "$CLUSTER_DIR/server.log"
else
	[ "$anon" = 0 ] && [ "$(tail -1 <<<"$maps")" -gt 0 ]
fi

# a changed setting is picked up: the session's own model, not preloaded
out=$(psql -X -q -At -c "SET sst2.model_path = '$TINY'" -c "SELECT (i->>'preloaded') || ' ' || (i->>'dim') FROM sst2_model_info() i")
echo "after SET sst2.model_path: $out"
[ "$out" = "false 64" ]
[ -z "$(psql -X -At -c "SELECT sst2_prewarm()")" ]

# a model that cannot be opened: the server starts, backends report the ERROR
echo "sst2.model_path = '/nonexistent/model'" >>"$CLUSTER_DIR/data/postgresql.conf"
as_pg "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w -t 60 restart >/dev/null
grep -q 'WARNING:  sst2 could not open the model at server start' "$CLUSTER_DIR/server.log"
err=$(psql -X -At -c "SELECT sst2_classify('x')" 2>&1 || true)
echo "$err"
grep -q 'ERROR:' <<<"$err"
echo "PASS: preloaded model"

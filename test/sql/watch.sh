#!/usr/bin/env bash
# sst2_watch (issue 18), without shared_preload_libraries, on a cluster of its
# own (port SST2_PGPORT + 10):
#  - ALTER EXTENSION sst2 UPDATE from 1.0 gives the same objects as a fresh 1.1;
#  - a backfill of 20,000 rows while another session inserts 2,000 rows and
#    changes the source of 500: every label is sst2_label(source), every score
#    sst2_score(source) (within 1e-5: the batched path's rounding differs from
#    one text at a time by a few ulps, as the window form's does);
#  - pg_ctl stop -m immediate mid-backfill, start: the first sst2_wait starts
#    the worker again and it finishes with every row right;
#  - pg_terminate_backend on the worker: the server restarts it;
#  - an unreadable model pauses the job with last_error, and it resumes;
#  - the worker works as the role that called sst2_watch; a non-owner gets
#    42501; a dropped column or table leaves the job failed with last_error;
#  - sst2_unwatch removes the triggers and the job, labels stay;
#  - the writer's INSERT into a watched table is not slowed by the model (a
#    generous hang check; bench/watch.sh measures the 2 ms goal).
# Needs SST2_TINY_MODEL (scripts/test.sh).
set -uo pipefail
cd "$(dirname "$0")/../.."
TINY=${SST2_TINY_MODEL:?}
source scripts/lib.sh
set +e
export SST2_PGPORT=$((${SST2_PGPORT:-54321} + 10))
start_cluster watch "$TINY"
trap stop_cluster EXIT
fail=0
check() { # WHAT GOT WANT
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: got '$2', want '$3'"; fail=1; fi
}
check_re() { # WHAT GOT REGEX
	if [[ $2 =~ $3 ]]; then echo "ok: $1"; else echo "FAIL: $1: got '$(head -c 600 <<<"$2")', want /$3/"; fail=1; fi
}
q() { timeout "${TO:-120}" psql -X -q -At -v VERBOSITY=verbose "$@" 2>&1; }
restart() { # MODE
	as_pg "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -m "$1" -w stop >/dev/null 2>&1
	as_pg "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w -t 60 start >/dev/null
}
workers() { q -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'sst2 worker'"; }
# every row of TABLE labelled as the scalar functions label its source
wrong_rows() { # TABLE
	q -c "SELECT count(*) FROM $1 WHERE body IS NOT NULL AND (lab IS DISTINCT FROM sst2_label(body)
	        OR abs(sc - sst2_score(body)) > 1e-5 OR sc IS NULL)"
}

# ---- the update script gives what a fresh install gives
createdb fresh; createdb updated
q -d fresh -c "CREATE EXTENSION sst2" >/dev/null
q -d updated -c "CREATE EXTENSION sst2 VERSION '1.0'" -c "ALTER EXTENSION sst2 UPDATE" >/dev/null
objects() { # DB: the extension's objects, and each function's and view's definition
	q -d "$1" -c '\dx+ sst2'
	q -d "$1" -c "SELECT p.oid::regprocedure, pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid
	               WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'sst2') AND p.prokind <> 'a' ORDER BY 1::text"
	q -d "$1" -c "SELECT c.relname, c.relkind, pg_get_viewdef(c.oid) FROM pg_class c JOIN pg_depend d ON d.objid = c.oid
	               WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'sst2') ORDER BY 1"
	q -d "$1" -c "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute
	               WHERE attrelid = 'sst2_watched'::regclass AND attnum > 0 ORDER BY attnum"
	q -d "$1" -c "SELECT extversion, extconfig::regclass[]::text FROM pg_extension WHERE extname = 'sst2'"
	q -d "$1" -c "SELECT relname, relacl FROM pg_class WHERE relname IN ('sst2_watched', 'sst2_jobs', 'sst2_watch_changes') ORDER BY 1"
}
objects fresh >"$SST2_WORK/watch-fresh.txt"; objects updated >"$SST2_WORK/watch-updated.txt"
check "updated 1.0 -> 1.1 equals a fresh 1.1 install" "$(diff "$SST2_WORK/watch-fresh.txt" "$SST2_WORK/watch-updated.txt" && echo same)" same
check_re "the fresh install lists the new objects" "$(cat "$SST2_WORK/watch-fresh.txt")" 'function sst2_watch\(regclass,name,name,name\).*view sst2_jobs'

export PGDATABASE=postgres
q -c "CREATE EXTENSION sst2" >/dev/null
# texts of varied length, so that batches mix short and long rows
q <<'SQL' >/dev/null
CREATE TABLE big (id bigserial PRIMARY KEY, body text, lab text, sc real);
INSERT INTO big (body)
SELECT 'review ' || g || ': ' || repeat(CASE WHEN g % 3 = 0 THEN 'a great , moving film . ' WHEN g % 3 = 1 THEN 'dull and far too long . ' ELSE 'it is a movie . ' END, 1 + g % 7)
  FROM generate_series(1, 20000) g;
INSERT INTO big (body) VALUES (NULL);
SQL

# ---- backfill while another session writes
q -c "SELECT sst2_watch('big', 'body', 'lab', 'sc')" >/dev/null
(
	for i in $(seq 1 40); do
		q -c "INSERT INTO big (body) SELECT 'new row ' || g || ' of batch $i , quite good' FROM generate_series(1, 50) g" >/dev/null
		# 500 source changes: rows early and late in the table, some already labelled
		[ "$i" -le 20 ] && q -c "UPDATE big SET body = body || ' (edited $i)' WHERE id IN (SELECT id FROM big WHERE id <= 20000 AND id % 20 = $i % 20 ORDER BY (id * 7919) % 20000 LIMIT 25)" >/dev/null
	done
) &
writer=$!
sleep 1
check_re "sst2_jobs shows the backfill" "$(q -c "SELECT state, rows_pending > 0 FROM sst2_jobs WHERE tbl = 'big'::regclass")" '^(backfill|following)\|t$'
wait $writer
check "the writer changed 500 sources" "$(q -c "SELECT count(*) FROM big WHERE body LIKE '%(edited %'")" 500
check "the writer inserted 2000 rows" "$(q -c "SELECT count(*) FROM big WHERE body LIKE 'new row %'")" 2000
check "sst2_wait: backfill done" "$(q -c "SELECT sst2_wait('big', '10 minutes')")" t
check "every row labelled as sst2_label/sst2_score label it" "$(wrong_rows big)" 0
check "the NULL source left alone" "$(q -c "SELECT count(*) FROM big WHERE body IS NULL AND lab IS NULL AND sc IS NULL")" 1
check_re "sst2_jobs: following, nothing pending, no error" \
	"$(q -c "SELECT state, rows_done >= 22000, rows_pending, rows_per_second > 0, last_error IS NULL FROM sst2_jobs")" '^following\|t\|0\|t\|t$'
# a source change later clears and relabels; an unchanged source keeps its label
q -c "UPDATE big SET body = 'an utterly wonderful surprise' WHERE id = 7" -c "UPDATE big SET id = id WHERE id = 8" >/dev/null
check "a changed source is relabelled" "$(q -c "SELECT sst2_wait('big', '2 minutes')" -c "SELECT lab = sst2_label(body) FROM big WHERE id = 7")" "$(printf 't\nt')"
check "a row inserted with a label keeps it" "$(q -c "INSERT INTO big (body, lab) VALUES ('x', 'MINE')" -c "SELECT sst2_wait('big', '1 minute')" -c "SELECT lab, sc IS NULL FROM big WHERE lab = 'MINE'")" "$(printf 't\nMINE|t')"

# ---- the writer's INSERT: the model never runs in its transaction
q <<'SQL' >/dev/null
CREATE TABLE plain (id bigserial PRIMARY KEY, body text, lab text, sc real);
CREATE TABLE watched (id bigserial PRIMARY KEY, body text, lab text, sc real);
SELECT sst2_watch('watched', 'body', 'lab', 'sc');
CREATE FUNCTION insert_ms(tbl regclass, n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t timestamptz; ms float8[] := '{}';
BEGIN
	FOR i IN 1..n LOOP
		t := clock_timestamp();
		EXECUTE format('INSERT INTO %s (body) VALUES (%L)', tbl, 'a fine and touching film number ' || i);
		ms := ms || extract(epoch FROM clock_timestamp() - t) * 1000;
	END LOOP;
	RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x);
END $$;
SQL
lat=$(q -c "SELECT round(insert_ms('plain', 300)::numeric, 3), round(insert_ms('watched', 300)::numeric, 3)")
echo "INSERT median ms (unwatched|watched): $lat"
check "watched INSERT median within 20 ms of unwatched (hang check)" \
	"$(q -c "SELECT ${lat#*|} < ${lat%|*} + 20")" t
check "the watched inserts get labelled" "$(q -c "SELECT sst2_wait('watched', '2 minutes')" -c "SELECT count(*) FROM watched WHERE lab IS NULL")" "$(printf 't\n0')"

# ---- crash mid-backfill: stop -m immediate, start; the next sst2 call restarts the worker
q <<'SQL' >/dev/null
CREATE TABLE crash (id bigserial PRIMARY KEY, body text, lab varchar(20), sc double precision);
INSERT INTO crash (body) SELECT 'crash test ' || g || repeat(' rather good', g % 5) FROM generate_series(1, 20000) g;
ALTER DATABASE postgres SET synchronous_commit = on;
SELECT sst2_watch('crash', 'body', 'lab', 'sc');
SQL
for _ in $(seq 600); do
	done_rows=$(q -c "SELECT count(*) FROM crash WHERE lab IS NOT NULL"); [ "${done_rows:-0}" -ge 2000 ] && break; sleep 0.1
done
echo "killed after $done_rows rows"
restart immediate
sleep 2
check "no sst2 worker runs after the restart without preload" "$(workers)" 0
check "the job survived the crash" "$(q -c "SELECT state FROM sst2_watched WHERE tbl = 'crash'::regclass")" backfill
check "sst2_wait starts the worker again and the backfill finishes" "$(q -c "SELECT sst2_wait('crash', '10 minutes')")" t
check "after the crash every row is labelled right" "$(q -c "SELECT count(*) FROM crash WHERE lab IS DISTINCT FROM sst2_label(body) OR abs(sc - sst2_score(body)) > 1e-5")" 0

# ---- pg_terminate_backend: the worker stops, the server starts it again
q -c "UPDATE crash SET lab = NULL WHERE id <= 3000" >/dev/null
sleep 0.5
check "terminate the worker" "$(q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'sst2 worker'")" t
sleep 1
for _ in $(seq 300); do [ "$(workers)" = 1 ] && break; sleep 0.1; done
check "the server restarted the worker" "$(workers)" 1
check_re "the log says the worker was terminated" "$(tail -n 50 "$CLUSTER_DIR/server.log")" 'terminating background worker "sst2 worker'
check "it finishes" "$(q -c "SELECT sst2_wait('crash', '5 minutes')")" t
check "nothing is left unlabelled" "$(q -c "SELECT count(*) FROM crash WHERE lab IS NULL")" 0

# ---- a model error pauses the job (last_error), and it resumes
q -c "ALTER SYSTEM SET sst2.model_path = '/nonexistent/model'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
q -c "INSERT INTO crash (body) VALUES ('while the model is away')" >/dev/null
for _ in $(seq 100); do [ "$(q -c "SELECT state FROM sst2_jobs WHERE tbl = 'crash'::regclass")" = paused ] && break; sleep 0.1; done
check_re "an unreadable model: paused with the error" "$(q -c "SELECT state, last_error FROM sst2_jobs WHERE tbl = 'crash'::regclass")" '^paused\|.*nonexistent'
q -c "ALTER SYSTEM RESET sst2.model_path" -c "SELECT pg_reload_conf()" >/dev/null
check "after the model is back, it resumes (retry after a backoff)" "$(q -c "SELECT sst2_wait('crash', '2 minutes')")" t
check "and clears the error" "$(q -c "SELECT state, last_error IS NULL FROM sst2_jobs WHERE tbl = 'crash'::regclass")" "following|t"

# ---- least privilege: the worker works as the role that called sst2_watch
q <<'SQL' >/dev/null
CREATE ROLE alice LOGIN; CREATE ROLE mallory LOGIN;
GRANT CREATE ON SCHEMA public TO alice;
SQL
q -U alice <<'SQL' >/dev/null
CREATE TABLE mine (id int, body text, lab text, sc real, who text);
CREATE FUNCTION note_who() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.who := current_user; RETURN NEW; END $$;
CREATE TRIGGER note_who BEFORE UPDATE ON mine FOR EACH ROW EXECUTE FUNCTION note_who();
INSERT INTO mine SELECT g, 'text ' || g FROM generate_series(1, 100) g;
GRANT SELECT, UPDATE ON mine TO mallory;
SQL
check_re "a non-owner (with UPDATE) cannot watch: 42501" "$(q -U mallory -c "SELECT sst2_watch('mine', 'body', 'lab')")" 'ERROR:  42501: must be owner of table mine'
check "the owner can" "$(q -U alice -c "SELECT sst2_watch('mine', 'body', 'lab', 'sc')" -c "SELECT sst2_wait('mine', '2 minutes')")" "$(printf '\nt')"
check "the worker labelled as alice" "$(q -c "SELECT string_agg(DISTINCT who, ',') FROM mine")" alice
check_re "a non-owner cannot unwatch: 42501" "$(q -U mallory -c "SELECT sst2_unwatch('mine')")" 'ERROR:  42501'
check_re "sst2_watched is not writable by users" "$(q -U alice -c "UPDATE sst2_watched SET owner = 'postgres'")" 'ERROR:  42501'
check "a role sees its own jobs in sst2_jobs" "$(q -U alice -c "SELECT count(*) FROM sst2_jobs")" 1
check_re "errors: not an ordinary table" "$(q -c "SELECT sst2_watch('sst2_jobs', 'tbl', 'state')")" 'ERROR:  42809'
check_re "errors: no such column" "$(q -c "SELECT sst2_watch('plain', 'nope', 'lab')")" 'ERROR:  42703: column "nope" of table "plain" does not exist'
check_re "errors: wrong column type" "$(q -c "SELECT sst2_watch('plain', 'id', 'lab')")" 'ERROR:  42804'
check_re "errors: already watched" "$(q -c "SELECT sst2_watch('watched', 'body', 'lab')")" 'ERROR:  42710: table "watched" is already watched'
# ownership moved to a role that did not call sst2_watch: the job stops
q -c "CREATE ROLE bob" -c "ALTER TABLE mine OWNER TO bob" -c "INSERT INTO mine (id, body) VALUES (0, 'new')" >/dev/null
for _ in $(seq 100); do [ "$(q -c "SELECT state FROM sst2_watched WHERE tbl = 'mine'::regclass")" = failed ] && break; sleep 0.1; done
check_re "the owner changed: failed, and says why" "$(q -c "SELECT state, last_error FROM sst2_watched WHERE tbl = 'mine'::regclass")" '^failed\|role alice no longer owns table "mine"'
check "nothing was labelled by a role that no longer owns it" "$(q -c "SELECT lab IS NULL FROM mine WHERE id = 0")" t

# ---- dropped column, dropped table: failed with a clear last_error, no crash, no hot loop
q -c "ALTER TABLE watched DROP COLUMN sc" -c "INSERT INTO watched (body) VALUES ('after the drop')" >/dev/null
for _ in $(seq 100); do [ "$(q -c "SELECT state FROM sst2_watched WHERE tbl = 'watched'::regclass")" = failed ] && break; sleep 0.1; done
check_re "a dropped score column: failed" "$(q -c "SELECT state, last_error FROM sst2_jobs WHERE tbl = 'watched'::regclass")" '^failed\|score column "sc" of table "watched" no longer exists'
check_re "sst2_wait on a failed job is an ERROR saying why" "$(q -c "SELECT sst2_wait('watched', '1 minute')")" 'ERROR:  55000: sst2 stopped labelling table "watched": score column'
old=$(q -c "SELECT 'big'::regclass::oid")
q -c "DROP TABLE big" >/dev/null
for _ in $(seq 100); do [ "$(q -c "SELECT state FROM sst2_watched WHERE tbl = $old")" = failed ] && break; q -c "INSERT INTO crash (body) VALUES ('wake')" >/dev/null; sleep 0.2; done
check_re "a dropped table: failed" "$(q -c "SELECT state, last_error FROM sst2_watched WHERE tbl = $old")" "^failed\|table $old was dropped"
errs=$(q -c "SELECT errors FROM sst2_watched WHERE tbl = $old"); sleep 2
check "a failed job is not retried" "$(q -c "SELECT errors FROM sst2_watched WHERE tbl = $old")" "$errs"
check "unwatch a dropped table by its old oid" "$(q -c "SELECT sst2_unwatch($old)" -c "SELECT count(*) FROM sst2_watched WHERE tbl = $old")" "$(printf '\n0')"

# ---- unwatch: triggers and job gone, labels stay
q -c "SELECT sst2_unwatch('crash')" >/dev/null
check "unwatch: the triggers are gone" "$(q -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'crash'::regclass")" 0
check "unwatch: the job is gone" "$(q -c "SELECT count(*) FROM sst2_jobs WHERE tbl = 'crash'::regclass")" 0
check "unwatch: labels stay" "$(q -c "SELECT count(*) FROM crash WHERE lab IS NULL")" 0
q -c "INSERT INTO crash (body) VALUES ('not watched any more')" >/dev/null; sleep 1.5
check "unwatch: new rows stay unlabelled" "$(q -c "SELECT lab IS NULL FROM crash WHERE body = 'not watched any more'")" t
check_re "unwatch twice: not watched" "$(q -c "SELECT sst2_unwatch('crash')")" 'ERROR:  42704: table "crash" is not watched'

check "no backend crashed" "$(grep -cE 'terminated by signal|server process .* was terminated' "$CLUSTER_DIR/server.log")" 0
if [ $fail = 0 ]; then echo "PASS: sst2_watch"; else echo "FAIL: sst2_watch"; exit 1; fi

/* sst2--1.0--1.1.sql: background labelling of large tables (sst2_watch) */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION sst2 UPDATE TO '1.1'" to load this file. \quit

-- One row per watched table: what to label, whose rights the worker uses,
-- and how far it got.  The worker and the functions below are the only
-- writers; pg_dump keeps the rows (a restored database resumes its jobs).
CREATE TABLE sst2_watched (
	tbl regclass PRIMARY KEY,
	source name NOT NULL,
	label name NOT NULL,
	score name,
	owner regrole NOT NULL,
	state text NOT NULL DEFAULT 'backfill'
		CHECK (state IN ('backfill', 'following', 'paused', 'failed')),
	rows_done bigint NOT NULL DEFAULT 0,
	rows_per_second real,
	errors int NOT NULL DEFAULT 0,
	retry_at timestamptz,
	last_error text,
	last_activity timestamptz
);

SELECT pg_catalog.pg_extension_config_dump('sst2_watched', '');
REVOKE ALL ON sst2_watched FROM PUBLIC;

-- Bumped by every statement that inserts into a watched table or changes a
-- watched source: the worker rescans a table only after it moved.
CREATE SEQUENCE sst2_watch_changes;
REVOKE ALL ON sst2_watch_changes FROM PUBLIC;

CREATE FUNCTION sst2_watch(tbl regclass, source name, label name, score name DEFAULT NULL)
	RETURNS void
	AS 'MODULE_PATHNAME', 'sst2_watch'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION sst2_watch(regclass, name, name, name) IS
	'keep label (and score) of every row of tbl filled from source by a background worker, in batches; the caller must own tbl';

CREATE FUNCTION sst2_unwatch(tbl regclass) RETURNS void
	AS 'MODULE_PATHNAME', 'sst2_unwatch'
	LANGUAGE C VOLATILE STRICT;

COMMENT ON FUNCTION sst2_unwatch(regclass) IS
	'stop labelling tbl in the background and remove its triggers; labels already written stay';

CREATE FUNCTION sst2_wait(tbl regclass, timeout interval DEFAULT '1 hour') RETURNS boolean
	AS 'MODULE_PATHNAME', 'sst2_wait'
	LANGUAGE C VOLATILE STRICT;

COMMENT ON FUNCTION sst2_wait(regclass, interval) IS
	'true as soon as no row of the watched table tbl waits for a label, false at the timeout';

-- Rows of a watched table that wait for their label (NULL without SELECT
-- on the table).  Starts the database's worker if none runs.
CREATE FUNCTION sst2_pending(tbl regclass) RETURNS bigint
	AS 'MODULE_PATHNAME', 'sst2_pending'
	LANGUAGE C VOLATILE STRICT;

COMMENT ON FUNCTION sst2_pending(regclass) IS
	'number of rows of the watched table tbl whose label the worker has yet to write (a full count)';

-- Installed by sst2_watch: clears label and score when the source changes.
CREATE FUNCTION sst2_watch_clear() RETURNS trigger
	AS 'MODULE_PATHNAME', 'sst2_watch_clear'
	LANGUAGE C;

-- Installed by sst2_watch: tells the worker that a statement changed the table.
CREATE FUNCTION sst2_watch_wake() RETURNS trigger
	AS 'MODULE_PATHNAME', 'sst2_watch_wake'
	LANGUAGE C;

CREATE VIEW sst2_jobs AS
	SELECT w.tbl, w.source, w.label, w.score, w.state, w.rows_done,
		   sst2_pending(w.tbl) AS rows_pending, w.rows_per_second,
		   w.last_error, w.last_activity
	  FROM sst2_watched w
	 WHERE pg_catalog.pg_has_role(w.owner, 'USAGE')
		OR pg_catalog.has_table_privilege(w.tbl::oid, 'SELECT');

COMMENT ON VIEW sst2_jobs IS
	'tables sst2_watch labels in the background: state (backfill, following, paused, failed), progress, backlog, speed, last error';

GRANT SELECT ON sst2_jobs TO PUBLIC;

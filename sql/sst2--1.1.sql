/* sst2--1.1.sql: DistilBERT SST-2 sentiment classification inside PostgreSQL */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION sst2" to load this file. \quit

-- What the text-classification pipeline returns: the top label and its
-- softmax probability.
CREATE TYPE sst2_result AS (label text, score real);

-- One forward pass of a 66M-parameter model per call: tell the planner it is
-- expensive (COST is in units of cpu_operator_cost), so it evaluates it as
-- late as it can and considers parallel workers for large tables.
CREATE FUNCTION sst2_classify(text) RETURNS sst2_result
	AS 'MODULE_PATHNAME', 'sst2_classify'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100000;

COMMENT ON FUNCTION sst2_classify(text) IS
	'sentiment of a text: (label, score) as transformers.pipeline("text-classification") gives';

-- The two fields as plain scalars: postgres_fdw ships these to a shard (it
-- never ships a field selection from a composite), so WHERE, GROUP BY and
-- generated columns run the model where the rows live.  Same cost: one
-- forward pass per call.
CREATE FUNCTION sst2_label(text) RETURNS text
	AS 'MODULE_PATHNAME', 'sst2_label'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100000;

COMMENT ON FUNCTION sst2_label(text) IS
	'(sst2_classify(text)).label as a plain text: the form for WHERE, GROUP BY, generated columns and sharded tables';

CREATE FUNCTION sst2_score(text) RETURNS real
	AS 'MODULE_PATHNAME', 'sst2_score'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100000;

COMMENT ON FUNCTION sst2_score(text) IS
	'(sst2_classify(text)).score as a plain real: the form for WHERE, ORDER BY, generated columns and sharded tables';

CREATE FUNCTION sst2_logits(text) RETURNS real[]
	AS 'MODULE_PATHNAME', 'sst2_logits'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100000;

COMMENT ON FUNCTION sst2_logits(text) IS
	'raw classifier logits of a text, in label-id order';

CREATE FUNCTION sst2_tokenize(text) RETURNS int[]
	AS 'MODULE_PATHNAME', 'sst2_tokenize_sql'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 1000;

COMMENT ON FUNCTION sst2_tokenize(text) IS
	'input ids the model sees for a text ([CLS] ... [SEP], truncated to sst2.max_length)';

CREATE FUNCTION sst2_model_info() RETURNS jsonb
	AS 'MODULE_PATHNAME', 'sst2_model_info'
	LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION sst2_model_info() IS
	'the checkpoint this backend has loaded: path, dtype, sizes, labels, bytes mapped, load time';

-- Batched surfaces: each classifies sst2.batch_size texts per forward pass.

CREATE FUNCTION sst2_classify_batch(text[]) RETURNS sst2_result[]
	AS 'MODULE_PATHNAME', 'sst2_classify_batch'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100000;

COMMENT ON FUNCTION sst2_classify_batch(text[]) IS
	'sst2_classify of every element, in order (NULL gives NULL), in batches of sst2.batch_size';

CREATE FUNCTION sst2_classify_agg_trans(internal, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'sst2_classify_agg_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION sst2_classify_agg_final(internal) RETURNS sst2_result[]
	AS 'MODULE_PATHNAME', 'sst2_classify_agg_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE sst2_classify_agg(text) (
	SFUNC = sst2_classify_agg_trans,
	STYPE = internal,
	FINALFUNC = sst2_classify_agg_final,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE sst2_classify_agg(text) IS
	'sst2_result[] of the group''s texts in input order (honours ORDER BY), classified in batches as rows arrive';

CREATE FUNCTION sst2_classify_window(text) RETURNS sst2_result
	AS 'MODULE_PATHNAME', 'sst2_classify_window'
	LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE COST 100000;

COMMENT ON FUNCTION sst2_classify_window(text) IS
	'window form: each row''s own sst2_result, the partition classified in batches of sst2.batch_size rows';

-- Row trigger: EXECUTE FUNCTION sst2_tag('review', 'sentiment_label' [, 'sentiment_score'])
CREATE FUNCTION sst2_tag() RETURNS trigger
	AS 'MODULE_PATHNAME', 'sst2_tag'
	LANGUAGE C;

COMMENT ON FUNCTION sst2_tag() IS
	'BEFORE INSERT OR UPDATE row trigger: sets a label (and score) column from a text column';

-- Every label's score, and which words decided a text's label.

CREATE FUNCTION sst2_scores(text) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'sst2_scores'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100000;

COMMENT ON FUNCTION sst2_scores(text) IS
	'every label of the model with its softmax probability, as {"LABEL": p, ...}';

CREATE FUNCTION sst2_scores_batch(text[]) RETURNS jsonb[]
	AS 'MODULE_PATHNAME', 'sst2_scores_batch'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100000;

COMMENT ON FUNCTION sst2_scores_batch(text[]) IS
	'sst2_scores of every element, in order (NULL gives NULL), in batches of sst2.batch_size';

CREATE FUNCTION sst2_explain(text, OUT ord int, OUT word text, OUT attribution real)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'sst2_explain_sql'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 1000000 ROWS 20;

COMMENT ON FUNCTION sst2_explain(text) IS
	'occlusion attribution of each word the model read: p(top label) minus p(top label) without the word';

-- Usage statistics (shared_preload_libraries = 'sst2'; otherwise an ERROR says so).

CREATE FUNCTION sst2_stats(OUT texts bigint, OUT tokens bigint, OUT truncated bigint,
						   OUT batches bigint, OUT forward_passes bigint,
						   OUT tokenizer_ms float8, OUT model_ms float8,
						   OUT stats_reset timestamptz)
	RETURNS record
	AS 'MODULE_PATHNAME', 'sst2_stats'
	LANGUAGE C VOLATILE PARALLEL SAFE;

CREATE VIEW sst2_stats AS SELECT * FROM sst2_stats();

COMMENT ON VIEW sst2_stats IS
	'server-wide sst2 work since the last sst2_stats_reset(): texts classified, tokens, texts truncated by sst2.max_length, batches, forward passes, time in the tokenizer and the model';

CREATE FUNCTION sst2_stats_reset() RETURNS void
	AS 'MODULE_PATHNAME', 'sst2_stats_reset'
	LANGUAGE C VOLATILE PARALLEL SAFE;

REVOKE ALL ON FUNCTION sst2_stats_reset() FROM PUBLIC;

COMMENT ON FUNCTION sst2_stats_reset() IS
	'set every sst2_stats counter back to zero';

CREATE FUNCTION sst2_prewarm() RETURNS void
	AS 'MODULE_PATHNAME', 'sst2_prewarm'
	LANGUAGE C VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION sst2_prewarm() IS
	'open the model now and run one forward pass, so the next call in this backend pays no load';

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

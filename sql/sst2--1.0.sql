/* sst2--1.0.sql: DistilBERT SST-2 sentiment classification inside PostgreSQL */

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

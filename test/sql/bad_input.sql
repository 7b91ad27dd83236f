-- Bad input through SQL: every case gives an ERROR with a clear message and
-- errcode (shown as "ERROR:  <sqlstate>: <message>") or the correct result,
-- and afterwards the same backend still classifies and the server never
-- restarted.  Run by test/sql/bad_input.sh, which makes the broken model
-- folders under :models and compares this output with bad_input.out.
\set VERBOSITY verbose
\set SHOW_CONTEXT never
\pset null '(null)'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS sst2;
SELECT pg_postmaster_start_time() AS start_time \gset
\set good :models '/good'
SET sst2.model_path = :'good';

-- ---- text
SELECT sst2_classify(NULL) IS NULL AS null_gives_null;
SELECT sst2_tokenize(''), (sst2_classify('')).label IS NOT NULL AS empty_classified;
SELECT sst2_tokenize(E' \t\n\r \u00a0\u3000 ') AS whitespace_only,
	   sst2_logits(E' \t\n ') = sst2_logits('') AS same_as_empty;
-- 10 MB of text: truncated to sst2.max_length (512) tokens, work bounded
SELECT octet_length(repeat('great movie ', 873814)) AS bytes,
	   cardinality(sst2_tokenize(repeat('great movie ', 873814))) AS ids,
	   (sst2_classify(repeat('great movie ', 873814))).label IS NOT NULL AS classified;
-- one word of 1 MB: [UNK] (a word over 100 characters)
SELECT sst2_tokenize(repeat('a', 1048576)) AS one_mb_word;
-- control and format characters are dropped, as Hugging Face does
SELECT sst2_tokenize(E'good\u0001\u007f\u200b\u00admovie') AS controls,
	   sst2_tokenize('goodmovie') AS without;
-- a NUL byte cannot be in a text value at all
SELECT sst2_classify(E'a\u0000b');

-- ---- model folders
SET sst2.model_path = '';
SELECT sst2_classify('x');
SET sst2.model_path = '/nonexistent/folder';
SELECT sst2_classify('x');
\set m :models '/missing_config'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/missing_model'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/missing_vocab'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/missing_tokcfg'
SET sst2.model_path = :'m';
SELECT (sst2_classify('x')).label IS NOT NULL AS tokenizer_config_is_optional;
\set m :models '/empty_config'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/empty_model'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/empty_vocab'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/truncated_model'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/header_len_past_eof'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/offsets_out_of_range'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/offsets_overlap'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/dtype_unsupported'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/shape_mismatch'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/tensor_missing'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/heads_not_dividing_dim'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/zero_layers'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/absurd_dim'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/absurd_layers'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/config_not_json'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/vocab_duplicate'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
\set m :models '/vocab_missing_unk'
SET sst2.model_path = :'m';
SELECT sst2_classify('x');
SET sst2.model_path = :'models';	-- a folder, but not a checkpoint
SELECT sst2_classify('x');

-- ---- after all that: the same backend classifies, no server restart
SET sst2.model_path = :'good';
SELECT (sst2_classify('a great movie')).label IS NOT NULL AS still_classifies,
	   pg_postmaster_start_time() = :'start_time' AS no_restart;

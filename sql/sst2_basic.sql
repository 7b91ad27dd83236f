-- sst2_basic: the scalar SQL surface on the sst2-mini checkpoint
-- (the test cluster sets sst2.model_path to models/sst2-mini).
\pset null '(null)'

-- NULL in, NULL out (STRICT); the empty text is classified as [CLS] [SEP]
SELECT sst2_classify(NULL) IS NULL AS null_in_null_out;
SELECT sst2_tokenize('');
SELECT label, round(score::numeric, 4) AS score FROM sst2_classify('');

-- the first sentences of the SST-2 dev set; scores as the HF pipeline gives
-- them (golden/sst2-mini-pipeline.json: 0.99981052, 0.99764866, 0.99954057)
SELECT sst2_tokenize('it ''s a charming and often affecting journey . ');
SELECT t, (r).label, round((r).score::numeric, 4) AS score
FROM (SELECT t, sst2_classify(t) AS r FROM (VALUES
	('it ''s a charming and often affecting journey . '),
	('unflinchingly bleak and desperate '),
	('allows us to hope that nolan is poised to embark a major career as a commercial yet inventive filmmaker . ')
) v(t)) s;

-- logits in label-id order; the label is their argmax
SELECT array_length(sst2_logits('a great movie'), 1) AS n_logits;
SELECT (sst2_logits('a dull , lifeless movie'))[1] > (sst2_logits('a dull , lifeless movie'))[2] AS negative_wins,
	   (sst2_classify('a dull , lifeless movie')).label;

-- tokenizer details: lower-casing, accents, punctuation, word pieces, CJK, special tokens
SELECT sst2_tokenize('Héllo, WORLD!! unaffable 中文 [MASK]');

-- truncation follows sst2.max_length ([CLS] + first N-2 pieces + [SEP])
SET sst2.max_length = 5;
SELECT sst2_tokenize('one two three four five six');
SET sst2.max_length = 2;
SELECT sst2_tokenize('one two three');
SET sst2.max_length = 512;	-- the model's max_position_embeddings
SELECT array_length(sst2_tokenize(repeat('word ', 2000)), 1);
SET sst2.max_length = 513;	-- above it: an ERROR naming the limit
SELECT sst2_tokenize('one');
SELECT sst2_classify('one');
RESET sst2.max_length;
SET sst2.max_length = 1;

-- what is loaded
SELECT (i->>'dtype') AS dtype, i->'dim' AS dim, i->'layers' AS layers, i->'heads' AS heads,
	   i->'labels' AS labels, (i->>'bytes_mapped')::bigint > 0 AS mapped
FROM sst2_model_info() i;

-- bad configuration is an ERROR, and the backend goes on working
SET sst2.model_path = '';
SELECT sst2_classify('x');
SET sst2.model_path = '/nonexistent/sst2-model';
SELECT sst2_classify('x');
RESET sst2.model_path;
SELECT (sst2_classify('a great movie')).label;

-- only superusers choose the model folder; anyone may classify
CREATE ROLE sst2_regress_plain;
SET ROLE sst2_regress_plain;
SET sst2.model_path = '/etc';
SELECT (sst2_classify('a great movie')).label;
RESET ROLE;
-- ... or a role the administrator grants it to (PostgreSQL 15+)
GRANT SET ON PARAMETER sst2.model_path TO sst2_regress_plain;
SET ROLE sst2_regress_plain;
SET sst2.model_path = '/nonexistent/granted';
SELECT sst2_classify('x');
RESET sst2.model_path;
RESET ROLE;
REVOKE SET ON PARAMETER sst2.model_path FROM sst2_regress_plain;
DROP ROLE sst2_regress_plain;

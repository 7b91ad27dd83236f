-- sst2_explain: every label's score (sst2_scores) and occlusion attributions
-- (sst2_explain) on the sst2-mini checkpoint.  test/sql/explain.sh checks the
-- attributions against ONNX Runtime.
\pset null '(null)'

-- every label with its probability; the softmax of sst2_logits within 1e-6
SELECT sst2_scores('a gorgeous , witty , seductive movie . ') ? 'POSITIVE' AS has_positive,
	   (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(sst2_scores('x')) k) AS labels;
SELECT t, (sst2_classify(t)).label,
	   round((s->>'NEGATIVE')::numeric, 4) AS negative, round((s->>'POSITIVE')::numeric, 4) AS positive,
	   abs((s->>'NEGATIVE')::float8 - exp(l[1]) / (exp(l[1]) + exp(l[2]))) <= 1e-6
	   AND abs((s->>'POSITIVE')::float8 - exp(l[2]) / (exp(l[1]) + exp(l[2]))) <= 1e-6 AS softmax_of_logits,
	   abs((s->>(sst2_classify(t)).label)::float8 - (sst2_classify(t)).score) <= 1e-6 AS top_is_score
FROM (SELECT t, sst2_scores(t) AS s, sst2_logits(t)::float8[] AS l FROM (VALUES
	('it ''s a charming and often affecting journey . '),
	('unflinchingly bleak and desperate '),
	(''),
	('Dull, predictable and far too long.')) v(t)) q;
SELECT sst2_scores(NULL) IS NULL AS null_in_null_out;

-- the array form: in order, NULL for NULL, equal to one at a time
SELECT cardinality(b) AS n, b[2] IS NULL AS second_null,
	   b[1] = sst2_scores('a great movie') AND b[3] = sst2_scores('a dull movie') AS same_as_single
FROM sst2_scores_batch(ARRAY['a great movie', NULL, 'a dull movie']) b;
SELECT sst2_scores_batch('{}'::text[]) AS empty;
SELECT sst2_scores_batch(ARRAY[['a', 'b'], ['c', 'd']]);

-- words in text order, original substrings (case, accents, punctuation kept)
SELECT ord, word, attribution <> 0 AS nonzero
FROM sst2_explain('Dull, predictable -- and FAR too long... Café naïve 日本 don''t');

-- attribution(w) = p(L | text) - p(L | text without w); here removing a word's
-- pieces is the same as removing the word and its space from the text
SELECT e.word,
	   abs(e.attribution - ((sst2_scores(t)->>'NEGATIVE')::float8
							- (sst2_scores(replace(t, e.word || ' ', ''))->>'NEGATIVE')::float8)) <= 1e-5 AS occlusion
FROM (VALUES ('a dull , lifeless movie ')) v(t), sst2_explain(t) e
ORDER BY e.ord;

-- only the words the model read: sst2.max_length = 6 keeps 4 pieces
SET sst2.max_length = 6;
-- (the batch path cuts a text to the same ids as sst2_tokenize)
SELECT sst2_logits('one two three four five six') = sst2_logits('one two three four') AS same_cut,
	   sst2_tokenize('one two three four five six') = sst2_tokenize('one two three four') AS same_ids;
SELECT ord, word FROM sst2_explain('one two three four five six');
-- a word cut by truncation keeps its whole text; its kept pieces are removed
SET sst2.max_length = 4;
SELECT ord, word FROM sst2_explain('unaffable film');
RESET sst2.max_length;

-- nothing to explain: no rows
SELECT count(*) AS rows_for_empty FROM sst2_explain('');
SELECT count(*) AS rows_for_spaces FROM sst2_explain('   ');
SELECT count(*) AS rows_for_null FROM sst2_explain(NULL);

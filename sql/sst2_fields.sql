-- sst2_fields: sst2_label(text) and sst2_score(text), the fields of
-- sst2_classify as plain scalars (the forms postgres_fdw ships to a shard),
-- and everything sst2 does under search_path = pg_catalog, as postgres_fdw's
-- remote sessions run.
\pset null '(null)'

-- NULL in, NULL out; the empty text is classified like sst2_classify('')
SELECT sst2_label(NULL) IS NULL AS label_null, sst2_score(NULL) IS NULL AS score_null;
SELECT sst2_label('') = (sst2_classify('')).label AS same_label,
	   sst2_score('') = (sst2_classify('')).score AS same_score;

-- same declaration as sst2_classify: IMMUTABLE STRICT PARALLEL SAFE, same COST
SELECT p.proname, p.prorettype::regtype, p.provolatile, p.proisstrict, p.proparallel,
	   p.procost = c.procost AS same_cost, p.prolang = c.prolang AS same_language
FROM pg_proc p, pg_proc c
WHERE p.proname IN ('sst2_label', 'sst2_score') AND c.proname = 'sst2_classify'
ORDER BY 1;

-- bit for bit the fields of sst2_classify, on texts of both labels
CREATE TABLE fields_texts (id int, t text);
INSERT INTO fields_texts VALUES
	(1, 'it ''s a charming and often affecting journey . '),
	(2, 'unflinchingly bleak and desperate '),
	(3, 'a dull , lifeless movie'),
	(4, 'the acting is wonderful and the story is beautiful .'),
	(5, 'Dull, predictable and far too long.'),
	(6, 'Héllo, WORLD!! unaffable 中文 [MASK]');
SELECT id, sst2_label(t), round(sst2_score(t)::numeric, 4) AS score,
	   sst2_label(t) = (sst2_classify(t)).label AS same_label,
	   sst2_score(t) = (sst2_classify(t)).score AS same_score
FROM fields_texts ORDER BY id;
SELECT count(DISTINCT sst2_label(t)) AS labels_seen FROM fields_texts;

-- the forms to use in WHERE, GROUP BY and generated columns
SELECT sst2_label(t) AS label, count(*) FROM fields_texts GROUP BY 1 ORDER BY 1;
SELECT id FROM fields_texts WHERE sst2_label(t) = 'NEGATIVE' AND sst2_score(t) > 0.5 ORDER BY id;
CREATE TABLE fields_gen (id int, t text,
	label text GENERATED ALWAYS AS (sst2_label(t)) STORED,
	score real GENERATED ALWAYS AS (sst2_score(t)) STORED);
INSERT INTO fields_gen (id, t) SELECT id, t FROM fields_texts;
INSERT INTO fields_gen (id, t) VALUES (7, NULL);
SELECT id, label, label = (sst2_classify(t)).label AND score = (sst2_classify(t)).score AS same
FROM fields_gen ORDER BY id;

-- search_path = pg_catalog (postgres_fdw's remote sessions): every surface,
-- schema-qualified as postgres_fdw deparses it, finds what it needs by OID
CREATE TABLE fields_tagged (id int, t text, label text, score real);
CREATE TRIGGER tag BEFORE INSERT OR UPDATE ON fields_tagged
	FOR EACH ROW EXECUTE FUNCTION sst2_tag('t', 'label', 'score');
SET search_path = pg_catalog;
SELECT id, public.sst2_label(t), public.sst2_score(t) = (public.sst2_classify(t)).score AS same_score,
	   array_length(public.sst2_logits(t), 1) AS n_logits, public.sst2_tokenize(t) IS NOT NULL AS tokenized
FROM public.fields_texts WHERE id <= 2 ORDER BY id;
SELECT (r).label FROM (SELECT unnest(public.sst2_classify_batch(ARRAY['a great movie', 'a dull , lifeless movie'])) r) s;
SELECT (public.sst2_classify_agg(t ORDER BY id))[1].label FROM public.fields_texts;
SELECT id, (public.sst2_classify_window(t) OVER (ORDER BY id)).label = public.sst2_label(t) AS same
FROM public.fields_texts ORDER BY id;
SELECT public.sst2_model_info() ? 'labels' AS has_labels;
INSERT INTO public.fields_tagged (id, t) VALUES (1, 'a great movie'), (2, 'a dull , lifeless movie');
INSERT INTO public.fields_gen (id, t) VALUES (8, 'a great movie');
SELECT id, label, score = public.sst2_score(t) AS same_score FROM public.fields_tagged ORDER BY id;
SELECT label FROM public.fields_gen WHERE id = 8;
RESET search_path;

-- sst2_batch: the batched surfaces (array, aggregate, window) on sst2-mini;
-- each must equal sst2_classify row by row.
\pset null '(null)'

CREATE TABLE rev (id int PRIMARY KEY, grp int, t text);
INSERT INTO rev VALUES
	(1, 1, 'it ''s a charming and often affecting journey . '),
	(2, 1, NULL),
	(3, 1, 'unflinchingly bleak and desperate '),
	(4, 1, ''),
	(5, 2, 'the acting , costumes , music , cinematography and sound are all astounding given the production ''s austere locales . '),
	(6, 3, NULL),
	(7, 4, 'it ''s slow -- very , very slow . ');

-- array form: order kept, NULL for NULL, empty array gives empty array
SELECT r.label, round(r.score::numeric, 4) AS score
FROM unnest(sst2_classify_batch(ARRAY['a great movie', NULL, 'a dull , lifeless movie', ''])) WITH ORDINALITY AS r(label, score, n)
ORDER BY n;
SELECT sst2_classify_batch(ARRAY[]::text[]);
SELECT sst2_classify_batch(NULL::text[]);

-- aggregate: lines up with array_agg(id ORDER BY id); per group; one-row groups; all-NULL group
SELECT grp, array_agg(id ORDER BY id) AS ids,
	   (SELECT array_agg((c).label) FROM unnest(sst2_classify_agg(t ORDER BY id)) c) AS labels
FROM rev GROUP BY grp ORDER BY grp;
SELECT array_agg(id ORDER BY id DESC) AS ids,
	   (SELECT array_agg((c).label) FROM unnest(sst2_classify_agg(t ORDER BY id DESC)) c) AS labels
FROM rev;
SELECT sst2_classify_agg(t) FROM rev WHERE false;

-- window form: each row its own result, with and without partitions
SELECT id, grp, (sst2_classify_window(t) OVER ()).label AS whole,
	   (sst2_classify_window(t) OVER (PARTITION BY grp ORDER BY id)).label AS per_group
FROM rev ORDER BY id;

-- thousands of rows, mixed lengths, small batches: every surface equals the row-by-row result
CREATE TABLE big AS
	SELECT i AS id,
		   CASE WHEN i % 97 = 0 THEN NULL
				ELSE repeat(CASE i % 4 WHEN 0 THEN 'a wonderful , moving film . '
										WHEN 1 THEN 'dull and lifeless . '
										WHEN 2 THEN 'the plot goes nowhere but the actors are great . '
										ELSE 'worst thing i have seen ' END, 1 + i % 7) || i
		   END AS t
	FROM generate_series(1, 3000) i;
CREATE TABLE big_serial AS SELECT id, sst2_classify(t) AS c FROM big;
-- batched products round differently from one-row products: labels must be
-- equal, scores within 1e-5 (NULL exactly where the text is NULL)
CREATE FUNCTION same(a sst2_result, b sst2_result) RETURNS bool LANGUAGE sql IMMUTABLE
	AS $$ SELECT coalesce((a).label = (b).label AND abs((a).score - (b).score) <= 1e-5,
						  a IS NULL AND b IS NULL) $$;
SET sst2.batch_size = 7;
SELECT count(*) AS rows,
	   count(*) FILTER (WHERE NOT same(a, s.c)) AS agg_mismatches
FROM (SELECT unnest(sst2_classify_agg(t ORDER BY id)) AS a, unnest(array_agg(id ORDER BY id)) AS id FROM big) g
JOIN big_serial s USING (id);
SELECT count(*) FILTER (WHERE NOT same(w, s.c)) AS window_mismatches
FROM (SELECT id, sst2_classify_window(t) OVER () AS w FROM big) g JOIN big_serial s USING (id);
SELECT count(*) FILTER (WHERE NOT same(b, s.c)) AS batch_mismatches
FROM (SELECT unnest(sst2_classify_batch(array_agg(t ORDER BY id))) AS b,
			 unnest(array_agg(id ORDER BY id)) AS id FROM big) g
JOIN big_serial s USING (id);
RESET sst2.batch_size;
SELECT count(*) FILTER (WHERE NOT same(w, s.c)) AS window_mismatches_batch64
FROM (SELECT id, sst2_classify_window(t) OVER () AS w FROM big) g JOIN big_serial s USING (id);
SELECT count(*) FILTER (WHERE (w IS NULL) <> (s.c IS NULL)) AS null_mismatches
FROM (SELECT id, sst2_classify_window(t) OVER () AS w FROM big) g JOIN big_serial s USING (id);

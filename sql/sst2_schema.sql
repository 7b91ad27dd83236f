-- sst2_schema: sst2 in real schemas: generated columns, the tagging trigger,
-- parallel query.
\pset null '(null)'

-- generated columns: composite and label-only
CREATE TABLE reviews (id int PRIMARY KEY, review text);
INSERT INTO reviews VALUES (1, 'a great movie'), (2, NULL);
ALTER TABLE reviews ADD COLUMN sentiment sst2_result
	GENERATED ALWAYS AS (sst2_classify(review)) STORED;
ALTER TABLE reviews ADD COLUMN label text
	GENERATED ALWAYS AS ((sst2_classify(review)).label) STORED;
SELECT id, (sentiment).label, label FROM reviews ORDER BY id;
UPDATE reviews SET review = 'a dull , lifeless movie' WHERE id = 1;
UPDATE reviews SET review = 'a wonderful film' WHERE id = 2;
SELECT id, (sentiment).label, label FROM reviews ORDER BY id;
COPY reviews (id, review) FROM stdin;
3	it 's slow -- very , very slow . 
4	it 's a charming and often affecting journey . 
5	\N
\.
SELECT id, (sentiment).label, label, (sentiment).label = (sst2_classify(review)).label AS same FROM reviews ORDER BY id;

-- the trigger: label and score columns kept up to date
CREATE TABLE tagged (id int PRIMARY KEY, review text, sentiment_label text, sentiment_score real);
CREATE TRIGGER tag BEFORE INSERT OR UPDATE ON tagged
	FOR EACH ROW EXECUTE FUNCTION sst2_tag('review', 'sentiment_label', 'sentiment_score');
INSERT INTO tagged (id, review) VALUES (1, 'a great movie'), (2, 'a dull , lifeless movie'), (3, NULL);
SELECT id, sentiment_label, round(sentiment_score::numeric, 4) AS score,
	   sentiment_score = (sst2_classify(review)).score AS same_score FROM tagged ORDER BY id;
-- an UPDATE that leaves the source alone keeps what is there (no inference)
UPDATE tagged SET sentiment_label = 'kept' WHERE id = 1;
UPDATE tagged SET review = 'a wonderful film' WHERE id = 2;
UPDATE tagged SET review = 'awful' WHERE id = 3;
SELECT id, sentiment_label, round(sentiment_score::numeric, 4) AS score FROM tagged ORDER BY id;
COPY tagged (id, review) FROM stdin;
4	the acting is wonderful
\.
SELECT id, sentiment_label FROM tagged WHERE id = 4;

-- label-only trigger, varchar label, numeric score
CREATE TABLE tagged2 (review varchar(200), lbl varchar(20), sc numeric);
CREATE TRIGGER tag BEFORE INSERT ON tagged2 FOR EACH ROW EXECUTE FUNCTION sst2_tag('review', 'lbl');
INSERT INTO tagged2 (review) VALUES ('a great movie');
SELECT lbl, sc FROM tagged2;
DROP TRIGGER tag ON tagged2;
CREATE TRIGGER tag BEFORE INSERT ON tagged2 FOR EACH ROW EXECUTE FUNCTION sst2_tag('review', 'lbl', 'sc');
INSERT INTO tagged2 (review) VALUES ('a great movie');
SELECT lbl, round(sc, 4) FROM tagged2 WHERE sc IS NOT NULL;

-- misuse is an ERROR naming what is wrong
CREATE TABLE bad (id int, review text, lbl int, sc text);
CREATE TRIGGER t1 BEFORE INSERT ON bad FOR EACH ROW EXECUTE FUNCTION sst2_tag('no_such', 'lbl');
INSERT INTO bad (id, review) VALUES (1, 'x');
DROP TRIGGER t1 ON bad;
CREATE TRIGGER t2 BEFORE INSERT ON bad FOR EACH ROW EXECUTE FUNCTION sst2_tag('review', 'lbl');
INSERT INTO bad (id, review) VALUES (1, 'x');
DROP TRIGGER t2 ON bad;
CREATE TRIGGER t3 BEFORE INSERT ON bad FOR EACH ROW EXECUTE FUNCTION sst2_tag('id', 'review');
INSERT INTO bad (id, review) VALUES (1, 'x');
DROP TRIGGER t3 ON bad;
CREATE TRIGGER t4 BEFORE INSERT ON bad FOR EACH ROW EXECUTE FUNCTION sst2_tag('review');
INSERT INTO bad (id, review) VALUES (1, 'x');
DROP TRIGGER t4 ON bad;
CREATE TRIGGER t5 AFTER INSERT ON bad FOR EACH ROW EXECUTE FUNCTION sst2_tag('review', 'sc');
INSERT INTO bad (id, review) VALUES (1, 'x');
DROP TRIGGER t5 ON bad;
SELECT count(*) FROM bad;

-- parallel query: a Gather node, and the same results as serially
CREATE TABLE par AS SELECT i AS id, 'review number ' || i || CASE WHEN i % 2 = 0 THEN ' was great' ELSE ' was awful' END AS t
	FROM generate_series(1, 400) i;
CREATE TABLE par_serial AS SELECT id, sst2_classify(t) AS c FROM par;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT id, sst2_classify(t) FROM par;
CREATE FUNCTION workers_launched(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || q INTO plan;
	RETURN (plan->0->'Plan'->>'Workers Launched')::int;
END $$;
SELECT workers_launched('SELECT id, sst2_classify(t) FROM par') AS workers_launched;
CREATE TABLE par_parallel AS SELECT id, sst2_classify(t) AS c FROM par;
SELECT count(*) AS rows, count(*) FILTER (WHERE p.c IS DISTINCT FROM s.c) AS mismatches  -- one row at a time: bit-identical
FROM par_parallel p JOIN par_serial s USING (id);
RESET ALL;

#!/usr/bin/env bash
# scripts/shards.sh: sst2 across servers, on one machine.  A coordinator and N
# shard clusters (SST2_SHARDS, default 2), each its own PostgreSQL cluster with
# its own port and socket under $SST2_WORK/shards, each shard pinned to its own
# core when the machine has as many; sst2 and the model (SST2_MODEL, default
# models/sst2-mini) on every shard, postgres_fdw on the coordinator, which
# itself has NO model: anything the coordinator tried to classify would be an
# ERROR.  Loads the 872 SST-2 dev sentences through the coordinator (they land
# classified on the shards) and runs the queries of README "More than one
# server".
#
#   bash scripts/shards.sh            set up, load, run the recipe, stop
#   SST2_KEEP=1 bash scripts/shards.sh   leave the clusters running
#   source scripts/shards.sh          just the functions (test/sql/shards.sh, bench)
#
# Ports: the coordinator on $SST2_PGPORT, shard k on $SST2_PGPORT + k.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SHARDS_BASE_PORT=$SST2_PGPORT
SHARDS_DIRS=()

# The connection string of shard K (1-based) or of the coordinator (0).
node_psql() { # K psql-args...
	local k=$1; shift
	local name=coord; [ "$k" -gt 0 ] && name=shard$k
	psql -X -q -v ON_ERROR_STOP=1 -h "$SST2_WORK/shards/$name/run" -p $((SHARDS_BASE_PORT + k)) \
		-U "$PGUSER" -d postgres "$@"
}
coord() { node_psql 0 "$@"; }

# Start the coordinator and N shards; shard k pinned to core (k-1) when the
# machine has at least N cores.
shards_up() { # N MODEL
	local n=$1 model=$2 k cpus ncpu
	ncpu=$(nproc)
	SHARDS_N=$n
	SST2_PGPORT=$SHARDS_BASE_PORT start_cluster shards/coord ""
	SHARDS_DIRS+=("$CLUSTER_DIR")
	for k in $(seq 1 "$n"); do
		cpus=""
		if [ "$ncpu" -ge "$n" ] && command -v taskset >/dev/null; then cpus=$((k - 1)); fi
		SST2_PGPORT=$((SHARDS_BASE_PORT + k)) start_cluster "shards/shard$k" "$model" "$cpus"
		SHARDS_DIRS+=("$CLUSTER_DIR")
	done
	export PGHOST="$SST2_WORK/shards/coord/run" PGPORT=$SHARDS_BASE_PORT
}

shards_down() {
	local d
	for d in "${SHARDS_DIRS[@]}"; do stop_cluster_dir "$d"; done
	SHARDS_DIRS=()
}

# The schema of README "More than one server": on every shard the table, the
# trigger that classifies rows where they are written, and the views; on the
# coordinator the servers, the partitioned reviews over foreign partitions
# and the per-shard aggregates.
shards_schema() {
	local n=$SHARDS_N k parts="" unions="" backfills=""
	for k in $(seq 1 "$n"); do
		node_psql "$k" <<'SQL'
CREATE EXTENSION sst2;
CREATE TABLE reviews (id bigint PRIMARY KEY, review text NOT NULL, label text, score real);
CREATE TRIGGER tag BEFORE INSERT OR UPDATE ON reviews
	FOR EACH ROW EXECUTE FUNCTION sst2_tag('review', 'label', 'score');
-- classified now, by the model: the scalar forms, one text at a time
CREATE VIEW reviews_scored AS
	SELECT id, review, sst2_label(review) AS label, sst2_score(review) AS score FROM reviews;
-- the same, batched: the window form classifies sst2.batch_size rows per forward pass
CREATE VIEW reviews_classified AS
	SELECT id, review, (c).label, (c).score
	FROM (SELECT id, review, sst2_classify_window(review) OVER () AS c FROM reviews) s;
-- counts per label of this shard, computed here
CREATE VIEW label_counts AS
	SELECT sst2_label(review) AS label, count(*) AS n FROM reviews GROUP BY 1;
-- bulk write: classify the rows that have no label yet, batched (the window
-- form), and store label and score; reading the view runs it.  Names are
-- schema-qualified: postgres_fdw's sessions run with search_path = pg_catalog.
CREATE FUNCTION reviews_backfill() RETURNS bigint LANGUAGE sql VOLATILE AS $$
	WITH c AS (SELECT id, public.sst2_classify_window(review) OVER () AS r
	           FROM public.reviews WHERE label IS NULL),
	     u AS (UPDATE public.reviews t SET label = (c.r).label, score = (c.r).score
	           FROM c WHERE t.id = c.id RETURNING 1)
	SELECT count(*) FROM u $$;
CREATE VIEW reviews_backfill AS SELECT reviews_backfill() AS n;
SQL
	done
	coord -c "CREATE EXTENSION sst2" -c "CREATE EXTENSION postgres_fdw"
	for k in $(seq 1 "$n"); do
		coord <<SQL
CREATE SERVER shard$k FOREIGN DATA WRAPPER postgres_fdw
	OPTIONS (host '$SST2_WORK/shards/shard$k/run', port '$((SHARDS_BASE_PORT + k))', dbname 'postgres',
	         extensions 'sst2', async_capable 'true', fetch_size '1000', batch_size '100');
CREATE USER MAPPING FOR CURRENT_USER SERVER shard$k OPTIONS (user '$PGUSER');
SQL
		parts+="CREATE FOREIGN TABLE reviews_$k PARTITION OF reviews FOR VALUES WITH (MODULUS $n, REMAINDER $((k - 1))) SERVER shard$k OPTIONS (table_name 'reviews');
CREATE FOREIGN TABLE reviews_scored_$k PARTITION OF reviews_scored FOR VALUES WITH (MODULUS $n, REMAINDER $((k - 1))) SERVER shard$k OPTIONS (table_name 'reviews_scored');
CREATE FOREIGN TABLE reviews_classified_$k PARTITION OF reviews_classified FOR VALUES WITH (MODULUS $n, REMAINDER $((k - 1))) SERVER shard$k OPTIONS (table_name 'reviews_classified');
CREATE FOREIGN TABLE label_counts_$k (label text, n bigint) SERVER shard$k OPTIONS (table_name 'label_counts');
CREATE FOREIGN TABLE reviews_backfill_$k (n bigint) SERVER shard$k OPTIONS (table_name 'reviews_backfill');
"
		[ -n "$unions" ] && unions+=" UNION ALL "
		unions+="SELECT label, n FROM label_counts_$k"
		[ -n "$backfills" ] && backfills+=" UNION ALL "
		backfills+="SELECT n FROM reviews_backfill_$k"
	done
	coord <<SQL
CREATE TABLE reviews (id bigint NOT NULL, review text NOT NULL, label text, score real) PARTITION BY HASH (id);
CREATE TABLE reviews_scored (id bigint, review text, label text, score real) PARTITION BY HASH (id);
CREATE TABLE reviews_classified (id bigint, review text, label text, score real) PARTITION BY HASH (id);
$parts
CREATE VIEW label_counts AS SELECT label, sum(n)::bigint AS n FROM ($unions) s GROUP BY label;
-- every shard classifies its unlabelled rows at once (async Append): rows written
CREATE VIEW reviews_backfill AS SELECT sum(n)::bigint AS n FROM ($backfills) s;
SQL
}

# Load the SST-2 dev sentences through the coordinator, ids 1.., REPEAT times
# (ids keep counting); the shards' trigger classifies each row as it lands.
shards_load() { # [REPEAT]
	local repeat=${1:-1}
	coord -c "CREATE TEMP TABLE dev (n serial, review text)" \
		-c "\\copy dev (review) FROM PROGRAM 'tail -n +2 $SST2_DATA/sst2/dev.tsv | cut -f1' WITH (FORMAT text)" \
		-c "INSERT INTO reviews (id, review)
			SELECT row_number() OVER (ORDER BY r, n), review FROM generate_series(1, $repeat) r, dev"
}

# The recipe's queries, as README "More than one server" shows them.
shards_recipe() {
	coord -e <<'SQL'
SET enable_partitionwise_aggregate = on;
SELECT count(*) FROM reviews;
SELECT label, count(*) FROM reviews GROUP BY label ORDER BY label;
SELECT count(*) FROM reviews WHERE sst2_label(review) = 'NEGATIVE';
SELECT id, label, round(score::numeric, 4) AS score FROM reviews_scored WHERE id <= 3 ORDER BY id;
SELECT * FROM label_counts ORDER BY label;
SELECT label, count(*), round(avg(score)::numeric, 4) AS avg_score FROM reviews_classified GROUP BY label ORDER BY label;
UPDATE reviews SET label = NULL, score = NULL WHERE id % 10 = 0;
SELECT * FROM reviews_backfill;
SELECT count(*) FILTER (WHERE label IS NULL) AS unlabelled FROM reviews;
INSERT INTO reviews (id, review) VALUES (100001, 'a gorgeous , witty , seductive movie .') RETURNING id, label, round(score::numeric, 4) AS score;
DELETE FROM reviews WHERE id = 100001;
SQL
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	build_install
	shards_up "${SST2_SHARDS:-2}" "${SST2_MODEL:-$ROOT/models/sst2-mini}"
	[ "${SST2_KEEP:-0}" = 1 ] || trap shards_down EXIT
	shards_schema
	shards_load 1
	shards_recipe
fi

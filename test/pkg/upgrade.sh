#!/usr/bin/env bash
# pg_upgrade from PostgreSQL 15 to 17 keeps sst2's data: a cluster with a
# table whose sst2_result column is GENERATED ... STORED and a table tagged by
# the sst2_tag trigger (the 872 SST-2 dev sentences in each, plus a marker row
# whose label no model gives) is upgraded with Debian's pg_upgradecluster
# (-m upgrade: pg_upgrade); after it every row and every label is the same,
# and new rows are classified and tagged by 17.
#
# Route, Debian packages only: a trixie root (scripts/matrix.sh's, PostgreSQL 17
# from trixie) into which bookworm is added as a second suite for
# postgresql-15 and postgresql-server-dev-15 (Debian 12's own 15, as on the
# machine a user upgrades from); sst2 is built and installed for both majors
# there.  Needs root and the archive (apt-get update in the copy).
#   bash test/pkg/upgrade.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)

if [ "${SST2_UPGRADE_INSIDE:-0}" != 1 ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (it makes and enters a Debian root)"; exit 77; }
	export SST2_WORK=${SST2_WORK:-/tmp/sst2-work}
	bash "$SRC/scripts/matrix.sh" --root 17 >/dev/null
	copy=$(bash "$SRC/scripts/root.sh" new pg17 upgrade-15-17)
	trap 'bash "$SRC/scripts/root.sh" clean upgrade-15-17' EXIT
	mkdir -p "$copy/build"
	(cd "$SRC" && git ls-files -co --exclude-standard -z | grep -zv '^test/oracle/node_modules/' |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | (mkdir -p "$copy/build/sst2" && tar -C "$copy/build/sst2" -xf -)
	bash "$SRC/scripts/root.sh" run upgrade-15-17 --env SST2_UPGRADE_INSIDE=1 \
		--env "SST2_PGPORT=${SST2_PGPORT:-54329}" -- bash /build/sst2/test/pkg/upgrade.sh
	exit
fi

# ---- inside the root
export DEBIAN_FRONTEND=noninteractive
cd /build/sst2
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
# bookworm from the same mirror as the root's own suite
mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list)
echo "deb $mirror bookworm main" >/etc/apt/sources.list.d/bookworm.list
echo "==> apt-get install postgresql-15 postgresql-server-dev-15 (bookworm, from $mirror)"
apt-get update -qq >/dev/null
apt-get install -y -qq postgresql-15 postgresql-server-dev-15 >/dev/null
for v in 15 17; do
	echo "==> sst2 for $(/usr/lib/postgresql/$v/bin/pg_config --version): make install"
	make -s clean >/dev/null 2>&1 || true
	make -s -j2 PG_CONFIG=/usr/lib/postgresql/$v/bin/pg_config >/dev/null
	make -s install PG_CONFIG=/usr/lib/postgresql/$v/bin/pg_config >/dev/null
done

MODEL=/build/sst2/models/sst2-mini
PORT=${SST2_PGPORT:-54329}
# clusters the packages made (17/main, 15/main) make way for ours; only Unix sockets
for v in 15 17; do pg_dropcluster --stop $v main 2>/dev/null || true; done
pg_createcluster 15 main -p "$PORT" --locale C.UTF-8 >/dev/null
# written into the file, not with -o (which quotes the value a second time: listen_addresses
# became the host name "''")
printf "listen_addresses = ''\nsst2.model_path = '%s'\n" "$MODEL" >>/etc/postgresql/15/main/postgresql.conf
pg_ctlcluster 15 main start
export PGHOST=/var/run/postgresql PGPORT=$PORT PGUSER=postgres PGDATABASE=up
q() { runuser -u postgres -- psql -X -At -v ON_ERROR_STOP=1 -h $PGHOST -p $PGPORT "$@"; }
q -d postgres -c "CREATE DATABASE up"
chmod -R a+rX /build/sst2/test/data "$MODEL"
q <<SQL
CREATE EXTENSION sst2;
CREATE TEMP TABLE raw (line text);
\copy raw FROM '/build/sst2/test/data/sst2/dev.tsv' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
CREATE TEMP TABLE dev AS
	SELECT (row_number() OVER ())::int AS id, split_part(line, E'\t', 1) AS sentence
	FROM raw WHERE line <> E'sentence\tlabel';
CREATE TABLE gen (id int PRIMARY KEY, sentence text NOT NULL,
	sentiment sst2_result GENERATED ALWAYS AS (sst2_classify(sentence)) STORED);
INSERT INTO gen (id, sentence) SELECT id, sentence FROM dev;
CREATE TABLE trig (id int PRIMARY KEY, sentence text NOT NULL, label text, score real);
CREATE TRIGGER tag BEFORE INSERT OR UPDATE ON trig FOR EACH ROW
	EXECUTE FUNCTION sst2_tag('sentence', 'label', 'score');
INSERT INTO trig (id, sentence) SELECT id, sentence FROM dev;
ALTER TABLE trig DISABLE TRIGGER tag;
UPDATE trig SET label = 'MARKER' WHERE id = 1;
ALTER TABLE trig ENABLE TRIGGER tag;
SQL
# state: rows, label counts and a digest of every row, of both tables
state() {
	q -c "SELECT 'gen', count(*), count(*) FILTER (WHERE (sentiment).label = 'POSITIVE'),
		md5(string_agg(g::text, E'\n' ORDER BY id)) FROM gen g" \
		-c "SELECT 'trig', count(*), count(*) FILTER (WHERE label = 'POSITIVE'),
		md5(string_agg(t::text, E'\n' ORDER BY id)) FROM trig t"
}
before=$(state)
echo "PostgreSQL 15 before (table|rows|POSITIVE|md5 of all rows):"; echo "$before"

echo "==> pg_upgradecluster -v 17 -m upgrade 15 main (pg_upgrade)"
t0=$SECONDS
pg_upgradecluster -v 17 -m upgrade --start 15 main >/build/upgrade.log 2>&1 || { tail -n 40 /build/upgrade.log; bad "pg_upgradecluster"; }
echo "upgraded in $((SECONDS - t0)) s"
grep -E 'Performing Upgrade|Upgrade Complete|Success' /build/upgrade.log | head -n 5 || true
pg_lsclusters
export PGPORT=$(pg_lsclusters -h | awk '$1 == 17 && $2 == "main" { print $3 }')
after=$(state)
echo "PostgreSQL 17 after:"; echo "$after"
[ "$(q -c 'SHOW server_version_num')" -ge 170000 ] && ok "the cluster is PostgreSQL 17 now" || bad "not 17"
[ "$before" = "$after" ] && ok "every row and label of gen and trig is the same after pg_upgrade" || bad "the data changed"
[ "$(q -c "SELECT label FROM trig WHERE id = 1")" = MARKER ] && ok "trig's marker row kept its label" || bad "marker row"
[ "$(q -c "SHOW sst2.model_path")" = "$MODEL" ] && ok "sst2.model_path carried over" || bad "sst2.model_path"
# 17 classifies new rows: the generated column and the trigger, and agrees with 15's results
q -c "INSERT INTO gen (id, sentence) SELECT 10000 + id, sentence FROM gen WHERE id <= 50" \
	-c "INSERT INTO trig (id, sentence) SELECT 10000 + id, sentence FROM trig WHERE id <= 50" >/dev/null
n=$(q -c "SELECT count(*) FROM gen a JOIN gen b ON b.id = a.id + 10000 WHERE a.sentiment = b.sentiment")
[ "$n" = 50 ] && ok "17 classifies 50 new gen rows exactly as 15 did" || bad "new gen rows: $n of 50 equal"
n=$(q -c "SELECT count(*) FROM trig a JOIN trig b ON b.id = a.id + 10000 WHERE a.id > 1 AND (a.label, a.score) = (b.label, b.score)")
[ "$n" = 49 ] && ok "17's trigger tags 49 new rows exactly as 15's did (the marker row aside)" || bad "new trig rows: $n of 49 equal"
q -c "SELECT extversion FROM pg_extension WHERE extname = 'sst2'" | sed 's/^/sst2 extension version: /'
pg_ctlcluster 17 main stop
if [ $fails = 0 ]; then echo "PASS: pg_upgrade 15 -> 17 kept every row and label"; echo "1 passed, 0 failed, 0 skipped"
else echo "FAIL: pg_upgrade 15 -> 17"; echo "0 passed, 1 failed, 0 skipped"; exit 1; fi

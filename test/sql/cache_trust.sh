#!/usr/bin/env bash
# Trust in the fp32 cache of an F16 checkpoint (issue 13), sst2-mini:
#  a. a cache file with the right header and zeros after its first 4,096
#     bytes (same size) is not trusted: results are the correct ones (it is
#     rebuilt), never (NEGATIVE,0.5);
#  b. sst2.cache_dir writable by other users (777 or 1777): ERROR 55000 saying
#     so, with a hint to chmod 700 it;
#  c. in a proper cache dir (0700, the server's OS user), a cache file owned
#     by another OS user (nobody) or with mode 0666 is not used: results are
#     correct and the file is replaced by one the server's user owns, with no
#     group/other write bit.
# The planted files in (c) have the right content, so only the ownership and
# mode checks can reject them.
source "$(dirname "$0")/hostile_lib.bash"
[ -f "${SST2_MINI_MODEL:-/nonexistent}/model.safetensors" ] || { echo "FAIL: SST2_MINI_MODEL is not a model folder"; exit 1; }
hl_init cache_trust
SRV_USER=$(stat -c %U "$(q -c 'SHOW data_directory')")
cachedir() { mkdir -p "$1"; chown "$SRV_USER" "$1" 2>/dev/null; chmod "${2:-700}" "$1"; }
TEXTS="SELECT i, CASE i % 3 WHEN 0 THEN 'a great movie ' || i WHEN 1 THEN 'dull and far too long ' || i ELSE 'it is fine ' || i END AS t FROM generate_series(1, 20) i"
# results in a backend that uses cache dir D: "n|correct|all (NEGATIVE,0.5)"
results() {
	q <<SQL | grep '^res'
SET sst2.model_path = '$SST2_MINI_MODEL';
SET sst2.cache_dir = '$1';
SELECT 'res', count(*), count(*) FILTER (WHERE (c).label = e.label AND abs((c).score - e.score) < 1e-5),
	   bool_and((c).label = 'NEGATIVE' AND (c).score = 0.5)
FROM (SELECT i, sst2_classify(t) AS c FROM ($TEXTS) s) s JOIN expected e USING (i);
SQL
}
cachedir "$T/ref"
q <<SQL >/dev/null
SET sst2.model_path = '$SST2_MINI_MODEL';
SET sst2.cache_dir = '$T/ref';
CREATE TABLE expected AS SELECT i, (c).label, (c).score FROM (SELECT i, sst2_classify(t) AS c FROM ($TEXTS) s) s;
SQL
REF=$(ls "$T/ref" | head -n 1)
[ -n "$REF" ] || { echo "FAIL: no cache file written into $T/ref"; exit 1; }
echo "cache file: $REF ($(stat -c '%s bytes, %U, %a' "$T/ref/$REF"))"
check "(precondition) the expected results vary" "$(q -c "SELECT count(DISTINCT label) FROM expected")" 2

# a. header kept, data zeroed (in place: same owner, mode and size)
cachedir "$T/a"
results "$T/a" >/dev/null
f="$T/a/$REF"
[ -f "$f" ] || echo "FAIL: no cache file $f"
/usr/bin/python3 -c "
import os, sys
f = sys.argv[1]; n = os.path.getsize(f)
with open(f, 'r+b') as h:
    h.seek(4096); h.write(bytes(n - 4096))
" "$f"
check "a. zeroed cache file: results correct (rebuilt)" "$(results "$T/a")" "res|20|20|f"

# b. a cache dir other users can write
for mode in 777 1777; do
	cachedir "$T/b$mode" $mode
	out=$(q -c "SET sst2.model_path = '$SST2_MINI_MODEL'" -c "SET sst2.cache_dir = '$T/b$mode'" -c "SELECT sst2_classify('a great movie')")
	check_re "b. cache_dir mode $mode: ERROR 55000 saying it is writable by others" "$(grep ERROR <<<"$out")" "ERROR:  55000: .*writable"
	check_re "b. cache_dir mode $mode: a hint to chmod 700 it" "$(grep HINT <<<"$out")" "HINT: .*chmod 700"
	check "b. cache_dir mode $mode: nothing written into it" "$(ls -A "$T/b$mode" | wc -l)" 0
done

# c. a good cache file owned by nobody, or mode 0666
for how in nobody 0666; do
	d="$T/c$how"; cachedir "$d"
	cp "$T/ref/$REF" "$d/$REF"
	if [ "$how" = nobody ]; then chown nobody "$d/$REF"; chmod 644 "$d/$REF"; else chown "$SRV_USER" "$d/$REF"; chmod 666 "$d/$REF"; fi
	check "c. cache file planted ($how): results correct" "$(results "$d")" "res|20|20|f"
	check_re "c. cache file planted ($how): now owned by $SRV_USER, no group/other write" \
		"$(stat -c '%U %A' "$d/$REF" 2>&1)" "^$SRV_USER -.{4}-..-."
done
no_crash "cache trust"
hl_done cache_trust

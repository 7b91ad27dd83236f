#!/usr/bin/env bash
# readme_sql.sh DIR [README]: write every ```sql block of README.md, in order, to
# DIR/01.sql, DIR/02.sql, ... and print one line per block: "NN WHERE LINE", where WHERE
# is the word of a "<!-- readme-sql: WHERE -->" line right before the block (where the
# README says the block runs: shard, coordinator) or "server" (the one server of the
# examples), and LINE the block's first line number in README.md.
set -euo pipefail
dir=${1:?usage: readme_sql.sh DIR [README]}
readme=${2:-$(cd "$(dirname "$0")/../.." && pwd)/README.md}
mkdir -p "$dir"
awk -v dir="$dir" '
	/^<!-- readme-sql: [a-z]+ -->$/ { where = $3; next }
	!inblock && /^```sql *$/ { inblock = 1; n++; f = sprintf("%s/%02d.sql", dir, n); printf "" >f
		printf "%02d %s %d\n", n, (where == "" ? "server" : where), NR + 1; where = ""; next }
	inblock && /^```/ { inblock = 0; close(f); next }
	inblock { print >f; next }
	/^[^ \t]/ { where = "" }
	END { if (inblock) { print "readme_sql.sh: unterminated sql block" >"/dev/stderr"; exit 1 } }
' "$readme"

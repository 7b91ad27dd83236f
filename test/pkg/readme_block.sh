#!/usr/bin/env bash
# readme_block.sh NAME [README]: print, verbatim, the fenced code block that
# follows the marker line "<!-- readme-test: NAME -->" in README.md, so tests
# run the commands a user reads. Fails when the marker or its block is missing.
set -euo pipefail
name=${1:?usage: readme_block.sh NAME [README]}
readme=${2:-$(cd "$(dirname "$0")/../.." && pwd)/README.md}
awk -v marker="<!-- readme-test: $name -->" '
	$0 == marker { found = 1; next }
	found == 1 && /^```/ { found = 2; next }
	found == 2 && /^```/ { done = 1; exit }
	found == 2 { print }
	END { exit done ? 0 : 1 }
' "$readme" || { echo "readme_block.sh: no fenced block after '<!-- readme-test: $name -->' in $readme" >&2; exit 1; }

#!/usr/bin/env bash
# SST2_ISA reaches bin/sst2: --info names each path this CPU has, the
# default is the widest one, and an unknown value or a path the CPU lacks is
# an error naming the value (exit 1), never a crash.
set -uo pipefail
cd "$(dirname "$0")/.."
M=${SST2_MINI_MODEL:-$(cd "$(dirname "$0")/.." && pwd)/models/sst2-mini}
[ -f "$M/config.json" ] || { echo "FAIL: $M is absent"; exit 1; }
fail=0
check() { # NAME COND-COMMAND...
	local name=$1; shift
	if "$@"; then echo "ok: $name"; else echo "FAIL: $name"; fail=1; fi
}
isa_of() { SST2_ISA=$1 ./bin/sst2 --info "$M" | sed -n 's/^ *"isa": *"\([a-z0-9]*\)".*/\1/p'; }

widest=generic
for isa in generic avx2 avx512; do
	if missing=$(./test/unit_isa --lacks $isa); then
		widest=$isa
		check "SST2_ISA=$isa: --info says $isa" [ "$(isa_of $isa)" = "$isa" ]
		out=$(echo "a great movie" | SST2_ISA=$isa ./bin/sst2 "$M")
		check "SST2_ISA=$isa: classifies ($out)" [ "${out%%	*}" = POSITIVE ]
	else
		err=$(SST2_ISA=$isa ./bin/sst2 --info "$M" 2>&1 >/dev/null); rc=$?
		ok=false; [ $rc = 1 ] && [[ $err == *"lacks $missing"* ]] && ok=true
		check "SST2_ISA=$isa on a CPU without $missing: exit 1 ($err)" $ok
	fi
done
check "no SST2_ISA: the widest path, $widest" [ "$(isa_of '')" = "$widest" ]
check "SST2_ISA=auto: $widest" [ "$(isa_of auto)" = "$widest" ]
for bad in bogus AVX2 " avx2"; do
	err=$(SST2_ISA=$bad ./bin/sst2 --info "$M" 2>&1 >/dev/null); rc=$?
	ok=false; [ $rc = 1 ] && [[ $err == *"is not a known instruction set (expected generic, avx2, avx512 or auto)"* ]] && ok=true
	check "SST2_ISA='$bad': exit 1, message ($err)" $ok
done
[ $fail = 0 ] && echo "PASS: isa_select"
exit $fail

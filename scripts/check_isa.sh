#!/usr/bin/env bash
# The build runs on any x86-64 CPU: no object of the extension or the CLI but
# the per-ISA kernels (src/gemm_avx2.o, src/gemm_avx512.o, src/qgemm_avx512.o,
# src/sgemm_avx512.o, src/act_avx512.o,
# only called after cpu.c's check) contains an instruction beyond the x86-64 baseline
# (SSE2): no VEX/EVEX instruction (v...), no ymm/zmm/mask register, no
# SSE3-4.2, BMI1/2, LZCNT, POPCNT or MOVBE instruction.  Then, in sst2.so,
# every function with such instructions is one defined in a kernel object.
# Also checks that the kernel objects do use their instruction sets (so the
# patterns match what the compiler emits).
#
#   scripts/check_isa.sh [ROOT]      (after make all core)
set -euo pipefail
ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$ROOT"
KERNELS="src/gemm_avx2.o src/gemm_avx512.o src/qgemm_avx512.o src/sgemm_avx512.o src/act_avx512.o"

# registers and mnemonics (AT&T syntax, objdump -d) beyond x86-64 baseline
REGS='%[yz]mm[0-9]|%k[0-7]([^0-9]|$)'
MNEM='v[a-z0-9]+|andn|bextr|blsi|blsmsk|blsr|bzhi|mulx|pdep|pext|rorx|sarx|shlx|shrx|tzcnt|lzcnt|popcnt|movbe|crc32[bwlq]?'
MNEM="$MNEM"'|pshufb|palignr|pabs[bwd]|phadd[wd]|phsub[wd]|pmaddubsw|pmulhrsw|psign[bwd]'		# SSSE3
MNEM="$MNEM"'|addsubp[sd]|hadd[ps][sd]|hsubp[sd]|movs[hl]dup|movddup|lddqu'					# SSE3
MNEM="$MNEM"'|ptest|round[ps][sd]|blendv?p[sd]|pblend(vb|w)|dpp[sd]|insertps|extractps|pmulld|pmuldq'	# SSE4.1
MNEM="$MNEM"'|pmin[su][bdw]|pmax[su][bdw]|pminud|pmaxud|pextr[bdq]|pinsr[bdq]|pmov[sz]x[bwd][wdq]|packusdw|pcmpeqq|phminposuw|mpsadbw|movntdqa|pcmpgtq|pcmp[ei]str[im]'

# objdump OBJ: the lines with such instructions, "function: instruction"
beyond_baseline() {
	objdump -d --no-show-raw-insn "$1" | awk -v regs="$REGS" -v mnem="^($MNEM)$" '
		/^[0-9a-f]+ <.*>:$/ { fn = $2; sub(/^</, "", fn); sub(/>:$/, "", fn); next }
		/^ +[0-9a-f]+:\t/ {
			split($0, f, "\t"); ins = f[2]; split(ins, w, " "); op = w[1]
			if (op ~ /^(rex|lock|rep|repz|repnz|data16|notrack|bnd|cs|ds|es|ss|fs|gs)/ && w[2] != "") op = w[2]
			if (op ~ mnem || ins ~ regs) print fn ": " ins
		}'
}

fail=0
objs=$(ls src/*.o)
[ -n "$objs" ] && [ -f sst2.so ] || { echo "FAIL: build first (make all core)"; exit 1; }
n=0
for o in $objs; do
	case " $KERNELS " in *" $o "*) continue ;; esac
	n=$((n + 1))
	bad=$(beyond_baseline "$o" | sort | uniq -c | sort -rn)
	if [ -n "$bad" ]; then
		echo "FAIL: $o has instructions beyond x86-64 baseline (count function: instruction):"
		head -n 10 <<<"$bad"
		fail=1
	fi
done
echo "$n non-kernel objects checked"

# the patterns must match what the kernels contain
grep -q '%ymm' <(objdump -d src/gemm_avx2.o) || { echo "FAIL: src/gemm_avx2.o has no ymm instruction: is the avx2 kernel built?"; fail=1; }
grep -q '%zmm' <(objdump -d src/gemm_avx512.o) || { echo "FAIL: src/gemm_avx512.o has no zmm instruction: is the avx512 kernel built?"; fail=1; }
grep -q '%zmm' <(objdump -d src/sgemm_avx512.o) || { echo "FAIL: src/sgemm_avx512.o has no zmm instruction: is the packed fp32 kernel built?"; fail=1; }
grep -q 'vpdpbusd' <(objdump -d src/qgemm_avx512.o) || { echo "FAIL: src/qgemm_avx512.o has no vpdpbusd: is the int8 kernel built?"; fail=1; }
grep -q 'vdpbf16ps' <(objdump -d src/qgemm_avx512.o) || { echo "FAIL: src/qgemm_avx512.o has no vdpbf16ps: is the bf16 kernel built?"; fail=1; }

# sst2.so: functions with such instructions are all defined in a kernel object
allowed=$(nm --defined-only $KERNELS | awk 'NF == 3 && $2 ~ /[tT]/ {print $3}' | sort -u)
for bin in sst2.so bin/sst2; do
	[ -f "$bin" ] || continue
	fns=$(beyond_baseline "$bin" | cut -d: -f1 | sed 's/[.+].*//' | sort -u)
	extra=$(comm -23 <(echo "$fns") <(echo "$allowed") | grep -v '^$' || true)
	if [ -n "$extra" ]; then
		echo "FAIL: $bin: functions outside the kernel objects with instructions beyond x86-64 baseline:"
		head -n 10 <<<"$extra"
		fail=1
	fi
	echo "$bin: functions beyond baseline: $(echo $fns)"
done
[ $fail = 0 ] && echo "PASS: isa_baseline: only the per-ISA gemm kernels go beyond x86-64 baseline"
exit $fail

/*
 * fma_peak.c
 *	  The core's own single-precision limit, independent of any library:
 *	  12 independent chains of fused multiply-adds on full vectors
 *	  (12 x 16 lanes x 2 flops per step with AVX-512, 12 x 8 x 2 with AVX2),
 *	  enough chains to cover the FMA latency on every current x86-64 core
 *	  with two FMA pipes (4 cycles x 2 pipes = 8 in flight; 12 leave slack).
 *	  Runs in registers only: no loads, no stores, no memory.
 *
 *	  fma_peak [--min-time SEC] [--reps R]
 *	    --min-time  seconds per repetition (default 0.3)
 *	    --reps      repetitions (default 5); best and median are reported
 *
 *	  Prints one JSON object per instruction set the CPU has on stdout:
 *	  {"kind":"fma_peak","isa":"avx512","chains":12,"gflops":..,"gflops_median":..}
 *	  Pin it yourself (taskset -c 1).  The figure is the ceiling the fp32
 *	  products are measured against (bench/README.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <immintrin.h>

#include "bench_util.h"

#define CHAINS 12

/*
 * n steps of CHAINS independent FMA chains on 512-bit (zmm) or 256-bit (ymm)
 * registers.  The loop is written in assembly so that no compiler can keep
 * the chains in memory or merge them: exactly 12 vfmadd231ps per step, one
 * loop counter, nothing else.
 */
#define STEP(r) "vfmadd231ps %%" r "13, %%" r "14, %%" r

__attribute__((target("avx512f"), noinline)) static void
chains512(long n)
{
	__asm__ volatile(
		"vxorps %%xmm13, %%xmm13, %%xmm13\n\t"
		"vxorps %%xmm14, %%xmm14, %%xmm14\n\t"
		"1:\n\t"
		STEP("zmm") "0\n\t" STEP("zmm") "1\n\t" STEP("zmm") "2\n\t"
		STEP("zmm") "3\n\t" STEP("zmm") "4\n\t" STEP("zmm") "5\n\t"
		STEP("zmm") "6\n\t" STEP("zmm") "7\n\t" STEP("zmm") "8\n\t"
		STEP("zmm") "9\n\t" STEP("zmm") "10\n\t" STEP("zmm") "11\n\t"
		"dec %0\n\t"
		"jnz 1b\n\t"
		: "+r"(n)
		:
		: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
		  "xmm8", "xmm9", "xmm10", "xmm11", "xmm13", "xmm14", "cc");
}

/* The same with ymm (AVX2 + FMA). */
__attribute__((target("avx2,fma"), noinline)) static void
chains256(long n)
{
	__asm__ volatile(
		"vxorps %%xmm13, %%xmm13, %%xmm13\n\t"
		"vxorps %%xmm14, %%xmm14, %%xmm14\n\t"
		"1:\n\t"
		STEP("ymm") "0\n\t" STEP("ymm") "1\n\t" STEP("ymm") "2\n\t"
		STEP("ymm") "3\n\t" STEP("ymm") "4\n\t" STEP("ymm") "5\n\t"
		STEP("ymm") "6\n\t" STEP("ymm") "7\n\t" STEP("ymm") "8\n\t"
		STEP("ymm") "9\n\t" STEP("ymm") "10\n\t" STEP("ymm") "11\n\t"
		"dec %0\n\t"
		"jnz 1b\n\t"
		: "+r"(n)
		:
		: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
		  "xmm8", "xmm9", "xmm10", "xmm11", "xmm13", "xmm14", "cc");
}

/* Time one instruction set: best and median GFLOP/s over reps. */
static void
run(const char *isa, void (*fn) (long), int lanes, double min_time, int reps)
{
	double		flops_per_step = 2.0 * lanes * CHAINS,
				g[64],
				t;
	long		n = 1 << 20;

	/* grow n until one call takes min_time (this also warms the clock up) */
	for (;;)
	{
		t = now();
		fn(n);
		t = now() - t;
		if (t >= min_time)
			break;
		n = t > 0.01 ? (long) (n * min_time / t * 1.05) : n * 4;
	}
	for (int r = 0; r < reps; r++)
	{
		t = now();
		fn(n);
		g[r] = flops_per_step * n / (now() - t) / 1e9;
	}
	qsort(g, reps, sizeof(double), cmp_double);
	printf("{\"kind\":\"fma_peak\",\"isa\":\"%s\",\"chains\":%d,\"lanes\":%d,"
		   "\"gflops\":%.1f,\"gflops_median\":%.1f}\n",
		   isa, CHAINS, lanes, g[reps - 1], g[reps / 2]);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	double		min_time = 0.3;
	int			reps = 5;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--min-time") == 0 && i + 1 < argc)
			min_time = atof(argv[++i]);
		else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			reps = atoi(argv[++i]);
		else
		{
			fprintf(stderr, "usage: fma_peak [--min-time SEC] [--reps R]\n");
			return 2;
		}
	}
	if (reps < 1 || reps > 64 || !(min_time > 0))
	{
		fprintf(stderr, "fma_peak: --reps must be 1..64 and --min-time positive\n");
		return 2;
	}
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		run("avx512", chains512, 16, min_time, reps);
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		run("avx2", chains256, 8, min_time, reps);
	return 0;
}

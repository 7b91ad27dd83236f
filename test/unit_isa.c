/*
 * unit_isa.c
 *	  Unit tests of the run-time instruction set choice (cpu.c) and of the
 *	  gemm kernel built for each instruction set (gemm_kernel.h).
 *
 *	  unit_isa              run the tests
 *	  unit_isa --lacks ISA  print the first CPU feature ISA needs that this
 *	                        CPU lacks (exit 1), or nothing (exit 0): for
 *	                        scripts/test.sh, which runs the model tests once
 *	                        per path this CPU has
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "gemm.h"
#include "test_util.h"

typedef void (*gemm_fn) (float *, int, const float *, int, const float *, int,
						 const float *, int, int, int);

static const gemm_fn kernels[SST2_ISA_COUNT] = {
	sst2_gemm_nt_generic, sst2_gemm_nt_avx2, sst2_gemm_nt_avx512
};

#define ALL_FEATURES (SST2_CPU_AVX2 | SST2_CPU_FMA | SST2_CPU_AVX512F | \
					  SST2_CPU_AVX512DQ | SST2_CPU_AVX512VL)

/* Resolve value on a CPU with features; check the path or the error text. */
static void
expect_resolve(const char *value, unsigned features, int want_isa, const char *want_msg)
{
	sst2_isa	isa = SST2_ISA_COUNT;
	sst2_error	err = {0};
	sst2_status st = sst2_isa_resolve(value, features, &isa, &err);

	if (want_msg)
		CHECK(st == SST2_ERR_CONFIG && strstr(err.msg, want_msg) && isa == SST2_ISA_GENERIC,
			  "SST2_ISA=%s, features 0x%x: want an error containing \"%s\", got status %d \"%s\"",
			  value ? value : "(unset)", features, want_msg, (int) st, err.msg);
	else
		CHECK(st == SST2_OK && (int) isa == want_isa,
			  "SST2_ISA=%s, features 0x%x: want %s, got status %d, %s \"%s\"",
			  value ? value : "(unset)", features, sst2_isa_label(want_isa), (int) st,
			  sst2_isa_label(isa), err.msg);
}

/* The choice of path for SST2_ISA values on made-up CPUs. */
static void
test_resolve(void)
{
	const unsigned avx2 = SST2_CPU_AVX2 | SST2_CPU_FMA;

	/* unset, empty, auto: the fastest path the CPU has */
	expect_resolve(NULL, ALL_FEATURES, SST2_ISA_AVX512, NULL);
	expect_resolve("", ALL_FEATURES, SST2_ISA_AVX512, NULL);
	expect_resolve("auto", avx2, SST2_ISA_AVX2, NULL);
	expect_resolve(NULL, 0, SST2_ISA_GENERIC, NULL);
	expect_resolve(NULL, SST2_CPU_AVX2, SST2_ISA_GENERIC, NULL);	/* no FMA */
	expect_resolve(NULL, ALL_FEATURES & ~SST2_CPU_AVX512VL, SST2_ISA_AVX2, NULL);
	expect_resolve(NULL, ALL_FEATURES & ~SST2_CPU_FMA, SST2_ISA_GENERIC, NULL);

	/* forced paths */
	expect_resolve("generic", ALL_FEATURES, SST2_ISA_GENERIC, NULL);
	expect_resolve("avx2", ALL_FEATURES, SST2_ISA_AVX2, NULL);
	expect_resolve("avx512", ALL_FEATURES, SST2_ISA_AVX512, NULL);
	expect_resolve("generic", 0, SST2_ISA_GENERIC, NULL);

	/* a path the CPU lacks names the missing feature */
	expect_resolve("avx512", avx2, -1, "SST2_ISA=avx512 asks for a path this CPU cannot run: it lacks avx512f");
	expect_resolve("avx512", ALL_FEATURES & ~SST2_CPU_AVX512DQ, -1, "lacks avx512dq");
	expect_resolve("avx512", ALL_FEATURES & ~SST2_CPU_AVX512VL, -1, "lacks avx512vl");
	expect_resolve("avx2", 0, -1, "lacks avx2");
	expect_resolve("avx2", SST2_CPU_AVX2, -1, "lacks fma");

	/* unknown values */
	expect_resolve("sse", ALL_FEATURES, -1,
				   "SST2_ISA=\"sse\" is not a known instruction set (expected generic, avx2, avx512 or auto)");
	expect_resolve("AVX2", ALL_FEATURES, -1, "is not a known instruction set");
	expect_resolve("avx2 ", ALL_FEATURES, -1, "is not a known instruction set");

	CHECK(sst2_isa_lacks(SST2_ISA_GENERIC, 0) == NULL, "generic needs nothing");
	CHECK(strcmp(sst2_isa_label(SST2_ISA_AVX512), "avx512") == 0, "label of avx512");
}

/* The path in use follows SST2_ISA of this process (or fails as resolve does). */
static void
test_current(void)
{
	const char *env = getenv("SST2_ISA");
	sst2_isa	want;
	sst2_error	err = {0},
				err2 = {0};
	sst2_status st = sst2_isa_resolve(env, sst2_cpu_features(), &want, &err);
	sst2_status got = sst2_isa_check(&err2);

	CHECK(got == st && strcmp(err.msg, err2.msg) == 0,
		  "sst2_isa_check: status %d \"%s\", want %d \"%s\"", (int) got, err2.msg, (int) st, err.msg);
	CHECK(sst2_isa_current() == want,
		  "path in use %s, want %s", sst2_isa_name(), sst2_isa_label(want));
	printf("SST2_ISA=%s: path in use %s%s%s\n", env ? env : "(unset)", sst2_isa_name(),
		   st != SST2_OK ? ", error: " : "", st != SST2_OK ? err2.msg : "");
}

/* Deterministic pseudo-random floats in [-1, 1). */
static float
frand(unsigned *s)
{
	*s = *s * 1664525u + 1013904223u;
	return (float) ((*s >> 8) & 0xffffff) / 8388608.0f - 1.0f;
}

/*
 * One product on kernel isa against a double-precision reference, with
 * strides larger than the rows and a guard value in the padding of y.
 * Returns false (after reporting) on the first wrong element.
 */
static bool
check_gemm(sst2_isa isa, int M, int N, int K, bool bias)
{
	const int	ldx = K + 3,
				ldw = K + 5,
				ldy = N + 2;
	float	   *x = malloc(sizeof(float) * M * ldx);
	float	   *w = malloc(sizeof(float) * N * ldw);
	float	   *b = malloc(sizeof(float) * N);
	float	   *y = malloc(sizeof(float) * M * ldy);
	unsigned	s = (unsigned) (M * 7919 + N * 104729 + K);
	bool		ok = true;

	for (int i = 0; i < M * ldx; i++)
		x[i] = frand(&s);
	for (int i = 0; i < N * ldw; i++)
		w[i] = frand(&s);
	for (int i = 0; i < N; i++)
		b[i] = frand(&s);
	for (int i = 0; i < M * ldy; i++)
		y[i] = 12345.0f;
	kernels[isa] (y, ldy, x, ldx, w, ldw, bias ? b : NULL, M, N, K);
	for (int i = 0; i < M && ok; i++)
	{
		for (int j = 0; j < ldy && ok; j++)
		{
			double		ref = 12345.0,
						mag = 0.0,
						got = y[(size_t) i * ldy + j];

			if (j < N)
			{
				ref = bias ? b[j] : 0.0;
				for (int k = 0; k < K; k++)
				{
					ref += (double) x[(size_t) i * ldx + k] * w[(size_t) j * ldw + k];
					mag += fabs((double) x[(size_t) i * ldx + k] * w[(size_t) j * ldw + k]);
				}
			}
			if (!(fabs(got - ref) <= 1e-6 * (mag + 1.0) * 4))
			{
				CHECK(false, "%s M=%d N=%d K=%d bias=%d: y[%d][%d] = %.9g, want %.9g",
					  sst2_isa_label(isa), M, N, K, bias, i, j, got, ref);
				ok = false;
			}
		}
	}
	free(x);
	free(w);
	free(b);
	free(y);
	return ok;
}

/* Every kernel this CPU can run, on shapes around its tile sizes and K chunking. */
static void
test_kernels(void)
{
	static const int Ms[] = {1, 2, 3, 4, 5, 6, 7, 12, 13, 25};
	static const int Ns[] = {1, 3, 4, 5, 9};
	static const int Ks[] = {1, 7, 8, 16, 17, 100, 768, 1601, 3072};
	unsigned	features = sst2_cpu_features();

	for (int isa = 0; isa < SST2_ISA_COUNT; isa++)
	{
		const char *missing = sst2_isa_lacks((sst2_isa) isa, features);
		int			n = 0,
					bad = 0;

		if (missing)
		{
			printf("SKIP: gemm kernel %s: this CPU lacks %s\n", sst2_isa_label(isa), missing);
			continue;
		}
		for (size_t a = 0; a < sizeof(Ms) / sizeof(*Ms); a++)
			for (size_t c = 0; c < sizeof(Ns) / sizeof(*Ns); c++)
				for (size_t d = 0; d < sizeof(Ks) / sizeof(*Ks); d++)
				{
					n++;
					if (!check_gemm((sst2_isa) isa, Ms[a], Ns[c], Ks[d], (a + c + d) % 2 == 0))
						bad++;
					else
						n_pass++;
				}
		printf("gemm kernel %s: %d shapes, %d wrong\n", sst2_isa_label(isa), n, bad);
	}
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--lacks") == 0)
	{
		sst2_isa	isa;
		sst2_error	err;

		/* "auto" is not a path: ask for one by name */
		if (strcmp(argv[2], "auto") == 0 ||
			sst2_isa_resolve(argv[2], ALL_FEATURES, &isa, &err) != SST2_OK)
		{
			fprintf(stderr, "unit_isa: unknown instruction set \"%s\"\n", argv[2]);
			return 2;
		}
		if (sst2_isa_lacks(isa, sst2_cpu_features()))
		{
			printf("%s\n", sst2_isa_lacks(isa, sst2_cpu_features()));
			return 1;
		}
		return 0;
	}
	test_resolve();
	test_current();
	test_kernels();
	printf("unit_isa: %d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}

/*
 * unit_isa.c
 *	  Unit tests of the run-time instruction set choice (cpu.c), of the
 *	  gemm kernel built for each instruction set (gemm_kernel.h), and of the
 *	  AVX-512 fp32 kernels on packed weights and attention (sgemm_avx512.c).
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
#include "sgemm.h"
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

/*
 * sst2_sgemm_packed_avx512 on W packed by sst2_sg_pack against a double
 * reference, with strides larger than the rows and a guard value in the
 * padding of y (no write may pass column N).
 */
static bool
check_packed(int M, int N, int K, bool bias)
{
	const int	ldx = K + 3,
				ldw = K + 5,
				ldy = N + 2;
	float	   *x = malloc(sizeof(float) * M * ldx);
	float	   *w = malloc(sizeof(float) * N * ldw);
	float	   *wp = aligned_alloc(64, (sst2_sg_pack_floats(N, K) * sizeof(float) + 63) / 64 * 64);
	float	   *b = malloc(sizeof(float) * N);
	float	   *y = malloc(sizeof(float) * M * ldy);
	float	   *scratch = aligned_alloc(64, SG_SCRATCH_FLOATS * sizeof(float));
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
	sst2_sg_pack(wp, w, ldw, N, K);
	sst2_sgemm_packed_avx512(y, ldy, x, ldx, wp, bias ? b : NULL, M, N, K,
							 scratch);
	for (int i = 0; i < M && ok; i++)
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
				CHECK(false, "packed M=%d N=%d K=%d bias=%d: y[%d][%d] = %.9g, want %.9g",
					  M, N, K, bias, i, j, got, ref);
				ok = false;
			}
		}
	free(x);
	free(w);
	free(wp);
	free(scratch);
	free(b);
	free(y);
	return ok;
}

/*
 * The attention products of one head (scores with scale, context) against
 * double references, rows of q, k, v, s and c strided as in the model.
 */
static bool
check_attention(int Lq, int L, int hd)
{
	const int	ld = hd * 3 + 16,
				lds = L + 1;
	float	   *q = malloc(sizeof(float) * Lq * ld),
			   *k = malloc(sizeof(float) * L * ld),
			   *v = malloc(sizeof(float) * L * ld),
			   *sc = malloc(sizeof(float) * Lq * lds),
			   *c = malloc(sizeof(float) * Lq * ld);
	unsigned	s = (unsigned) (Lq * 31 + L * 7 + hd);
	const float scale = 0.125f;
	bool		ok = true;

	for (int i = 0; i < Lq * ld; i++)
		q[i] = frand(&s);
	for (int i = 0; i < L * ld; i++)
	{
		k[i] = frand(&s);
		v[i] = frand(&s);
	}
	for (int i = 0; i < Lq * ld; i++)
		c[i] = 12345.0f;
	sst2_attn_scores_avx512(sc, lds, q, ld, k, ld, scale, Lq, L, hd);
	for (int i = 0; i < Lq && ok; i++)
		for (int j = 0; j < L && ok; j++)
		{
			double		ref = 0;

			for (int d = 0; d < hd; d++)
				ref += (double) q[i * ld + d] * k[j * ld + d];
			ref *= scale;
			if (!(fabs(sc[i * lds + j] - ref) <= 1e-6 * (hd + 1) * 4))
			{
				CHECK(false, "attention scores Lq=%d L=%d hd=%d: s[%d][%d] = %.9g, want %.9g",
					  Lq, L, hd, i, j, sc[i * lds + j], ref);
				ok = false;
			}
		}
	sst2_attn_context_avx512(c, ld, sc, lds, v, ld, Lq, L, hd);
	for (int i = 0; i < Lq && ok; i++)
		for (int d = 0; d < hd + 16 && ok; d++)
		{
			double		ref = 12345.0,
						mag = 0;

			if (d < hd)
			{
				ref = 0;
				for (int j = 0; j < L; j++)
				{
					ref += (double) sc[i * lds + j] * v[j * ld + d];
					mag += fabs((double) sc[i * lds + j] * v[j * ld + d]);
				}
			}
			if (!(fabs(c[i * ld + d] - ref) <= 1e-6 * (mag + 1.0) * 4))
			{
				CHECK(false, "attention context Lq=%d L=%d hd=%d: c[%d][%d] = %.9g, want %.9g",
					  Lq, L, hd, i, d, c[i * ld + d], ref);
				ok = false;
			}
		}
	free(q);
	free(k);
	free(v);
	free(sc);
	free(c);
	return ok;
}

/* The AVX-512 fp32 kernels, on shapes around their tiles, panels and blocks. */
static void
test_packed(void)
{
	static const int Ms[] = {1, 2, 5, 11, 12, 13, 25, 239, 241, 500};
	static const int Ns[] = {1, 17, 32, 33, 69};
	static const int Ks[] = {1, 7, 16, 17, 256, 257, 768, 1000, 3072};
	static const int Ls[][3] = {{1, 1, 16}, {1, 25, 64}, {25, 25, 64}, {7, 130, 64},
	{3, 5, 80}, {2, 9, 128}, {4, 3, 48}};
	int			n = 0,
				bad = 0;

	if (sst2_isa_lacks(SST2_ISA_AVX512, sst2_cpu_features()))
	{
		printf("SKIP: packed fp32 kernels: this CPU lacks %s\n",
			   sst2_isa_lacks(SST2_ISA_AVX512, sst2_cpu_features()));
		return;
	}
	for (size_t a = 0; a < sizeof(Ms) / sizeof(*Ms); a++)
		for (size_t c = 0; c < sizeof(Ns) / sizeof(*Ns); c++)
			for (size_t d = 0; d < sizeof(Ks) / sizeof(*Ks); d++)
			{
				/* the largest rows with the longest K only once: the reference is slow */
				if (Ms[a] > 25 && Ks[d] > 768 && Ns[c] != 33)
					continue;
				n++;
				if (!check_packed(Ms[a], Ns[c], Ks[d], (a + c + d) % 2 == 0))
					bad++;
				else
					n_pass++;
			}
	printf("packed fp32 kernel: %d shapes, %d wrong\n", n, bad);
	for (size_t i = 0; i < sizeof(Ls) / sizeof(*Ls); i++)
	{
		if (check_attention(Ls[i][0], Ls[i][1], Ls[i][2]))
			n_pass++;
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
	test_packed();
	printf("unit_isa: %d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}

/*
 * fp32_kernels.c
 *	  The fp32 products of the model on every candidate kernel, side by side
 *	  on the same core in the same run: y[M, N] = x[M, K] W[N, K]^T + b for
 *	  the shapes of DistilBERT's linear layers, (N, K) in (768, 768),
 *	  (3072, 768), (768, 3072), and M tokens from one short sentence to a
 *	  batch of 64.
 *
 *	    packed   sst2's own AVX-512 kernel on weights packed once
 *	             (src/sgemm_avx512.c; what the fp32 mode runs on AVX-512)
 *	    inplace  sst2_gemm_nt, W read where it lies (src/gemm_kernel.h)
 *	    openblas cblas_sgemm (OpenBLAS's dispatch: OPENBLAS_CORETYPE decides)
 *	    onednn   dnnl_sgemm (oneDNN; only when built with HAVE_DNNL)
 *
 *	  fp32_kernels [--min-time SEC] [--m M]... [--kernel NAME]...
 *	    --m M       a row count (default: 1 8 25 64 200 800 2000)
 *	    --kernel    only this kernel (packed, inplace, openblas, onednn)
 *	    --min-time  seconds per repetition (default 0.05); best of --reps (7)
 *	                reported: on a shared machine the best is the least disturbed
 *
 *	  One JSON object per kernel and shape on stdout, with "gflops" (best)
 *	  and "max_abs_diff" against a double-precision reference on 4 rows.
 *	  Time is the thread's CPU time, so that time slices lost to other
 *	  processes on a shared core do not count.  The weights of each shape are several MB (the model's 42 M linear
 *	  weights do not fit in cache either), and each call reads them anew.
 *	  Pin it yourself (taskset -c 1).
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
#ifdef HAVE_DNNL
#include <dnnl.h>
#endif

#include "bench_util.h"

/*
 * Seconds of CPU time of this thread: on a shared core the time the thread
 * was switched out does not count (wall time would).
 */
static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}
#include "cpu.h"
#include "gemm.h"
#include "sgemm.h"

static float *
rand_matrix(size_t n, unsigned seed)
{
	float	   *p = aligned_alloc(64, ((n * sizeof(float)) + 63) / 64 * 64);

	if (!p)
	{
		fprintf(stderr, "fp32_kernels: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		p[i] = (float) (((i + seed) * 2654435761u) % 2001) / 1000.0f - 1.0f;
	return p;
}

typedef enum
{
	K_PACKED, K_INPLACE, K_OPENBLAS, K_ONEDNN, K_COUNT
} kernel;

static const char *const kname[] = {"packed", "inplace", "openblas", "onednn"};

/* the packed kernel's interleaved rows (as forward.c gives it) */
static float *scratch;

static void
run_one(kernel kn, float *y, const float *x, const float *w, const float *wp,
		const float *b, int M, int N, int K)
{
	switch (kn)
	{
		case K_PACKED:
			sst2_sgemm_packed_avx512(y, N, x, K, wp, b, M, N, K, scratch);
			break;
		case K_INPLACE:
			sst2_gemm_nt(y, N, x, K, w, K, b, M, N, K);
			break;
		case K_OPENBLAS:
			for (int i = 0; i < M; i++)
				memcpy(y + (size_t) i * N, b, sizeof(float) * N);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K,
						1.0f, x, K, w, K, 1.0f, y, N);
			break;
		case K_ONEDNN:
#ifdef HAVE_DNNL
			for (int i = 0; i < M; i++)
				memcpy(y + (size_t) i * N, b, sizeof(float) * N);
			dnnl_sgemm('N', 'T', M, N, K, 1.0f, x, K, w, K, 1.0f, y, N);
#endif
			break;
		default:
			break;
	}
}

int
main(int argc, char **argv)
{
	double		min_time = 0.05;
	int			reps = 7;
	int			ms[32],
				n_m = 0;
	bool		want[K_COUNT] = {false},
				any = false;
	const int	NK[3][2] = {{768, 768}, {3072, 768}, {768, 3072}};
	const int	def_m[] = {1, 8, 25, 64, 200, 800, 2000};

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--min-time") == 0 && i + 1 < argc)
			min_time = atof(argv[++i]);
		else if (strcmp(argv[i], "--m") == 0 && i + 1 < argc && n_m < 32)
			ms[n_m++] = atoi(argv[++i]);
		else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--kernel") == 0 && i + 1 < argc)
		{
			i++;
			for (int k = 0; k < K_COUNT; k++)
				if (strcmp(argv[i], kname[k]) == 0)
					want[k] = any = true;
		}
		else
		{
			fprintf(stderr, "usage: fp32_kernels [--min-time SEC] [--m M]... [--kernel NAME]... [--reps R]\n");
			return 2;
		}
	}
	if (n_m == 0)
		for (size_t i = 0; i < sizeof(def_m) / sizeof(def_m[0]); i++)
			ms[n_m++] = def_m[i];
	openblas_set_num_threads(1);
	scratch = aligned_alloc(64, SG_SCRATCH_FLOATS * sizeof(float));
	if (sst2_isa_current() != SST2_ISA_AVX512)
		fprintf(stderr, "fp32_kernels: no AVX-512 path here (%s): \"packed\" skipped\n",
				sst2_isa_name());

	for (int s = 0; s < 3; s++)
	{
		const int	N = NK[s][0],
					K = NK[s][1];
		/* several copies of W, used in turn, so that no call finds W in cache */
		const int	copies = 4;
		float	   *w[4],
				   *wp[4];
		float	   *b = rand_matrix(N, 7);

		for (int c = 0; c < copies; c++)
		{
			w[c] = rand_matrix((size_t) N * K, 100 + c);
			wp[c] = aligned_alloc(64, sst2_sg_pack_floats(N, K) * sizeof(float));
			sst2_sg_pack(wp[c], w[c], K, N, K);
		}
		for (int mi = 0; mi < n_m; mi++)
		{
			const int	M = ms[mi];
			float	   *x = rand_matrix((size_t) M * K, 3),
					   *y = rand_matrix((size_t) M * N, 5);

			for (int kn = 0; kn < K_COUNT; kn++)
			{
				double		best = 0,
							maxd = 0,
							t;
				long		calls = 0;

				if (any && !want[kn])
					continue;
				if (kn == K_PACKED && sst2_isa_current() != SST2_ISA_AVX512)
					continue;
#ifndef HAVE_DNNL
				if (kn == K_ONEDNN)
					continue;
#endif
				/* accuracy on up to 4 rows against a double reference */
				run_one(kn, y, x, w[0], wp[0], b, M, N, K);
				for (int i = 0; i < (M < 4 ? M : 4); i++)
					for (int j = 0; j < N; j++)
					{
						double		r = b[j];

						for (int k = 0; k < K; k++)
							r += (double) x[(size_t) i * K + k] * w[0][(size_t) j * K + k];
						if (fabs(r - y[(size_t) i * N + j]) > maxd)
							maxd = fabs(r - y[(size_t) i * N + j]);
					}
				for (int rep = 0; rep < reps; rep++)
				{
					double		t0 = cpu_now();

					calls = 0;
					do
					{
						run_one(kn, y, x, w[calls % copies], wp[calls % copies], b, M, N, K);
						calls++;
						t = cpu_now() - t0;
					} while (t < min_time);
					if (2.0 * M * N * K * calls / t / 1e9 > best)
						best = 2.0 * M * N * K * calls / t / 1e9;
				}
				printf("{\"kind\":\"fp32_kernel\",\"kernel\":\"%s\",\"m\":%d,\"n\":%d,\"k\":%d,"
					   "\"gflops\":%.1f,\"max_abs_diff\":%.2g}\n",
					   kname[kn], M, N, K, best, maxd);
				fflush(stdout);
			}
			free(x);
			free(y);
		}
		for (int c = 0; c < copies; c++)
		{
			free(w[c]);
			free(wp[c]);
		}
		free(b);
	}
	return 0;
}

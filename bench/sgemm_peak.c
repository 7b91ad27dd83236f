/*
 * sgemm_peak.c
 *	  The machine's single-precision matrix-multiply rate: cblas_sgemm
 *	  (OpenBLAS, one thread) on a large square product and on the shapes the
 *	  DistilBERT forward pass really issues (X[M x K] times W^T, W stored
 *	  [N x K] row-major like a PyTorch Linear weight, as src/model.c calls it).
 *
 *	  sgemm_peak [--min-time SEC] [--square N] [--m M]...
 *	    --square N   also time N x N x N (default 2048; 0 = skip)
 *	    --m M        a token count (rows): times (M,768,768), (M,3072,768)
 *	                 and (M,768,3072); may repeat (default: 25 and 1600)
 *	    --min-time   seconds of work per repetition (default 0.5); the best
 *	                 of 3 repetitions is reported
 *
 *	  Prints one JSON object per shape on stdout:
 *	  {"kind":"sgemm","m":..,"n":..,"k":..,"gflops":..,"gflops_median":..}
 *	  Pin it yourself (taskset -c 1); it sets OpenBLAS to one thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "bench_util.h"

static float *
rand_matrix(size_t n)
{
	float	   *p = aligned_alloc(64, ((n * sizeof(float)) + 63) / 64 * 64);

	if (!p)
	{
		fprintf(stderr, "sgemm_peak: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		p[i] = (float) ((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
	return p;
}

static void
time_shape(int M, int N, int K, double min_time)
{
	float	   *A = rand_matrix((size_t) M * K);
	float	   *W = rand_matrix((size_t) N * K);
	float	   *C = rand_matrix((size_t) M * N);
	double		flop = 2.0 * M * N * K;
	double		rates[3];
	long		iters;
	double		t0,
				t;

	/* warm up, and find how many calls make min_time */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K,
				1.0f, A, K, W, K, 0.0f, C, N);
	t0 = now();
	iters = 0;
	do
	{
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K,
					1.0f, A, K, W, K, 0.0f, C, N);
		iters++;
	} while ((t = now() - t0) < min_time / 4);
	iters = (long) (iters * (min_time / t)) + 1;

	for (int r = 0; r < 3; r++)
	{
		t0 = now();
		for (long i = 0; i < iters; i++)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K,
						1.0f, A, K, W, K, 0.0f, C, N);
		t = now() - t0;
		rates[r] = flop * iters / t / 1e9;
	}
	qsort(rates, 3, sizeof(double), cmp_double);
	printf("{\"kind\":\"sgemm\",\"m\":%d,\"n\":%d,\"k\":%d,\"calls\":%ld,"
		   "\"gflops\":%.3f,\"gflops_median\":%.3f,\"check\":%g}\n",
		   M, N, K, iters, rates[2], rates[1], (double) C[0]);
	fflush(stdout);
	free(A);
	free(W);
	free(C);
}

int
main(int argc, char **argv)
{
	int			square = 2048;
	int			ms[64];
	int			n_m = 0;
	double		min_time = 0.5;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--square") == 0 && i + 1 < argc)
			square = atoi(argv[++i]);
		else if (strcmp(argv[i], "--m") == 0 && i + 1 < argc && n_m < 64)
			ms[n_m++] = atoi(argv[++i]);
		else if (strcmp(argv[i], "--min-time") == 0 && i + 1 < argc)
			min_time = atof(argv[++i]);
		else
		{
			fprintf(stderr, "usage: sgemm_peak [--min-time SEC] [--square N] [--m M]...\n");
			return 2;
		}
	}
	if (n_m == 0)
	{
		ms[n_m++] = 25;
		ms[n_m++] = 1600;
	}
	openblas_set_num_threads(1);

	if (square > 0)
		time_shape(square, square, square, min_time);
	for (int i = 0; i < n_m; i++)
	{
		if (ms[i] <= 0)
			continue;
		time_shape(ms[i], 768, 768, min_time);	/* q/k/v/out projections, pre_classifier */
		time_shape(ms[i], 3072, 768, min_time); /* FFN lin1 */
		time_shape(ms[i], 768, 3072, min_time); /* FFN lin2 */
	}
	return 0;
}

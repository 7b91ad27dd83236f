/*
 * bench_util.h
 *	  Helpers shared by the benchmark's C programs (bench_core.c,
 *	  sgemm_peak.c): a monotonic clock and a qsort comparator for timings.
 */
#ifndef SST2_BENCH_UTIL_H
#define SST2_BENCH_UTIL_H

#include <time.h>

/* Seconds on the monotonic clock. */
static inline double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* qsort comparator for doubles, ascending. */
static inline int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

#endif							/* SST2_BENCH_UTIL_H */

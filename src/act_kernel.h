/*
 * act_kernel.h
 *	  The element-wise steps of the forward pass: LayerNorm (with the
 *	  residual add), GELU and the attention's row softmax.  Included twice:
 *	  by forward.c for the x86-64 baseline (SSE2) and by act_avx512.c for
 *	  AVX-512 (cpu.c chooses at run time), each defining ACT_NAME(f) and
 *	  ACT_TARGET first.  One source for both, so the two cannot drift; the
 *	  compiler vectorizes the same loops at 4 or 16 lanes.
 *
 *	  Results: LayerNorm's sums keep their order at any width (16
 *	  independent partial sums); GELU's erff and softmax's expf come from
 *	  libmvec's 4- or 16-lane variants (a few ulp apart), and with AVX-512
 *	  the compiler may fuse a multiply and an add.  The logits stay within
 *	  the fp32 parity bound either way (unit_model runs every path).
 */
#include <math.h>
#include <stddef.h>

#define LN_EPS 1e-12f

/*
 * glibc 2.35+ ships vector variants of erff and expf in libmvec (pulled in
 * by -lm); declaring them lets GCC vectorize the GELU and softmax loops
 * (several times faster than calling the scalar functions, with the same
 * fp32-level accuracy).
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
	defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
extern float erff(float) __attribute__((simd("notinbranch")));
extern float expf(float) __attribute__((simd("notinbranch")));
#endif

/* x[i] = LayerNorm(x[i] + r[i]) * g + b for M rows of D; r may be NULL. */
ACT_TARGET void
ACT_NAME(add_layernorm)(float *restrict x, const float *restrict r, const float *restrict g,
			  const float *restrict b, int M, int D)
{
	for (int i = 0; i < M; i++)
	{
		float	   *restrict xi = x + (size_t) i * D;
		float		acc[16] = {0};
		float		mean,
					var,
					inv;
		int			j;

		if (r)
		{
			const float *restrict ri = r + (size_t) i * D;

			for (j = 0; j < D; j++)
				xi[j] += ri[j];
		}
		/* 16 independent partial sums: vectorizes without reassociation */
		for (j = 0; j + 16 <= D; j += 16)
			for (int k = 0; k < 16; k++)
				acc[k] += xi[j + k];
		mean = 0.0f;
		for (int k = 0; k < 16; k++)
			mean += acc[k];
		for (; j < D; j++)
			mean += xi[j];
		mean /= (float) D;

		for (int k = 0; k < 16; k++)
			acc[k] = 0.0f;
		for (j = 0; j + 16 <= D; j += 16)
			for (int k = 0; k < 16; k++)
			{
				float		d = xi[j + k] - mean;

				acc[k] += d * d;
			}
		var = 0.0f;
		for (int k = 0; k < 16; k++)
			var += acc[k];
		for (; j < D; j++)
			var += (xi[j] - mean) * (xi[j] - mean);
		var /= (float) D;

		inv = 1.0f / sqrtf(var + LN_EPS);
		for (j = 0; j < D; j++)
			xi[j] = (xi[j] - mean) * inv * g[j] + b[j];
	}
}

/* x = GELU(x), the exact (erf) form. */
ACT_TARGET void
ACT_NAME(gelu)(float *restrict x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float) M_SQRT1_2));
}

/* In-place softmax of each of the rows rows of s (n columns). */
ACT_TARGET void
ACT_NAME(softmax_rows)(float *restrict s, int rows, int n)
{
	for (int i = 0; i < rows; i++)
	{
		float	   *restrict r = s + (size_t) i * n;
		float		mx = r[0],
					sum = 0.0f,
					inv;

		for (int j = 1; j < n; j++)
			mx = r[j] > mx ? r[j] : mx;
		/* two loops: the exponentials vectorize, the sum keeps its order */
		for (int j = 0; j < n; j++)
			r[j] = expf(r[j] - mx);
		for (int j = 0; j < n; j++)
			sum += r[j];
		inv = 1.0f / sum;
		for (int j = 0; j < n; j++)
			r[j] *= inv;
	}
}

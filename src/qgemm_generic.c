/*
 * qgemm_generic.c
 *	  The portable path of the reduced-precision linear layers (qgemm.h):
 *	  the activation rows' conversion (int8 with a scale and zero point,
 *	  bf16) and plain C over the packed layout, for CPUs without AVX512_VNNI or
 *	  AVX512_BF16 (or SST2_ISA=generic|avx2).  int8 sums are exact, so this
 *	  path gives the AVX-512 path's integer results; bf16 products are exact
 *	  in fp32, only the order of the fp32 additions differs.
 */
#include <string.h>

#include "qgemm_kernel.h"

/* See qgemm_kernel.h. */
void
sst2_qg_quantize_rows(uint8_t *xq, float *xs, int32_t *xz, const float *x, int ldx,
					  int M, int K, int Kp)
{
	for (int i = 0; i < M; i++)
	{
		const float *xi = x + (size_t) i * ldx;
		uint8_t    *qi = xq + (size_t) i * Kp;
		float		lo = 0.0f,
					hi = 0.0f,
					s;
		int			z;

		for (int k = 0; k < K; k++)
		{
			lo = xi[k] < lo ? xi[k] : lo;
			hi = xi[k] > hi ? xi[k] : hi;
		}
		if (!qg_row_scale(lo, hi, &s, &z))
		{
			memset(qi, 0, (size_t) Kp);
			xs[i] = 0.0f;
			xz[i] = 0;
			continue;
		}
		for (int k = 0; k < K; k++)
		{
			int			q = (int) lrintf(xi[k] / s) + z;

			qi[k] = (uint8_t) (q < 0 ? 0 : q > 255 ? 255 : q);
		}
		for (int k = K; k < Kp; k++)
			qi[k] = 0;
		xs[i] = s;
		xz[i] = z;
	}
}

/* See qgemm_kernel.h. */
void
sst2_qg_bf16_rows(uint16_t *xb, const float *x, int ldx, int M, int K, int Kp)
{
	for (int i = 0; i < M; i++)
	{
		const float *xi = x + (size_t) i * ldx;
		uint16_t   *bi = xb + (size_t) i * Kp;

		for (int k = 0; k < K; k++)
			bi[k] = qg_f32_to_bf16(xi[k]);
		for (int k = K; k < Kp; k++)
			bi[k] = 0;
	}
}

/* See qgemm_kernel.h. */
void
sst2_qg_i8_generic(float *y, int ldy, const uint8_t *xq, const float *xs,
				   const int32_t *xz, const qlinear *L, int M)
{
	const int	K4 = L->Kp / 4;

	for (int p = 0; p < L->Np / QG_NB; p++)
	{
		const int8_t *panel = L->w8 + (size_t) p * K4 * 64;

		for (int i = 0; i < M; i++)
		{
			const uint8_t *xi = xq + (size_t) i * L->Kp;
			int32_t		acc[QG_NB] = {0};

			for (int g = 0; g < K4; g++)
			{
				const int8_t *wg = panel + (size_t) g * 64;
				const uint8_t *xg = xi + 4 * g;

				for (int c = 0; c < QG_NB; c++)
					acc[c] += xg[0] * wg[4 * c] + xg[1] * wg[4 * c + 1] +
						xg[2] * wg[4 * c + 2] + xg[3] * wg[4 * c + 3];
			}
			for (int c = 0; c < QG_NB; c++)
			{
				int			n = p * QG_NB + c;

				if (n < L->N)
					y[(size_t) i * ldy + n] =
						(float) (acc[c] - xz[i] * L->wsum[n]) * (xs[i] * L->scale[n]) + L->bias[n];
			}
		}
	}
}

/* See qgemm_kernel.h. */
void
sst2_qg_bf16_generic(float *y, int ldy, const uint16_t *xb, const qlinear *L, int M)
{
	const int	K2 = L->Kp / 2;

	for (int p = 0; p < L->Np / QG_NB; p++)
	{
		const uint16_t *panel = L->wbf + (size_t) p * K2 * 32;

		for (int i = 0; i < M; i++)
		{
			const uint16_t *xi = xb + (size_t) i * L->Kp;
			float		acc[QG_NB] = {0};

			for (int g = 0; g < K2; g++)
			{
				const uint16_t *wg = panel + (size_t) g * 32;
				float		x0 = qg_bf16_to_f32(xi[2 * g]),
							x1 = qg_bf16_to_f32(xi[2 * g + 1]);

				for (int c = 0; c < QG_NB; c++)
					acc[c] += x0 * qg_bf16_to_f32(wg[2 * c]) + x1 * qg_bf16_to_f32(wg[2 * c + 1]);
			}
			for (int c = 0; c < QG_NB; c++)
			{
				int			n = p * QG_NB + c;

				if (n < L->N)
					y[(size_t) i * ldy + n] = acc[c] + L->bias[n];
			}
		}
	}
}

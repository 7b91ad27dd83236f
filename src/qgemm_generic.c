/*
 * qgemm_generic.c
 *	  The portable path of the reduced-precision linear layers (qgemm.h):
 *	  plain C over the packed layout, for CPUs without AVX512_VNNI or
 *	  AVX512_BF16 (or SST2_ISA=generic|avx2).  int8 sums are exact, so this
 *	  path gives the AVX-512 path's integer results; bf16 products are exact
 *	  in fp32, only the order of the fp32 additions differs.
 */
#include "qgemm.h"

/* See qgemm.h. */
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

/* See qgemm.h. */
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

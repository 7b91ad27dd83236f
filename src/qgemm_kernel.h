/*
 * qgemm_kernel.h
 *	  What the reduced-precision kernels share, below their dispatcher
 *	  (qgemm.c): the packed layer (qlinear, layout in qgemm.h), the
 *	  conversions of a value or a row, and each path's entry points
 *	  (qgemm_generic.c: portable C; qgemm_avx512.c: AVX-512 VNNI / BF16).
 *	  The kernels include this header only; the dispatcher includes it
 *	  through qgemm.h.
 */
#ifndef SST2_QGEMM_KERNEL_H
#define SST2_QGEMM_KERNEL_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sst2_core.h"

#define QG_NB 16				/* output channels per panel */
#define QG_KALIGN 4				/* K is padded to a multiple of this */

/* One linear layer in reduced precision (pointers into the cache data). */
typedef struct qlinear
{
	int			N,
				K;				/* logical shape of W [N, K] */
	int			Np,
				Kp;				/* padded: Np % 16 == 0, Kp % 4 == 0 */
	const int8_t *w8;			/* int8: [Np / 16][Kp / 4][16][4] */
	const float *scale;			/* int8: [Np] sw */
	const int32_t *wsum;		/* int8: [Np] sum_k qw */
	const uint16_t *wbf;		/* bf16: [Np / 16][Kp / 2][16][2] */
	const float *bias;			/* [N] fp32 */
} qlinear;

/* The kernel paths of each precision. */
typedef enum qg_path
{
	QG_GENERIC = 0,
	QG_AVX512				/* VNNI for int8, BF16 for bf16 */
} qg_path;

/*
 * The u8 quantization of an activation row from its range [lo, hi]: scale
 * *s and zero point *z.  Returns false for a row that quantizes to zeros (all
 * zero, NaN, or a range below 255 times the least float).  hi / 255 - lo / 255
 * cannot overflow even for -FLT_MAX .. FLT_MAX; -lo / s is divided, not
 * multiplied by 1 / s, which overflows for tiny rows.
 */
static inline bool
qg_row_scale(float lo, float hi, float *s, int *z)
{
	int			zp;

	*s = hi / 255.0f - lo / 255.0f;
	if (!(*s > 0.0f))
		return false;
	zp = (int) lrintf(-lo / *s);
	*z = zp < 0 ? 0 : zp > 255 ? 255 : zp;
	return true;
}

static inline int
qg_pad_n(int n)
{
	return (n + QG_NB - 1) / QG_NB * QG_NB;
}
static inline int
qg_pad_k(int k)
{
	return (k + QG_KALIGN - 1) / QG_KALIGN * QG_KALIGN;
}

/* fp32 -> bf16, round to nearest even (NaN stays NaN). */
static inline uint16_t
qg_f32_to_bf16(float f)
{
	uint32_t	u;

	__builtin_memcpy(&u, &f, 4);
	if ((u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t) ((u >> 16) | 0x40);
	u += 0x7fffu + ((u >> 16) & 1u);
	return (uint16_t) (u >> 16);
}

static inline float
qg_bf16_to_f32(uint16_t h)
{
	uint32_t	u = (uint32_t) h << 16;
	float		f;

	__builtin_memcpy(&f, &u, 4);
	return f;
}

/*
 * Quantize M rows of x (K floats, ldx apart) to u8 rows of Kp bytes
 * (padding 0) with a scale and zero point per row (see qgemm.h).
 */
void		sst2_qg_quantize_rows(uint8_t *xq, float *xs, int32_t *xz,
								  const float *x, int ldx, int M, int K, int Kp);
/* The same with AVX-512 (only where sst2_qg_path says so): identical output. */
void		sst2_qg_quantize_rows_avx512(uint8_t *xq, float *xs, int32_t *xz,
										 const float *x, int ldx, int M, int K, int Kp);

/* M rows of x to bf16 rows of Kp values (padding 0). */
void		sst2_qg_bf16_rows(uint16_t *xb, const float *x, int ldx, int M, int K, int Kp);

/* y[M, N] (ldy) = dequantized int8 product + bias, from quantized rows. */
void		sst2_qg_i8_generic(float *y, int ldy, const uint8_t *xq, const float *xs,
							   const int32_t *xz, const qlinear *L, int M);
void		sst2_qg_i8_avx512(float *y, int ldy, const uint8_t *xq, const float *xs,
							  const int32_t *xz, const qlinear *L, int M);

/* y[M, N] (ldy) = bf16 product (fp32 sums) + bias, from bf16 rows. */
void		sst2_qg_bf16_generic(float *y, int ldy, const uint16_t *xb,
								 const qlinear *L, int M);
void		sst2_qg_bf16_avx512(float *y, int ldy, const uint16_t *xb,
								const qlinear *L, int M);

#endif							/* SST2_QGEMM_KERNEL_H */

/*
 * qgemm.h
 *	  Reduced-precision linear layers: y[M, N] = x[M, K] W[N, K]^T + b with W
 *	  held as int8 (per output channel scales) or bf16, packed once
 *	  (quantize.c) in the layout the kernels read (qgemm_generic.c, the
 *	  portable path; qgemm_avx512.c, AVX-512 VNNI and AVX-512 BF16), chosen at
 *	  run time (qgemm.c).
 *
 *	  Packed layout (both precisions): output channels in panels of 16
 *	  (QG_NB), N padded to Np (a multiple of 16) with zero weights; K padded
 *	  to Kp (a multiple of 4) with zeros.  Panel p holds channels
 *	  [16p, 16p + 16) as Kp / G groups of G consecutive k for all 16 channels:
 *	    int8: w8[(p * Kp/4 + g) * 64 + c * 4 + t]  = q(W[16p + c][4g + t])
 *	    bf16: wbf[(p * Kp/2 + g) * 32 + c * 2 + t] = bf16(W[16p + c][2g + t])
 *	  which is what one vpdpbusd / vdpbf16ps consumes against 4 (2) values of
 *	  one row of x broadcast to every 32-bit lane: 16 channels' sums advance
 *	  at once, without any horizontal reduction.
 *
 *	  int8 arithmetic: W[n][k] ~ sw[n] * qw[n][k], qw in [-127, 127],
 *	  sw[n] = max_k |W[n][k]| / 127 (symmetric, per channel).  A row of x is
 *	  quantized at run time to u8 with a zero point: x[k] ~ sx * (qx[k] - zx),
 *	  sx = (max(x, 0) - min(x, 0)) / 255, zx = round(-min(x, 0) / sx).  Then
 *	  y[n] = sx * sw[n] * (sum_k qx[k] qw[n][k] - zx * wsum[n]) + b[n] with
 *	  wsum[n] = sum_k qw[n][k] precomputed.  Every integer sum is exact in
 *	  int32 (|qx qw| <= 255 * 127 and K <= 32768, checked at conversion, so
 *	  even sum - zx * wsum fits), and both paths give the same integer sums.
 */
#ifndef SST2_QGEMM_H
#define SST2_QGEMM_H

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

/* Padded sizes. */
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
 * (padding 0) with a scale and zero point per row (see above).
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

/*
 * Bytes of the packing of one W [N, K] at precision p: the panels, then
 * (int8) sw [Np] and wsum [Np], each part 64-byte aligned.
 */
size_t		sst2_qg_pack_bytes(sst2_precision p, int N, int K);

/*
 * Pack W [N, K] (fp32, PyTorch layout) at precision p into dst
 * (sst2_qg_pack_bytes bytes, 64-byte aligned, zeroed) and point L at it
 * with bias (which may be NULL while only packing).  Used once per model by
 * quantize.c, and by the tests.
 */
void		sst2_qg_pack(qlinear *L, void *dst, const float *w, const float *bias,
						 int N, int K, sst2_precision p);

/* Point L at a packing made by sst2_qg_pack (e.g. in a mapped cache file). */
void		sst2_qg_unpacked(qlinear *L, const void *packed, const float *bias,
							 int N, int K, sst2_precision p);

/* The path precision p runs on with this CPU and SST2_ISA. */
qg_path		sst2_qg_path(sst2_precision p);

/* Its name: "avx512-vnni", "avx512-bf16", "generic". */
const char *sst2_qg_path_name(sst2_precision p);

/*
 * y[M, N] = x[M, K] W^T + b through L at precision p (int8 or bf16).
 * scratch holds at least sst2_qg_scratch_bytes(M, L->Kp) bytes, 64-aligned.
 */
void		sst2_qlinear(float *y, const float *x, const qlinear *L, int M,
						 sst2_precision p, void *scratch);
size_t		sst2_qg_scratch_bytes(size_t M, size_t Kp);

#endif							/* SST2_QGEMM_H */

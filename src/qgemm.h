/*
 * qgemm.h
 *	  Reduced-precision linear layers: y[M, N] = x[M, K] W[N, K]^T + b with W
 *	  held as int8 (per output channel scales) or bf16, packed once
 *	  (quantize.c) in the layout the kernels read (qgemm_kernel.h: the
 *	  portable qgemm_generic.c and the AVX-512 VNNI / BF16 qgemm_avx512.c),
 *	  the path chosen at run time (qgemm.c, the dispatcher this header
 *	  declares).
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

#include <stddef.h>

#include "qgemm_kernel.h"

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

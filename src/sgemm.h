/*
 * sgemm.h
 *	  fp32 linear layers on weights packed once: y[M, N] = x[M, K] W[N, K]^T
 *	  + b with W rearranged at load time (fpack.c, into a shared cache file)
 *	  into the layout the AVX-512 kernel streams (sgemm_avx512.c).  This is
 *	  the fp32 path on CPUs with AVX-512; elsewhere (or with SST2_ISA=avx2 or
 *	  generic) the weights stay unpacked and forward.c uses sgemm / gemm.c.
 *
 *	  Packed layout: output channels in panels of SG_NB (64 = four zmm
 *	  vectors), N padded to Np (a multiple of 64) with zero weights.  Panel p
 *	  holds channels [64p, 64p + 64) for every k, k-major:
 *	    wp[(p * K + k) * 64 + c] = W[64p + c][k]
 *	  so one step of the kernel loads the 64 weights of column k with four
 *	  aligned vector loads and multiplies them by x[i][k] broadcast, for each
 *	  of up to 6 rows i: 24 accumulators, no horizontal sums, and the whole
 *	  of W is read as one sequential stream.
 */
#ifndef SST2_SGEMM_H
#define SST2_SGEMM_H

#include <stddef.h>

#define SG_NB 64				/* output channels per panel */

/* N rounded up to whole panels. */
static inline int
sg_pad_n(int n)
{
	return (n + SG_NB - 1) / SG_NB * SG_NB;
}

/* Floats of the packing of W [N, K]. */
static inline size_t
sst2_sg_pack_floats(int N, int K)
{
	return (size_t) sg_pad_n(N) * (size_t) K;
}

/*
 * Pack W [N, K] (fp32, PyTorch layout, rows ldw floats apart) into dst
 * (sst2_sg_pack_floats(N, K) floats, 64-byte aligned): see above.
 */
void		sst2_sg_pack(float *dst, const float *w, int ldw, int N, int K);

/*
 * y[M, N] (rows ldy apart) = x[M, K] (rows ldx apart) W^T + b, W packed by
 * sst2_sg_pack; b may be NULL.  AVX-512
 * F only: call it only when sst2_isa_current() is SST2_ISA_AVX512.  y must
 * not overlap x.
 */
void		sst2_sgemm_packed_avx512(float *y, int ldy, const float *x, int ldx,
									 const float *wp, const float *b,
									 int M, int N, int K, float *scratch);

/*
 * Floats of scratch sst2_sgemm_packed_avx512 needs for a block of rows of x,
 * interleaved tile by tile (64-byte aligned).
 */
#define SG_KC 768				/* columns of K per chunk (a multiple of 16) */
#define SG_MC 240				/* rows per block (a multiple of 6) */
#define SG_SCRATCH_FLOATS (SG_MC * SG_KC)

/*
 * Attention products of one head on AVX-512 (scores and context), for the
 * sequence lengths of text (a few to a few hundred tokens), hd a multiple
 * of 16:
 *   s[Lq, L] = scale * q[Lq, hd] k[L, hd]^T   (rows ldq, ldk, lds apart)
 *   c[Lq, hd] = s[Lq, L] v[L, hd]            (rows lds, ldv, ldc apart)
 */
void		sst2_attn_scores_avx512(float *s, int lds, const float *q, int ldq,
									const float *k, int ldk, float scale,
									int Lq, int L, int hd);
void		sst2_attn_context_avx512(float *c, int ldc, const float *s, int lds,
									 const float *v, int ldv, int Lq, int L, int hd);

#endif							/* SST2_SGEMM_H */

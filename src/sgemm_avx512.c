/*
 * sgemm_avx512.c
 *	  The fp32 products on AVX-512 F: linear layers on weights packed once
 *	  (layout in sgemm.h) and the two attention products of a head.  Every
 *	  function enables AVX-512 for itself (a target attribute, the file is
 *	  compiled with the baseline flags), so only callers that checked the CPU
 *	  (cpu.c: sst2_isa_current() == SST2_ISA_AVX512) may call them.
 *
 *	  Linear layers: a register tile of up to MR = 6 rows of x by one panel
 *	  (64 output channels) keeps 24 zmm accumulators; each step over k loads
 *	  the panel's 64 weights of column k (four vectors) and does 4 * mr fused
 *	  multiply-adds with x[i][k] broadcast.  With 6 rows that is 24 FMAs per
 *	  4 weight loads + 6 broadcasts (a 12 x 32 tile needs 14 loads for the
 *	  same 24 and measured slower, most of all for one sentence): the two
 *	  FMA pipes stay busy, no horizontal sums are ever needed, and a tile
 *	  ends with 24 stores of finished outputs (bias added).
 *
 *	  Blocking, for batches of thousands of rows: K is cut into chunks of at
 *	  most KC columns and M into blocks of at most MC rows, so that the rows
 *	  of one block (MC x KC floats) and the panel being used (KC x 64) stay in
 *	  L2 while every panel of W passes them; the panels themselves are one
 *	  sequential stream from memory.  KC is as large as that allows: the
 *	  model's K = 768 is then one chunk, so its outputs are written once
 *	  instead of read back and added to once per chunk.  The rows of a block
 *	  are shared among its tiles as evenly as possible (25 rows: 5 x 5, never
 *	  6 + 6 + 6 + 6 + 1) so that small batches (one sentence) keep most of
 *	  the tile busy.
 *
 *	  The rows of a block are copied tile by tile into scratch first, each
 *	  tile's rows interleaved (x[i][k] at [k][i]), so that a tile's
 *	  broadcasts read one sequential stream; the copy is MC x KC floats per
 *	  block and chunk, reused by all N / 64 panels.
 *
 *	  Results differ from sgemm's only by the order of the additions.
 */
#include <stdbool.h>
#include <stddef.h>

#include <immintrin.h>

#include "sgemm.h"

#define KERNEL __attribute__((target("avx512f,avx512dq,avx512vl,fma")))
#define ALWAYS_INLINE inline __attribute__((always_inline))

#define MR 6					/* rows of a register tile */
#define NV (SG_NB / 16)			/* vectors of a panel */
#define KC SG_KC				/* columns of K per chunk (sgemm.h) */
#define MC SG_MC				/* rows per block */

/* Lanes [0, n) of 16, n in 0..16. */
static ALWAYS_INLINE __mmask16
lanes(int n)
{
	return n >= 16 ? (__mmask16) 0xffff : (__mmask16) ((1u << (n > 0 ? n : 0)) - 1);
}

/*
 * One register tile: y[mr, nv] (+)= x[mr, 0:kc] Wp^T over kc columns of one
 * panel (wp points at its column k0; nv <= 64 outputs are real).  mr is a
 * compile-time constant at every call (always inlined), so acc[][] lives in
 * registers.  With first, y = b + sum (b may be NULL), else y += sum.
 */
static ALWAYS_INLINE KERNEL void
tile(float *restrict y, int ldy, const float *restrict x,
	 const float *restrict wp, const float *restrict b, int nv, int kc,
	 bool first, const int mr)
{
	__m512		acc[MR][NV];
	__mmask16	m[NV];

	for (int v = 0; v < NV; v++)
		m[v] = lanes(nv - 16 * v);

	/*
	 * Ask for the tile's outputs now: in a large batch they were last
	 * touched a whole k chunk ago and are no longer in L2, and the loads
	 * and stores at the end would wait on memory with nothing left to
	 * overlap them.
	 */
	for (int i = 0; i < mr; i++)
		for (int v = 0; v < NV; v++)
			_mm_prefetch((const char *) (y + (size_t) i * ldy + 16 * v), _MM_HINT_T0);
	for (int i = 0; i < mr; i++)
		for (int v = 0; v < NV; v++)
			acc[i][v] = _mm512_setzero_ps();
	/* unrolled: the loop's own counting and addressing then cost less per FMA */
#pragma GCC unroll 4
	for (int k = 0; k < kc; k++)
	{
		__m512		w[NV];

		for (int v = 0; v < NV; v++)
		{
			w[v] = _mm512_load_ps(wp + (size_t) k * SG_NB + 16 * v);
			_mm_prefetch((const char *) (wp + (size_t) (k + 16) * SG_NB + 16 * v), _MM_HINT_T0);
		}
		for (int i = 0; i < mr; i++)
		{
			const __m512 a = _mm512_set1_ps(x[(size_t) k * mr + i]);

			for (int v = 0; v < NV; v++)
				acc[i][v] = _mm512_fmadd_ps(a, w[v], acc[i][v]);
		}
	}
	for (int i = 0; i < mr; i++)
		for (int v = 0; v < NV; v++)
		{
			float	   *yv = y + (size_t) i * ldy + 16 * v;
			__m512		base = first ?
				(b ? _mm512_maskz_loadu_ps(m[v], b + 16 * v) : _mm512_setzero_ps()) :
				_mm512_maskz_loadu_ps(m[v], yv);

			_mm512_mask_storeu_ps(yv, m[v], _mm512_add_ps(acc[i][v], base));
		}
}

/* tile() for a run-time mr in 1..MR: one instantiation per value (MR <= 12). */
static KERNEL void
tile_any(float *y, int ldy, const float *x, const float *wp,
		 const float *b, int nv, int kc, bool first, int mr)
{
	switch (mr)
	{
#define CASE(n) case n: tile(y, ldy, x, wp, b, nv, kc, first, n); break
			CASE(1);
			CASE(2);
			CASE(3);
			CASE(4);
			CASE(5);
			CASE(6);
#if MR > 6
			CASE(7);
			CASE(8);
			CASE(9);
			CASE(10);
			CASE(11);
			CASE(12);
#endif
#undef CASE
	}
}

/*
 * Copy the rows of one tile, x[mr, 0:kc] (ldx apart), interleaved into
 * ap[kc][mr]: the tile's broadcasts then read one sequential stream instead
 * of mr rows far apart (which cost cache sets and prefetch streams).
 *
 * Sixteen columns at a time, the mr x 16 block becomes mr vectors of that
 * stream: lane l of vector j is x[p % mr][k + p / mr] with p = 16 j + l, so
 * each vector takes its lanes from every row with one masked permute per
 * row (a scalar copy, element by element, cost as much as a tenth of the
 * products it feeds).
 */
static KERNEL void
pack_rows(float *restrict ap, const float *restrict x, int ldx, int mr, int kc)
{
	const __m512i iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8,
										  7, 6, 5, 4, 3, 2, 1, 0);
	__m512i		idx[MR];
	__mmask16	sel[MR][MR];
	int			k = 0;

	for (int j = 0; j < mr; j++)
	{
		const __m512i p = _mm512_add_epi32(iota, _mm512_set1_epi32(16 * j));

		/* p / mr, exact in float for p < 16 * MR; then p % mr */
		idx[j] = _mm512_cvttps_epi32(_mm512_mul_ps(_mm512_add_ps(_mm512_cvtepi32_ps(p),
																 _mm512_set1_ps(0.5f)),
												   _mm512_set1_ps(1.0f / (float) mr)));
		for (int i = 0; i < mr; i++)
			sel[j][i] = _mm512_cmpeq_epi32_mask(_mm512_sub_epi32(p, _mm512_mullo_epi32(idx[j], _mm512_set1_epi32(mr))),
											   _mm512_set1_epi32(i));
	}
	for (; k + 16 <= kc; k += 16)
	{
		__m512		row[MR];

		for (int i = 0; i < mr; i++)
			row[i] = _mm512_loadu_ps(x + (size_t) i * ldx + k);
		for (int j = 0; j < mr; j++)
		{
			__m512		o = _mm512_setzero_ps();

			for (int i = 0; i < mr; i++)
				o = _mm512_mask_permutexvar_ps(o, sel[j][i], idx[j], row[i]);
			_mm512_storeu_ps(ap + (size_t) k * mr + 16 * j, o);
		}
	}
	for (int i = 0; i < mr; i++)
		for (int c = k; c < kc; c++)
			ap[(size_t) c * mr + i] = x[(size_t) i * ldx + c];
}

/* See sgemm.h. */
KERNEL void
sst2_sgemm_packed_avx512(float *y, int ldy, const float *x, int ldx,
						 const float *wp, const float *b, int M, int N, int K,
						 float *scratch)
{
	const int	np = sg_pad_n(N) / SG_NB;
	int			chunks,
				kc;

	if (M <= 0 || N <= 0)
		return;
	if (K <= 0)
	{
		for (int i = 0; i < M; i++)
			for (int j = 0; j < N; j++)
				y[(size_t) i * ldy + j] = b ? b[j] : 0.0f;
		return;
	}
	/* equal chunks of K, multiples of 16 where possible */
	chunks = (K + KC - 1) / KC;
	kc = (K + chunks - 1) / chunks;
	kc = (kc + 15) / 16 * 16;

	for (int m0 = 0; m0 < M; m0 += MC)
	{
		const int	mb = M - m0 < MC ? M - m0 : MC;
		const int	tiles = (mb + MR - 1) / MR;

		for (int k0 = 0; k0 < K; k0 += kc)
		{
			const int	kk = K - k0 < kc ? K - k0 : kc;

			/* this block's rows, tile by tile, into scratch */
			for (int t = 0, i = 0; t < tiles; t++)
				{
					const int	mr = mb / tiles + (t < mb % tiles ? 1 : 0);

					pack_rows(scratch + (size_t) i * kc, x + (size_t) (m0 + i) * ldx + k0,
							  ldx, mr, kk);
					i += mr;
				}
			for (int p = 0; p < np; p++)
			{
				const float *wpk = wp + ((size_t) p * K + k0) * SG_NB;
				const int	nv = N - p * SG_NB < SG_NB ? N - p * SG_NB : SG_NB;
				int			i = 0;

				/* tiles of the block: the rows shared out evenly */
				for (int t = 0; t < tiles; t++)
				{
					const int	mr = mb / tiles + (t < mb % tiles ? 1 : 0);

					tile_any(y + (size_t) (m0 + i) * ldy + p * SG_NB, ldy,
							 scratch + (size_t) i * kc, wpk,
							 b ? b + p * SG_NB : NULL, nv, kk, k0 == 0, mr);
					i += mr;
				}
			}
		}
	}
}

/* See sgemm.h: s = scale * q k^T, four rows of k at a time against each q row. */
KERNEL void
sst2_attn_scores_avx512(float *s, int lds, const float *q, int ldq,
						const float *k, int ldk, float scale, int Lq, int L, int hd)
{
	for (int i = 0; i < Lq; i++)
	{
		const float *qi = q + (size_t) i * ldq;
		float	   *si = s + (size_t) i * lds;
		int			j = 0;

		for (; j + 4 <= L; j += 4)
		{
			__m512		a0 = _mm512_setzero_ps(),
						a1 = _mm512_setzero_ps(),
						a2 = _mm512_setzero_ps(),
						a3 = _mm512_setzero_ps();
			const float *k0 = k + (size_t) j * ldk;

			for (int d = 0; d < hd; d += 16)
			{
				const __m512 qv = _mm512_loadu_ps(qi + d);

				a0 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(k0 + d), a0);
				a1 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(k0 + ldk + d), a1);
				a2 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(k0 + 2 * (size_t) ldk + d), a2);
				a3 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(k0 + 3 * (size_t) ldk + d), a3);
			}
			si[j] = scale * _mm512_reduce_add_ps(a0);
			si[j + 1] = scale * _mm512_reduce_add_ps(a1);
			si[j + 2] = scale * _mm512_reduce_add_ps(a2);
			si[j + 3] = scale * _mm512_reduce_add_ps(a3);
		}
		for (; j < L; j++)
		{
			__m512		a0 = _mm512_setzero_ps();

			for (int d = 0; d < hd; d += 16)
				a0 = _mm512_fmadd_ps(_mm512_loadu_ps(qi + d),
									 _mm512_loadu_ps(k + (size_t) j * ldk + d), a0);
			si[j] = scale * _mm512_reduce_add_ps(a0);
		}
	}
}

/* See sgemm.h: c = s v, a row of c (hd <= 64 floats per pass) in registers. */
KERNEL void
sst2_attn_context_avx512(float *c, int ldc, const float *s, int lds,
						 const float *v, int ldv, int Lq, int L, int hd)
{
	for (int i = 0; i < Lq; i++)
	{
		const float *si = s + (size_t) i * lds;

		for (int d0 = 0; d0 < hd; d0 += 64)
		{
			const int	w = hd - d0 < 64 ? hd - d0 : 64;
			__m512		a0 = _mm512_setzero_ps(),
						a1 = _mm512_setzero_ps(),
						a2 = _mm512_setzero_ps(),
						a3 = _mm512_setzero_ps();
			const __mmask16 m0 = lanes(w),
						m1 = lanes(w - 16),
						m2 = lanes(w - 32),
						m3 = lanes(w - 48);

			for (int j = 0; j < L; j++)
			{
				const __m512 p = _mm512_set1_ps(si[j]);
				const float *vj = v + (size_t) j * ldv + d0;

				a0 = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(m0, vj), a0);
				a1 = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(m1, vj + 16), a1);
				a2 = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(m2, vj + 32), a2);
				a3 = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(m3, vj + 48), a3);
			}
			_mm512_mask_storeu_ps(c + (size_t) i * ldc + d0, m0, a0);
			_mm512_mask_storeu_ps(c + (size_t) i * ldc + d0 + 16, m1, a1);
			_mm512_mask_storeu_ps(c + (size_t) i * ldc + d0 + 32, m2, a2);
			_mm512_mask_storeu_ps(c + (size_t) i * ldc + d0 + 48, m3, a3);
		}
	}
}

/*
 * qgemm_avx512.c
 *	  The AVX-512 path of the reduced-precision linear layers (qgemm.h):
 *	  int8 with AVX512_VNNI (vpdpbusd: u8 x s8, four products added into each
 *	  32-bit lane) and bf16 with AVX512_BF16 (vdpbf16ps: two bf16 products
 *	  added into each fp32 lane).  Called only after qgemm.c checked the CPU;
 *	  the instructions are enabled per function (target attributes), so the
 *	  object runs nowhere else.
 *
 *	  A register tile is MR = 6 rows of x by NV = 4 panels of W (64 output
 *	  channels): 24 accumulators, 4 weight vectors and one broadcast.  Each
 *	  step loads the next group of the 4 panels (64 bytes each) and, per row,
 *	  broadcasts that row's 4 u8 (2 bf16) values of the group to all lanes;
 *	  every accumulator lane is one output channel, so the tile ends with
 *	  plain vector stores (dequantize, add bias), no horizontal sums.
 *	  Rows go in blocks of RB: one group of panels (at most 4 x Kp x 16 bytes,
 *	  192 KB for ffn.lin2) stays in L2 while the block's rows pass it.
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "qgemm_kernel.h"

#define MR 6
#define NV 4
#define RB 96

#define VNNI __attribute__((target("avx512f,avx512vnni")))
#define BF16 __attribute__((target("avx512f,avx512bf16")))
#define ALWAYS_INLINE inline __attribute__((always_inline))

/* The 32-bit group of 4 bytes (or 2 bf16) at p, broadcast to every lane. */
#define BCAST32(p) \
	({ int32_t v_; memcpy(&v_, (p), 4); _mm512_set1_epi32(v_); })

/*
 * acc += x (u8) . w (s8) and acc += x . w (bf16 pairs), written as inline
 * assembly: through the intrinsics GCC 12 copies every accumulator to
 * another register and back around each instruction (it does not tie the
 * accumulator to the destination), which doubled the instructions of the
 * inner loop.  AT&T operand order: vpdpbusd w, x, acc.
 */
#define DPBUSD(acc, x, w) __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w))
#define DPBF16(acc, x, w) __asm__("vdpbf16ps %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w))

/* Lanes of panel p0 + j that are real channels (< N). */
static inline __mmask16
chan_mask(const qlinear *L, int n0)
{
	int			left = L->N - n0;

	return left >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << left) - 1);
}

/* y row i, panel p0 + j = dequantized acc + bias (int8). */
static ALWAYS_INLINE VNNI void
i8_store(float *y, int ldy, const float *xs, const int32_t *xz, const qlinear *L,
		 int p0, int i, int j, __m512i acc)
{
	const int	n0 = (p0 + j) * QG_NB;
	const __mmask16 mk = chan_mask(L, n0);
	const __m512 sc = _mm512_loadu_ps(L->scale + n0);
	const __m512i ws = _mm512_loadu_si512((const void *) (L->wsum + n0));
	const __m512 b = _mm512_maskz_loadu_ps(mk, L->bias + n0);
	__m512i		d = _mm512_sub_epi32(acc, _mm512_mullo_epi32(_mm512_set1_epi32(xz[i]), ws));
	__m512		f = _mm512_mul_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(_mm512_set1_ps(xs[i]), sc));

	_mm512_mask_storeu_ps(y + (size_t) i * ldy + n0, mk, _mm512_add_ps(f, b));
}

/* y row i, panel p0 + j = acc + bias (bf16). */
static ALWAYS_INLINE BF16 void
bf16_store(float *y, int ldy, const qlinear *L, int p0, int i, int j, __m512 acc)
{
	const int	n0 = (p0 + j) * QG_NB;
	const __mmask16 mk = chan_mask(L, n0);

	_mm512_mask_storeu_ps(y + (size_t) i * ldy + n0, mk,
						  _mm512_add_ps(acc, _mm512_maskz_loadu_ps(mk, L->bias + n0)));
}

/*
 * The R x 4 tiles (R = 1..6, a constant after inlining), with the
 * accumulators as named variables: with an array of them GCC 12 keeps them
 * on the stack (the generic tiles below serve panel edges only).  The rows
 * past R are dead code the compiler drops, so a sentence's last rows
 * (M mod 6) go through one tile that reads the weights once, instead of
 * one single-row tile per row each reading all of them again.
 */
#define DECL4(i, Z) __m512i a##i##0 = Z, a##i##1 = Z, a##i##2 = Z, a##i##3 = Z
#define DECL4F(i, Z) __m512 a##i##0 = Z, a##i##1 = Z, a##i##2 = Z, a##i##3 = Z
#define ROW4(OP, i, xp) \
	do { \
		__m512i		xb_ = BCAST32(xp); \
		OP(a##i##0, xb_, w0); OP(a##i##1, xb_, w1); OP(a##i##2, xb_, w2); OP(a##i##3, xb_, w3); \
	} while (0)
#define STORE4(S, i) do { S(i, 0, a##i##0); S(i, 1, a##i##1); S(i, 2, a##i##2); S(i, 3, a##i##3); } while (0)

static ALWAYS_INLINE VNNI void
i8_tile_rx4(float *y, int ldy, const uint8_t *x, const float *xs, const int32_t *xz,
			const qlinear *L, int p0, const int R)
{
	const int	Kp = L->Kp,
				K4 = Kp / 4;
	const size_t ps = (size_t) K4 * 64;
	const int8_t *w = L->w8 + (size_t) p0 * ps;
	const __m512i z = _mm512_setzero_si512();

	DECL4(0, z);
	DECL4(1, z);
	DECL4(2, z);
	DECL4(3, z);
	DECL4(4, z);
	DECL4(5, z);
	for (int g = 0; g < K4; g++)
	{
		const int8_t *wg = w + (size_t) g * 64;
		__m512i		w0 = _mm512_loadu_si512((const void *) wg),
					w1 = _mm512_loadu_si512((const void *) (wg + ps)),
					w2 = _mm512_loadu_si512((const void *) (wg + 2 * ps)),
					w3 = _mm512_loadu_si512((const void *) (wg + 3 * ps));
		const uint8_t *xg = x + 4 * g;

		ROW4(DPBUSD, 0, xg);
		if (R > 1)
			ROW4(DPBUSD, 1, xg + Kp);
		if (R > 2)
			ROW4(DPBUSD, 2, xg + 2 * Kp);
		if (R > 3)
			ROW4(DPBUSD, 3, xg + 3 * Kp);
		if (R > 4)
			ROW4(DPBUSD, 4, xg + 4 * Kp);
		if (R > 5)
			ROW4(DPBUSD, 5, xg + 5 * Kp);
	}
#define S8(i, j, a) i8_store(y, ldy, xs, xz, L, p0, i, j, a)
	STORE4(S8, 0);
	if (R > 1)
		STORE4(S8, 1);
	if (R > 2)
		STORE4(S8, 2);
	if (R > 3)
		STORE4(S8, 3);
	if (R > 4)
		STORE4(S8, 4);
	if (R > 5)
		STORE4(S8, 5);
#undef S8
}

static ALWAYS_INLINE BF16 void
bf16_tile_rx4(float *y, int ldy, const uint16_t *x, const qlinear *L, int p0, const int R)
{
	const int	Kp = L->Kp,
				K2 = Kp / 2;
	const size_t ps = (size_t) K2 * 32;
	const uint16_t *w = L->wbf + (size_t) p0 * ps;
	const __m512 z = _mm512_setzero_ps();

	DECL4F(0, z);
	DECL4F(1, z);
	DECL4F(2, z);
	DECL4F(3, z);
	DECL4F(4, z);
	DECL4F(5, z);
	for (int g = 0; g < K2; g++)
	{
		const uint16_t *wg = w + (size_t) g * 32;
		__m512i		w0 = _mm512_loadu_si512((const void *) wg),
					w1 = _mm512_loadu_si512((const void *) (wg + ps)),
					w2 = _mm512_loadu_si512((const void *) (wg + 2 * ps)),
					w3 = _mm512_loadu_si512((const void *) (wg + 3 * ps));
		const uint16_t *xg = x + 2 * g;

		ROW4(DPBF16, 0, xg);
		if (R > 1)
			ROW4(DPBF16, 1, xg + Kp);
		if (R > 2)
			ROW4(DPBF16, 2, xg + 2 * Kp);
		if (R > 3)
			ROW4(DPBF16, 3, xg + 3 * Kp);
		if (R > 4)
			ROW4(DPBF16, 4, xg + 4 * Kp);
		if (R > 5)
			ROW4(DPBF16, 5, xg + 5 * Kp);
	}
#define SB(i, j, a) bf16_store(y, ldy, L, p0, i, j, a)
	STORE4(SB, 0);
	if (R > 1)
		STORE4(SB, 1);
	if (R > 2)
		STORE4(SB, 2);
	if (R > 3)
		STORE4(SB, 3);
	if (R > 4)
		STORE4(SB, 4);
	if (R > 5)
		STORE4(SB, 5);
#undef SB
}

/* One int8 tile: rows [0, mr) of x against panels [p0, p0 + nv). */
static ALWAYS_INLINE VNNI void
i8_tile(float *y, int ldy, const uint8_t *x, const float *xs, const int32_t *xz,
		const qlinear *L, int p0, int mr, int nv)
{
	const int	Kp = L->Kp,
				K4 = Kp / 4;
	const size_t ps = (size_t) K4 * 64;
	const int8_t *w = L->w8 + (size_t) p0 * ps;
	__m512i		acc[MR][NV];

	for (int i = 0; i < mr; i++)
		for (int j = 0; j < nv; j++)
			acc[i][j] = _mm512_setzero_si512();
	for (int g = 0; g < K4; g++)
	{
		__m512i		wv[NV];

		for (int j = 0; j < nv; j++)
			wv[j] = _mm512_loadu_si512((const void *) (w + j * ps + (size_t) g * 64));
		for (int i = 0; i < mr; i++)
		{
			__m512i		xb = BCAST32(x + (size_t) i * Kp + 4 * g);

			for (int j = 0; j < nv; j++)
				DPBUSD(acc[i][j], xb, wv[j]);
		}
	}
	for (int j = 0; j < nv; j++)
		for (int i = 0; i < mr; i++)
			i8_store(y, ldy, xs, xz, L, p0, i, j, acc[i][j]);
}

/* One bf16 tile: rows [0, mr) of x against panels [p0, p0 + nv). */
static ALWAYS_INLINE BF16 void
bf16_tile(float *y, int ldy, const uint16_t *x, const qlinear *L, int p0, int mr, int nv)
{
	const int	Kp = L->Kp,
				K2 = Kp / 2;
	const size_t ps = (size_t) K2 * 32;
	const uint16_t *w = L->wbf + (size_t) p0 * ps;
	__m512		acc[MR][NV];

	for (int i = 0; i < mr; i++)
		for (int j = 0; j < nv; j++)
			acc[i][j] = _mm512_setzero_ps();
	for (int g = 0; g < K2; g++)
	{
		__m512i		wv[NV];

		for (int j = 0; j < nv; j++)
			wv[j] = _mm512_loadu_si512((const void *) (w + j * ps + (size_t) g * 32));
		for (int i = 0; i < mr; i++)
		{
			__m512i		xb = BCAST32(x + (size_t) i * Kp + 2 * g);

			for (int j = 0; j < nv; j++)
				DPBF16(acc[i][j], xb, wv[j]);
		}
	}
	for (int j = 0; j < nv; j++)
		for (int i = 0; i < mr; i++)
			bf16_store(y, ldy, L, p0, i, j, acc[i][j]);
}

/*
 * Walk the product: row blocks of RB, groups of NV panels, tiles of MR rows,
 * with the tails (fewer rows, fewer panels) as their own constant-size
 * tiles.  TILE(mr, nv) is the tile call of the precision at hand.
 */
#define WALK(TILE) \
	do { \
		const int	P = L->Np / QG_NB; \
		for (int r0 = 0; r0 < M; r0 += RB) \
		{ \
			const int	rend = M - r0 < RB ? M : r0 + RB; \
			for (int p0 = 0; p0 < P; p0 += NV) \
			{ \
				const int	nv = P - p0 < NV ? P - p0 : NV; \
				int			i = r0; \
				for (; i + MR <= rend; i += MR) \
					switch (nv) { \
						case 4: TILE(i, MR, 4); break; \
						case 3: TILE(i, MR, 3); break; \
						case 2: TILE(i, MR, 2); break; \
						default: TILE(i, MR, 1); break; \
					} \
				if (i < rend && nv == NV) \
					switch (rend - i) { \
						case 5: TILE(i, 5, NV); break; \
						case 4: TILE(i, 4, NV); break; \
						case 3: TILE(i, 3, NV); break; \
						case 2: TILE(i, 2, NV); break; \
						default: TILE(i, 1, NV); break; \
					} \
				else \
					for (; i < rend; i++) \
						switch (nv) { \
							case 3: TILE(i, 1, 3); break; \
							case 2: TILE(i, 1, 2); break; \
							default: TILE(i, 1, 1); break; \
						} \
			} \
		} \
	} while (0)

/* See qgemm_kernel.h. */
VNNI void
sst2_qg_i8_avx512(float *y, int ldy, const uint8_t *xq, const float *xs,
				  const int32_t *xz, const qlinear *L, int M)
{
#define I8_TILE(i, mr, nv) \
	((nv) == NV ? \
	 i8_tile_rx4(y + (size_t) (i) * ldy, ldy, xq + (size_t) (i) * L->Kp, xs + (i), xz + (i), L, p0, (mr)) : \
	 i8_tile(y + (size_t) (i) * ldy, ldy, xq + (size_t) (i) * L->Kp, xs + (i), xz + (i), \
			L, p0, (mr), (nv)))
	WALK(I8_TILE);
#undef I8_TILE
}

/* See qgemm_kernel.h. */
BF16 void
sst2_qg_bf16_avx512(float *y, int ldy, const uint16_t *xb, const qlinear *L, int M)
{
#define BF_TILE(i, mr, nv) \
	((nv) == NV ? \
	 bf16_tile_rx4(y + (size_t) (i) * ldy, ldy, xb + (size_t) (i) * L->Kp, L, p0, (mr)) : \
	 bf16_tile(y + (size_t) (i) * ldy, ldy, xb + (size_t) (i) * L->Kp, L, p0, (mr), (nv)))
	WALK(BF_TILE);
#undef BF_TILE
}

/*
 * sst2_qg_quantize_rows (qgemm.c) with AVX-512: the same bytes, scales and
 * zero points (min and max are exact whatever the order; x / s rounds to
 * nearest even in both, as lrintf does in the default rounding mode).
 */
VNNI void
sst2_qg_quantize_rows_avx512(uint8_t *xq, float *xs, int32_t *xz, const float *x, int ldx,
							 int M, int K, int Kp)
{
	for (int i = 0; i < M; i++)
	{
		const float *xi = x + (size_t) i * ldx;
		uint8_t    *qi = xq + (size_t) i * Kp;
		__m512		vlo = _mm512_setzero_ps(),
					vhi = _mm512_setzero_ps(),
					vs;
		__m512i		vz;
		float		lo,
					hi,
					s;
		int			z,
					k;

		for (k = 0; k < K; k += 16)
		{
			__mmask16	mk = K - k >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (K - k)) - 1);
			__m512		v = _mm512_maskz_loadu_ps(mk, xi + k);

			/* second operand kept when the first is NaN, as the scalar loop skips it */
			vlo = _mm512_min_ps(v, vlo);
			vhi = _mm512_max_ps(v, vhi);
		}
		lo = _mm512_reduce_min_ps(vlo);
		hi = _mm512_reduce_max_ps(vhi);
		if (!qg_row_scale(lo, hi, &s, &z))
		{
			memset(qi, 0, (size_t) Kp);
			xs[i] = 0.0f;
			xz[i] = 0;
			continue;
		}
		vs = _mm512_set1_ps(s);
		vz = _mm512_set1_epi32(z);
		for (k = 0; k < Kp; k += 16)
		{
			int			left = (K - k) < 0 ? 0 : K - k;
			__mmask16	mk = left >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << left) - 1);
			__mmask16	st = Kp - k >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (Kp - k)) - 1);
			__m512i		q = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_div_ps(_mm512_maskz_loadu_ps(mk, xi + k), vs)), vz);

			/* padding columns [K, Kp) are 0, as the portable path writes them */
			q = _mm512_maskz_mov_epi32(mk, q);
			q = _mm512_min_epi32(_mm512_max_epi32(q, _mm512_setzero_si512()), _mm512_set1_epi32(255));
			_mm512_mask_cvtepi32_storeu_epi8(qi + k, st, q);
		}
		xs[i] = s;
		xz[i] = z;
	}
}

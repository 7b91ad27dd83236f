/*
 * gemm_kernel.h
 *	  The kernel of sst2_gemm_nt, included once per instruction set by
 *	  gemm_generic.c, gemm_avx2.c and gemm_avx512.c, which define
 *	  GEMM_ISA_GENERIC, GEMM_ISA_AVX2 or GEMM_ISA_AVX512 first; each defines
 *	  sst2_gemm_nt_<isa> (gemm.c calls the one cpu.c chooses).
 *
 *	  y[M, N] = x[M, K] W[N, K]^T + b for few rows M (one sentence: M is its
 *	  token count, ~25), reading W where it lies: the read-only mapping of
 *	  the checkpoint, in PyTorch's Linear layout, never packed or copied.
 *
 *	  Why: cblas_sgemm copies ("packs") all of W into its own layout on every
 *	  call.  With thousands of rows that copy is amortized; with 25 it costs
 *	  as much as the arithmetic.  Weights cannot be packed once at load time
 *	  either, since every backend must share the one mapped copy.
 *
 *	  How: a row of W and a row of x are both contiguous in K, so y[i][j] is
 *	  a dot product of two contiguous vectors.  The kernel takes a register
 *	  tile of MR rows of x by NR rows of W and keeps MR x NR vector
 *	  accumulators; each step over K loads MR + NR vectors and does MR * NR
 *	  elementwise fused multiply-adds.  At the end of the tile each
 *	  accumulator is summed across its lanes into one y[i][j].
 *
 *	  Blocking: the outer loop walks W NR rows at a time; each block of W
 *	  (NR rows; when rows are longer than KC_BYTES / NR, K is cut into chunks
 *	  and the partial sums are added into y) is read once from memory and
 *	  then stays in L1 while all M rows of x (M x K floats, a few hundred KB
 *	  at most, in L2) stream past it, MR rows at a time.  So W goes through
 *	  the memory hierarchy exactly once, and the only repeated traffic is x
 *	  from L2.  While a block is being used, the next one is prefetched into
 *	  L2 (see tile_rows), so the arithmetic rarely waits for memory.
 *
 *	  Instruction sets: AVX-512 (16 lanes, 6 x 4 tile: 24 accumulators + 6 x
 *	  vectors + 1 W vector = 31 of the 32 registers), AVX2 + FMA (8 lanes,
 *	  3 x 4 tile in 16 registers), or plain C (8 lanes as arrays of floats,
 *	  left to the compiler's auto-vectorizer: SSE2 in the x86-64 baseline).
 *	  Every file is compiled with the baseline flags; the AVX2 and AVX-512
 *	  variants enable their instructions per function (KERNEL, a target
 *	  attribute), so no other code of the object can contain them.  Results
 *	  differ from sgemm's only by the order of the additions (a few ulp).
 *
 *	  For one sentence (25 rows) this beats sgemm by a wide margin; sgemm
 *	  wins from about a hundred rows on, where its packing is amortized (see
 *	  small_gemm_rows in forward.c; the figures are in bench/README.md).
 */
#include <stdbool.h>
#include <stddef.h>

#include "gemm.h"

#if defined(GEMM_ISA_AVX512)

#include <immintrin.h>

#define KERNEL __attribute__((target("avx512f,avx512dq,avx512vl,fma")))
#define GEMM_NAME sst2_gemm_nt_avx512
#define VL 16
#define MR 6
#define NR 4
typedef __m512 vec;
#define V_ZERO() _mm512_setzero_ps()
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define V_SUM(a) _mm512_reduce_add_ps(a)
#define V_SUM4(s, a, b, c, d) sum4_512((s), (a), (b), (c), (d))
#define V_IN_REG(v) __asm__("" : "+v"(v))

/*
 * s[0..3] = the lane sums of a, b, c, d: pairwise adds of interleaved lanes
 * bring the four into one register (13 instructions instead of 4 x 8).
 */
static inline KERNEL void
sum4_512(float *s, __m512 a, __m512 b, __m512 c, __m512 d)
{
	/* per 128-bit lane: [a0+a2, b0+b2, a1+a3, b1+b3], same for c, d */
	__m512		ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
	__m512		cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));

	/* per 128-bit lane: [a, b, c, d] partial sums */
	__m512		abcd = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)),
									 _mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));
	__m256		h = _mm256_add_ps(_mm512_castps512_ps256(abcd),
								  _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(abcd), 1)));

	_mm_storeu_ps(s, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
}

#elif defined(GEMM_ISA_AVX2)

#include <immintrin.h>

#define KERNEL __attribute__((target("avx2,fma")))
#define GEMM_NAME sst2_gemm_nt_avx2
#define VL 8
#define MR 3
#define NR 4
typedef __m256 vec;
#define V_ZERO() _mm256_setzero_ps()
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define V_SUM(a) hsum256(a)
#define V_SUM4(s, a, b, c, d) sum4_256((s), (a), (b), (c), (d))
#define V_IN_REG(v) __asm__("" : "+x"(v))

/* Sum of the 8 lanes of a. */
static inline KERNEL float
hsum256(__m256 a)
{
	__m128		s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* s[0..3] = the lane sums of a, b, c, d (as sum4_512, on 8 lanes). */
static inline KERNEL void
sum4_256(float *s, __m256 a, __m256 b, __m256 c, __m256 d)
{
	__m256		ab = _mm256_add_ps(_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b));
	__m256		cd = _mm256_add_ps(_mm256_unpacklo_ps(c, d), _mm256_unpackhi_ps(c, d));
	__m256		abcd = _mm256_add_ps(_mm256_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)),
									 _mm256_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));

	_mm_storeu_ps(s, _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1)));
}

#elif defined(GEMM_ISA_GENERIC)

#define KERNEL
#define GEMM_NAME sst2_gemm_nt_generic
#define VL 8
#define MR 2
#define NR 4
typedef struct vec
{
	float		f[VL];
} vec;
#define V_ZERO() vzero()
#define V_LOAD(p) vload(p)
#define V_FMA(a, b, c) vfma((a), (b), (c))
#define V_SUM(a) vsum(a)
#define V_SUM4(s, a, b, c, d) \
	((s)[0] = vsum(a), (s)[1] = vsum(b), (s)[2] = vsum(c), (s)[3] = vsum(d))
#define V_IN_REG(v) ((void) 0)

/* All lanes 0. */
static inline vec
vzero(void)
{
	vec			r;

	for (int l = 0; l < VL; l++)
		r.f[l] = 0.0f;
	return r;
}

/* VL floats from p (any alignment). */
static inline vec
vload(const float *p)
{
	vec			r;

	for (int l = 0; l < VL; l++)
		r.f[l] = p[l];
	return r;
}

/* a * b + c, lane by lane. */
static inline vec
vfma(vec a, vec b, vec c)
{
	for (int l = 0; l < VL; l++)
		c.f[l] += a.f[l] * b.f[l];
	return c;
}

/* Sum of the lanes, pairwise. */
static inline float
vsum(vec a)
{
	for (int w = VL / 2; w > 0; w /= 2)
		for (int l = 0; l < w; l++)
			a.f[l] += a.f[l + w];
	return a.f[0];
}

#else
#error "define GEMM_ISA_GENERIC, GEMM_ISA_AVX2 or GEMM_ISA_AVX512 before including gemm_kernel.h"
#endif

/* Bytes of W (NR rows of one K chunk) meant to stay in L1 (32 KB on Zen 4). */
#define KC_BYTES (24 * 1024)

/*
 * Prefetch into L2, not L1 (locality 2 = prefetcht1): the block being worked
 * on fills most of L1, and fetching the next one on top of it evicts it
 * (prefetcht1 beat both no prefetch and prefetcht0 at batch 1: see
 * bench/README.md).
 */
#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#define PREFETCH(p) __builtin_prefetch((p), 0, 2)
#else
#define ALWAYS_INLINE inline
#define PREFETCH(p) ((void) 0)
#endif

/*
 * One register tile: y[mr, nr] (+)= x[mr, k0:k1] W[nr, k0:k1]^T.  mr and nr
 * are compile-time constants at every call (the function is always inlined
 * into tile_rows), so acc[][] lives in registers.  k1 - k0 need not be a
 * multiple of VL: the last few products are added one by one.  With first,
 * y is overwritten with b + the sum (b may be NULL), else the sum is added.
 */
static ALWAYS_INLINE KERNEL void
tile(float *restrict y, int ldy, const float *restrict x, int ldx,
	 const float *restrict w, int ldw, const float *restrict b,
	 int mr, int nr, int k0, int k1, bool first,
	 const float *pf, size_t pf_stride, int n_pf)
{
	vec			acc[MR][NR];
	const int	kv = k0 + (k1 - k0) / VL * VL;

	for (int i = 0; i < mr; i++)
		for (int j = 0; j < nr; j++)
			acc[i][j] = V_ZERO();
	for (int k = k0; k < kv; k += VL)
	{
		vec			xv[MR];

		for (int r = 0; r < n_pf; r++)
			PREFETCH(pf + r * pf_stride + (k - k0));

		for (int i = 0; i < mr; i++)
		{
			xv[i] = V_LOAD(x + (size_t) i * ldx + k);
			V_IN_REG(xv[i]);
		}
		for (int j = 0; j < nr; j++)
		{
			vec			wv = V_LOAD(w + (size_t) j * ldw + k);

			/* without this, compilers fold the loads into the FMAs: MR loads each */
			V_IN_REG(wv);
			for (int i = 0; i < mr; i++)
				acc[i][j] = V_FMA(xv[i], wv, acc[i][j]);
		}
	}
	for (int i = 0; i < mr; i++)
	{
		float		s[NR];
		int			j = 0;

		for (; j + 4 <= nr; j += 4)
			V_SUM4(s + j, acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]);
		for (; j < nr; j++)
			s[j] = V_SUM(acc[i][j]);
		for (j = 0; j < nr; j++)
		{
			float	   *yij = y + (size_t) i * ldy + j;

			for (int k = kv; k < k1; k++)
				s[j] += x[(size_t) i * ldx + k] * w[(size_t) j * ldw + k];
			*yij = (first ? (b ? b[j] : 0.0f) : *yij) + s[j];
		}
	}
}

/*
 * All M rows of x against one block of nr (NR or 1) rows of W over K
 * columns [k0, k1): MR rows at a time, then the 1..MR-1 rows left.
 *
 * Meanwhile the next block of W (n_next rows from next, ldw apart) is
 * prefetched: the k loop of a tile runs over exactly one row of a block, so
 * tile t fetches rows t, t + T, t + 2T ... of the next block (T tiles in
 * all), one cache line per step.  By the time this block is done the next
 * one is on its way into cache, and the tiles never wait for memory.
 */
static KERNEL void
tile_rows(float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
		  const float *b, int M, int nr, int k0, int k1, bool first,
		  const float *next, int n_next)
{
	int			i = 0,
				t = 0;
	const int	n_tiles = nr == NR ? (M + MR - 1) / MR : M / MR + M % MR;

#define TILE(mr_, nr_) \
	do { \
		int			n_pf = t < n_next ? (n_next - t + n_tiles - 1) / n_tiles : 0; \
		\
		tile(y + (size_t) i * ldy, ldy, x + (size_t) i * ldx, ldx, w, ldw, b, \
			 (mr_), (nr_), k0, k1, first, \
			 next + (size_t) t * ldw, (size_t) n_tiles * ldw, n_pf); \
		t++; \
	} while (0)

	if (nr == NR)
	{
		for (; i + MR <= M; i += MR)
			TILE(MR, NR);
		switch (M - i)
		{
#if MR > 5
			case 5:
				TILE(5, NR);
				break;
#endif
#if MR > 4
			case 4:
				TILE(4, NR);
				break;
#endif
#if MR > 3
			case 3:
				TILE(3, NR);
				break;
#endif
#if MR > 2
			case 2:
				TILE(2, NR);
				break;
#endif
			case 1:
				TILE(1, NR);
				break;
		}
	}
	else
	{
		for (; i + MR <= M; i += MR)
			TILE(MR, 1);
		for (; i < M; i++)
			TILE(1, 1);
	}
#undef TILE
}

/* Step (*j, *k0) to the next block of W in the order sst2_gemm_nt visits them. */
static KERNEL void
next_block(int *j, int *k0, int N, int K, int kc)
{
	if (*j >= N)
		return;
	if (K - *k0 > kc)
		*k0 += kc;
	else
	{
		*j += N - *j >= NR ? NR : 1;
		*k0 = 0;
	}
}

/* sst2_gemm_nt (see gemm.h) for this instruction set. */
KERNEL void
GEMM_NAME(float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
			 const float *b, int M, int N, int K)
{
	int			kc = K;

	if (M <= 0 || N <= 0)
		return;

	/* cut K into equal chunks (multiples of VL) so NR rows of W fit KC_BYTES */
	if ((size_t) NR * K * sizeof(float) > KC_BYTES)
	{
		int			chunks = (int) (((size_t) NR * K * sizeof(float) + KC_BYTES - 1) / KC_BYTES);

		kc = ((K + chunks - 1) / chunks + VL - 1) / VL * VL;
	}

	/* blocks of W in order: NR rows (1 at the end) by K chunks, chunks inner */
	for (int j = 0; j < N;)
	{
		int			nr = N - j >= NR ? NR : 1;
		int			k0 = 0;

		do
		{
			int			k1 = K - k0 > kc ? k0 + kc : K;
			int			jn = j,
						kn = k0,
						n_next;

			/* the block to prefetch: the one after this */
			next_block(&jn, &kn, N, K, kc);
			n_next = jn >= N ? 0 : N - jn >= NR ? NR : 1;
			tile_rows(y + j, ldy, x, ldx, w + (size_t) j * ldw, ldw,
					  b ? b + j : NULL, M, nr, k0, k1, k0 == 0,
					  w + (size_t) jn * ldw + kn, n_next);
			k0 = k1;
		} while (k0 < K);
		j += nr;
	}
}

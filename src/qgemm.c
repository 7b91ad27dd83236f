/*
 * qgemm.c
 *	  Reduced-precision linear layers (see qgemm.h): the weights' packing,
 *	  and the choice of kernel path by CPU feature and SST2_ISA (cpu.c): the
 *	  AVX-512 kernels run only when SST2_ISA resolves to avx512 and the CPU
 *	  has AVX512_VNNI (int8) or AVX512_BF16 (bf16); otherwise the portable C
 *	  path runs, with the same results for int8 (exact integer sums) and
 *	  results equal up to the order of fp32 additions for bf16.
 */
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "cpu.h"
#include "qgemm.h"

/* Rows per call of a kernel: bounds the quantized rows' size and lets a cancel in. */
#define QG_ROW_CHUNK 256

static size_t
align64(size_t x)
{
	return (x + 63) & ~(size_t) 63;
}

/* See qgemm.h. */
size_t
sst2_qg_pack_bytes(sst2_precision p, int N, int K)
{
	size_t		np = (size_t) qg_pad_n(N),
				kp = (size_t) qg_pad_k(K);

	if (p == SST2_PREC_INT8)
		return align64(np * kp) + 2 * align64(np * 4);
	return align64(np * kp * 2);
}

/* See qgemm.h. */
void
sst2_qg_unpacked(qlinear *L, const void *packed, const float *bias, int N, int K,
				 sst2_precision p)
{
	const uint8_t *base = packed;

	memset(L, 0, sizeof(*L));
	L->N = N;
	L->K = K;
	L->Np = qg_pad_n(N);
	L->Kp = qg_pad_k(K);
	L->bias = bias;
	if (p == SST2_PREC_INT8)
	{
		size_t		wb = align64((size_t) L->Np * L->Kp);

		L->w8 = (const int8_t *) base;
		L->scale = (const float *) (base + wb);
		L->wsum = (const int32_t *) (base + wb + align64((size_t) L->Np * 4));
	}
	else
		L->wbf = (const uint16_t *) base;
}

/*
 * Pack W as int8 (see qgemm.h): per channel sw = max |w| / 127 (1 for an
 * all-zero row), qw = round-half-even(w / max |w| * 127), wsum = sum qw.
 */
static void
pack_i8(int8_t *w8, float *scale, int32_t *wsum, const float *w, int N, int K, int Np, int Kp)
{
	const int	K4 = Kp / 4;

	for (int n = 0; n < N; n++)
	{
		const float *wn = w + (size_t) n * K;
		float		mx = 0.0f;
		int32_t		sum = 0;
		int8_t	   *panel = w8 + (size_t) (n / QG_NB) * K4 * 64;
		int			c = n % QG_NB;

		for (int k = 0; k < K; k++)
			mx = fabsf(wn[k]) > mx ? fabsf(wn[k]) : mx;
		scale[n] = mx > 0.0f ? mx / 127.0f : 1.0f;
		for (int k = 0; k < K; k++)
		{
			/* w / max |w| is in [-1, 1] whatever the magnitude of the row */
			long		q = mx > 0.0f ? lrintf(wn[k] / mx * 127.0f) : 0;

			q = q < -127 ? -127 : q > 127 ? 127 : q;
			panel[(size_t) (k / 4) * 64 + c * 4 + k % 4] = (int8_t) q;
			sum += (int32_t) q;
		}
		wsum[n] = sum;
	}
	/* padded channels: zero weights (dst starts zeroed), scale 1 */
	for (int n = N; n < Np; n++)
		scale[n] = 1.0f;
}

/* Pack W as bf16 (round to nearest even). */
static void
pack_bf16(uint16_t *wb, const float *w, int N, int K, int Kp)
{
	const int	K2 = Kp / 2;

	for (int n = 0; n < N; n++)
	{
		const float *wn = w + (size_t) n * K;
		uint16_t   *panel = wb + (size_t) (n / QG_NB) * K2 * 32;
		int			c = n % QG_NB;

		for (int k = 0; k < K; k++)
			panel[(size_t) (k / 2) * 32 + c * 2 + k % 2] = qg_f32_to_bf16(wn[k]);
	}
}

/* See qgemm.h. */
void
sst2_qg_pack(qlinear *L, void *dst, const float *w, const float *bias, int N, int K,
			 sst2_precision p)
{
	sst2_qg_unpacked(L, dst, bias, N, K, p);
	if (p == SST2_PREC_INT8)
		pack_i8((int8_t *) L->w8, (float *) L->scale, (int32_t *) L->wsum, w, N, K,
				L->Np, L->Kp);
	else
		pack_bf16((uint16_t *) L->wbf, w, N, K, L->Kp);
}

static pthread_once_t feat_once = PTHREAD_ONCE_INIT;
static unsigned feats;

static void
feat_init(void)
{
	feats = sst2_cpu_features();
}

/* See qgemm.h. */
qg_path
sst2_qg_path(sst2_precision p)
{
	pthread_once(&feat_once, feat_init);
	if (sst2_isa_current() != SST2_ISA_AVX512)
		return QG_GENERIC;
	if (p == SST2_PREC_INT8 && (feats & SST2_CPU_AVX512VNNI))
		return QG_AVX512;
	if (p == SST2_PREC_BF16 && (feats & SST2_CPU_AVX512BF16))
		return QG_AVX512;
	return QG_GENERIC;
}

/* See qgemm.h. */
const char *
sst2_qg_path_name(sst2_precision p)
{
	if (sst2_qg_path(p) == QG_GENERIC)
		return "generic";
	return p == SST2_PREC_INT8 ? "avx512-vnni" : "avx512-bf16";
}

/* See qgemm.h. */
size_t
sst2_qg_scratch_bytes(size_t M, size_t Kp)
{
	size_t		rows = M < QG_ROW_CHUNK ? M : QG_ROW_CHUNK;

	/* bf16 rows (2 bytes a value) are the larger; then scales, zero points */
	return rows * Kp * 2 + rows * 8 + 128;
}

/* See qgemm.h. */
void
sst2_qlinear(float *y, const float *x, const qlinear *L, int M, sst2_precision p,
			 void *scratch)
{
	const bool	fast = sst2_qg_path(p) == QG_AVX512;

	for (int i0 = 0; i0 < M; i0 += QG_ROW_CHUNK)
	{
		int			rows = M - i0 < QG_ROW_CHUNK ? M - i0 : QG_ROW_CHUNK;
		const float *xr = x + (size_t) i0 * L->K;
		float	   *yr = y + (size_t) i0 * L->N;

		if (i0 > 0)
			SST2_CHECK_INTERRUPTS();
		if (p == SST2_PREC_INT8)
		{
			uint8_t    *xq = scratch;
			float	   *xs = (float *) (xq + (((size_t) rows * L->Kp + 63) & ~(size_t) 63));
			int32_t    *xz = (int32_t *) (xs + rows);

			if (fast)
			{
				sst2_qg_quantize_rows_avx512(xq, xs, xz, xr, L->K, rows, L->K, L->Kp);
				sst2_qg_i8_avx512(yr, L->N, xq, xs, xz, L, rows);
			}
			else
			{
				sst2_qg_quantize_rows(xq, xs, xz, xr, L->K, rows, L->K, L->Kp);
				sst2_qg_i8_generic(yr, L->N, xq, xs, xz, L, rows);
			}
		}
		else
		{
			uint16_t   *xb = scratch;

			sst2_qg_bf16_rows(xb, xr, L->K, rows, L->K, L->Kp);
			if (fast)
				sst2_qg_bf16_avx512(yr, L->N, xb, L, rows);
			else
				sst2_qg_bf16_generic(yr, L->N, xb, L, rows);
		}
	}
}

/*
 * forward.c
 *	  The fp32 forward pass of DistilBertForSequenceClassification, exactly as
 *	  Hugging Face computes it, read top to bottom: the element-wise steps
 *	  (act_kernel.h, built per instruction set), attention, one transformer
 *	  block, the workspace, then the whole pass (embeddings, blocks,
 *	  classifier head).
 *
 *	  Notation in comments: M = tokens in the batch (all sequences packed one
 *	  after another, no padding), D = dim, H = hidden_dim, hd = D / n_heads,
 *	  L = length of one sequence, n = number of sequences.  Weights keep
 *	  PyTorch's Linear layout W[out, in], so y = x W^T + b is one matrix
 *	  product over all M tokens.  On AVX-512 the blocks' six linear layers
 *	  run on weights packed once (fpack.c, sgemm_avx512.c) for every M;
 *	  elsewhere sst2_gemm_nt (gemm.c, W read in place) for a few sentences,
 *	  sgemm (RowMajor, NoTrans, Trans) for larger batches.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "cpu.h"
#include "gemm.h"
#include "hugemem.h"
#include "model.h"
#include "sgemm.h"
#include "util.h"

/* the element-wise steps for the x86-64 baseline (act_kernel.h) */
#define ACT_NAME(f) f##_generic
#define ACT_TARGET static
#include "act_kernel.h"
#include "act.h"

/* x[i] = LayerNorm(x[i] + r[i]) * g + b for M rows of D; r may be NULL. */
static void
add_layernorm(float *x, const float *r, const float *g, const float *b, int M, int D)
{
	if (sst2_isa_current() == SST2_ISA_AVX512)
		sst2_add_layernorm_avx512(x, r, g, b, M, D);
	else
		add_layernorm_generic(x, r, g, b, M, D);
}

/* x = GELU(x), the exact (erf) form. */
static void
gelu(float *x, size_t n)
{
	if (sst2_isa_current() == SST2_ISA_AVX512)
		sst2_gelu_avx512(x, n);
	else
		gelu_generic(x, n);
}

/* In-place softmax of each of the rows rows of s (n columns). */
static void
softmax_rows(float *s, int rows, int n)
{
	if (sst2_isa_current() == SST2_ISA_AVX512)
		sst2_softmax_rows_avx512(s, rows, n);
	else
		softmax_rows_generic(s, rows, n);
}

/* See sst2_core.h. */
void
sst2_set_threads(int n)
{
	openblas_set_num_threads(n);
}

/* ---------------------------------------------------------------- kernels */

/*
 * Rows below which sst2_gemm_nt (W read in place) beats cblas_sgemm (which
 * copies all of W into its packed layout on every call), per shape of the
 * model, with W streaming from memory, one thread (the crossover points were
 * measured with bench/bench_core; see bench/README.md).
 */
static int
small_gemm_rows(int N, int K)
{
	if (K > 1024)
		return 96;				/* ffn.lin2: K = 3072, N = 768 */
	if (N > 1024)
		return 128;				/* ffn.lin1: K = 768, N = 3072 */
	return 80;					/* the 768 x 768 projections */
}

/*
 * y[M, N] = x[M, K] W[N, K]^T + b[N]  (PyTorch Linear).  Few rows (one
 * sentence, or the [CLS] rows of the last block) go through the in-place
 * kernel; whole batches through sgemm, whose packing is then amortized.
 * Large batches go in chunks of about 2 GFLOP (a few tens of ms) with an
 * interrupt check between them, so a cancel never waits for a whole product.
 */
static void
linear(float *y, const float *x, const float *w, const float *b, int M, int N, int K)
{
	int			chunk;

	if (M < small_gemm_rows(N, K))
	{
		sst2_gemm_nt(y, N, x, K, w, K, b, M, N, K);
		return;
	}
	for (int i = 0; i < M; i++)
		memcpy(y + (size_t) i * N, b, sizeof(float) * (size_t) N);
	chunk = (int) (2e9 / (2.0 * N * K));
	if (chunk < 512)
		chunk = 512;
	for (int i = 0; i < M; i += chunk)
	{
		int			rows = M - i < chunk ? M - i : chunk;

		if (i > 0)
			SST2_CHECK_INTERRUPTS();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, N, K,
					1.0f, x + (size_t) i * K, K, w, K, 1.0f, y + (size_t) i * N, N);
	}
}

/*
 * linear() on weights packed for the AVX-512 kernel (fpack.c), any M, in
 * chunks of about 2 GFLOP with an interrupt check between them.
 */
static void
linear_packed(float *y, const float *x, const float *wp, const float *b, int M, int N, int K,
			  float *scratch)
{
	int			chunk = (int) (2e9 / (2.0 * N * K));

	if (chunk < 512)
		chunk = 512;
	for (int i = 0; i < M; i += chunk)
	{
		int			rows = M - i < chunk ? M - i : chunk;

		if (i > 0)
			SST2_CHECK_INTERRUPTS();
		sst2_sgemm_packed_avx512(y + (size_t) i * N, N, x + (size_t) i * K, K, wp, b,
								 rows, N, K, scratch);
	}
}

/*
 * One of a block's six linear layers: fp32 through the packed AVX-512
 * kernel (when fpack.c packed the layer) or linear(), or in the model's
 * reduced precision through its packed weights (qgemm.c), with scratch for
 * the converted or interleaved activation rows.
 */
static void
block_linear(const sst2_model *m, float *y, const float *x, const float *w, const float *b,
			 const float *wp, const qlinear *ql, void *scratch, int M, int N, int K)
{
	if (m->precision == SST2_PREC_FP32 && wp)
		linear_packed(y, x, wp, b, M, N, K, scratch);
	else if (m->precision == SST2_PREC_FP32)
		linear(y, x, w, b, M, N, K);
	else
		sst2_qlinear(y, x, ql, M, m->precision, scratch);
}

/* x = max(x, 0). */
static void
relu(float *restrict x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* ---------------------------------------------------------------- forward */

/* Where each sequence's rows are: tokens [off, off+len) of the batch. */
typedef struct batch
{
	const int  *lens;
	const size_t *offs;			/* [n] first token of each sequence */
	int			n;
	int			M;				/* total tokens */
} batch;

/*
 * Multi-head self-attention, per sequence over its own tokens only.
 * q: [Mq, D] query rows (Mq = M, or n in CLS mode: one row per sequence),
 * k, v: [M, D]; ctx: [Mq, D] out; s: scratch of at least max_len^2 floats.
 */
static void
attention(const sst2_model *m, const float *q, const float *k, const float *v,
		  float *ctx, float *s, const batch *b, bool cls_only)
{
	const int	D = m->cfg.dim,
				nh = m->cfg.n_heads,
				hd = D / nh;
	const float scale = 1.0f / sqrtf((float) hd);

	const bool	own = sst2_isa_current() == SST2_ISA_AVX512 && hd % 16 == 0;

	for (int i = 0; i < b->n; i++)
	{
		const int	L = b->lens[i];
		const size_t off = b->offs[i];
		const size_t qoff = cls_only ? (size_t) i : off;
		const int	Lq = cls_only ? 1 : L;

		if (b->n > 1)
			SST2_CHECK_INTERRUPTS();
		for (int h = 0; h < nh; h++)
		{
			/* s[Lq, L] = q_h k_h^T / sqrt(hd); softmax; ctx_h = s v_h */
			if (own)
				sst2_attn_scores_avx512(s, L, q + qoff * D + h * hd, D,
										k + off * D + h * hd, D, scale, Lq, L, hd);
			else
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Lq, L, hd,
							scale, q + qoff * D + h * hd, D, k + off * D + h * hd, D,
							0.0f, s, L);
			softmax_rows(s, Lq, L);
			if (own)
				sst2_attn_context_avx512(ctx + qoff * D + h * hd, D, s, L,
										 v + off * D + h * hd, D, Lq, L, hd);
			else
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Lq, hd, L,
							1.0f, s, L, v + off * D + h * hd, D,
							0.0f, ctx + qoff * D + h * hd, D);
		}
	}
}

/* Views into the model's workspace for one call. */
typedef struct workspace
{
	float	   *x;				/* [M, D] */
	float	   *t;				/* [M, D] attention / FFN output */
	float	   *q,
			   *k,
			   *v,
			   *ctx;			/* [M, D] each, inside big */
	float	   *h;				/* [M, H], inside big (reuses q, k, v, ctx) */
	float	   *s;				/* [max_len, max_len] attention scores */
	float	   *xc;				/* [n, D] [CLS] rows */
	void	   *qs;				/* bf16/int8 activation rows (qgemm.c) */
} workspace;

/*
 * One transformer block.  x: [M, D] hidden states, updated in place; in CLS
 * mode (the last block) only the n [CLS] rows are carried on: keys and values
 * come from all M rows of x, while xc: [n, D] holds the [CLS] rows and is the
 * block's output.  Nothing else of the last block reaches the classifier, so
 * its queries, attention output and FFN run on n rows instead of M.
 */
static void
block(const sst2_model *m, const layer_weights *w, workspace *ws, const batch *b,
	  bool cls_only)
{
	const int	D = m->cfg.dim,
				H = m->cfg.hidden_dim;
	float	   *xq = cls_only ? ws->xc : ws->x;
	const int	Mq = cls_only ? b->n : b->M;

	if (cls_only)
		for (int i = 0; i < b->n; i++)
			memcpy(ws->xc + (size_t) i * D, ws->x + b->offs[i] * D, sizeof(float) * D);

	block_linear(m, ws->q, xq, w->q_w, w->q_b, w->fpk[QL_Q], &w->ql[QL_Q], ws->qs, Mq, D, D);
	block_linear(m, ws->k, ws->x, w->k_w, w->k_b, w->fpk[QL_K], &w->ql[QL_K], ws->qs, b->M, D, D);
	block_linear(m, ws->v, ws->x, w->v_w, w->v_b, w->fpk[QL_V], &w->ql[QL_V], ws->qs, b->M, D, D);
	attention(m, ws->q, ws->k, ws->v, ws->ctx, ws->s, b, cls_only);
	block_linear(m, ws->t, ws->ctx, w->o_w, w->o_b, w->fpk[QL_O], &w->ql[QL_O], ws->qs, Mq, D, D);
	add_layernorm(xq, ws->t, w->sa_ln_w, w->sa_ln_b, Mq, D);

	block_linear(m, ws->h, xq, w->ff1_w, w->ff1_b, w->fpk[QL_FF1], &w->ql[QL_FF1], ws->qs, Mq, H, D);
	if (m->cfg.activation == SST2_RELU)
		relu(ws->h, (size_t) Mq * H);
	else
		gelu(ws->h, (size_t) Mq * H);
	block_linear(m, ws->t, ws->h, w->ff2_w, w->ff2_b, w->fpk[QL_FF2], &w->ql[QL_FF2], ws->qs, Mq, D, H);
	add_layernorm(xq, ws->t, w->out_ln_w, w->out_ln_b, Mq, D);
}

/*
 * Make sure the workspace holds `need` floats (no per-call allocation once
 * grown).  It is mapped on its own, in whole huge pages where the kernel
 * offers them: a new backend's first pass then writes a few fresh huge pages
 * instead of hundreds of fresh 4 KB pages, each a page fault.
 */
static sst2_status
ws_reserve(sst2_model *m, size_t need, sst2_error *err)
{
	size_t		bytes;
	void	   *p;

	if (need <= m->ws_floats)
		return SST2_OK;
	bytes = need > SIZE_MAX / sizeof(float) ? SIZE_MAX : need * sizeof(float);
	p = bytes == SIZE_MAX ? NULL : sst2_huge_map(bytes, 0);
	if (!p)
		return sst2_set_error(err, SST2_ERR_NOMEM,
							  "out of memory allocating a %zu-byte workspace",
							  need * sizeof(float));
	sst2_model_trim(m, 0);
	m->ws = p;
	/* all that was mapped: whole huge pages where the kernel has them (sst2_huge_len) */
	m->ws_floats = sst2_huge_len(bytes, 0) / sizeof(float);
	return SST2_OK;
}

/* Checked size arithmetic: a * b + c, or SIZE_MAX on overflow. */
static size_t
mul_add(size_t a, size_t b, size_t c)
{
	if (a != 0 && b > (SIZE_MAX - c) / a)
		return SIZE_MAX;
	return a * b + c;
}

/* Floats of workspace for n sequences of M tokens in all, the longest max_len. */
static size_t
workspace_floats(const sst2_config *c, sst2_precision p, size_t M, int n, int max_len)
{
	const size_t D = (size_t) c->dim,
				H = (size_t) c->hidden_dim;
	size_t		big_w = H > 4 * D ? H : 4 * D;
	size_t		need;

	/* x, t [M, D]; big [M, max(4D, H)]; xc [n, D]; s [L^2]; offs [n]; alignment */
	need = mul_add(M, 2 * D + big_w, 0);
	need = mul_add((size_t) max_len, (size_t) max_len, need);
	need = mul_add((size_t) n, D + sizeof(size_t) / sizeof(float) + 1, need);
	need = mul_add(1, 64, need);
	/* fp32 on AVX-512: a block of interleaved rows (sgemm_avx512.c) */
	if (p == SST2_PREC_FP32)
		need = mul_add(1, SG_SCRATCH_FLOATS + 16, need);
	/* bf16/int8: converted activation rows of the widest input, aligned */
	if (p != SST2_PREC_FP32)
	{
		size_t		kp = (size_t) qg_pad_k(c->hidden_dim > c->dim ? c->hidden_dim : c->dim);
		size_t		qb = sst2_qg_scratch_bytes(M, kp);

		need = mul_add(1, qb / sizeof(float) + 32, need);
	}
	return need;
}

/* See sst2_core.h. */
size_t
sst2_model_workspace_bytes(const sst2_model *m, size_t M, int n_seqs, int max_len)
{
	size_t		f = workspace_floats(&m->cfg, m->precision, M, n_seqs, max_len);

	return f > SIZE_MAX / sizeof(float) ? SIZE_MAX : f * sizeof(float);
}

/* See sst2_core.h. */
void
sst2_model_trim(sst2_model *m, size_t keep_bytes)
{
	if (m->ws_floats * sizeof(float) > keep_bytes)
	{
		sst2_huge_unmap(m->ws, m->ws_floats * sizeof(float));
		m->ws = NULL;
		m->ws_floats = 0;
	}
}

/* See sst2_core.h. */
sst2_status
sst2_model_forward(sst2_model *m, const int32_t *ids, const int *lens, int n_seqs,
				   float *logits, sst2_error *err)
{
	const sst2_config *c = &m->cfg;
	const int	D = c->dim,
				H = c->hidden_dim;
	size_t		M = 0,
				big_w,
				need,
				o;
	int			max_len = 0;
	workspace	ws;
	batch		b;
	size_t	   *offs;
	sst2_status st;

	if (ids == NULL || lens == NULL || logits == NULL)
		return sst2_set_error(err, SST2_ERR_LIMIT, "no input given");
	if (m->broken)
		return sst2_set_error(err, SST2_ERR_FORMAT,
							  "model file \"%s\" was truncated or rewritten while in use",
							  sst2_model_weights_path(m));
	if (n_seqs < 1)
		return sst2_set_error(err, SST2_ERR_LIMIT,
							  "number of sequences must be at least 1, got %d", n_seqs);
	for (int i = 0; i < n_seqs; i++)
	{
		if (lens[i] < 1 || lens[i] > c->max_pos)
			return sst2_set_error(err, SST2_ERR_LIMIT,
								  "sequence %d has %d tokens, must have between 1 and %d",
								  i, lens[i], c->max_pos);
		M += (size_t) lens[i];
		if (lens[i] > max_len)
			max_len = lens[i];
	}
	if (M > (size_t) INT_MAX / (size_t) (H > 4 * D ? H : 4 * D))
		return sst2_set_error(err, SST2_ERR_LIMIT,
							  "batch of %zu tokens is too large", M);
	for (size_t t = 0; t < M; t++)
		if (ids[t] < 0 || ids[t] >= c->vocab_size)
			return sst2_set_error(err, SST2_ERR_LIMIT,
								  "token id %d at position %zu is out of range (vocabulary has %d tokens)",
								  (int) ids[t], t, c->vocab_size);

	big_w = (size_t) (H > 4 * D ? H : 4 * D);
	need = workspace_floats(c, m->precision, M, n_seqs, max_len);
	if (need == SIZE_MAX)
		return sst2_set_error(err, SST2_ERR_LIMIT, "batch of %zu tokens is too large", M);
	st = ws_reserve(m, need, err);
	if (st != SST2_OK)
		return st;

	o = 0;
	ws.x = m->ws + o;
	o += M * D;
	ws.t = m->ws + o;
	o += M * D;
	ws.q = m->ws + o;
	ws.h = ws.q;
	ws.k = ws.q + M * D;
	ws.v = ws.k + M * D;
	ws.ctx = ws.v + M * D;
	o += M * big_w;
	ws.xc = m->ws + o;
	o += (size_t) n_seqs * D;
	ws.s = m->ws + o;
	o += (size_t) max_len * max_len;
	o = (o + 15) & ~(size_t) 15;
	offs = (size_t *) (m->ws + o);
	o += (size_t) n_seqs * (sizeof(size_t) / sizeof(float));
	o = (o + 15) & ~(size_t) 15;
	ws.qs = m->ws + o;

	b.lens = lens;
	b.offs = offs;
	b.n = n_seqs;
	b.M = (int) M;
	o = 0;
	for (int i = 0; i < n_seqs; i++)
	{
		offs[i] = o;
		o += (size_t) lens[i];
	}

	/* embeddings: x = LayerNorm(word[id] + pos[position]) */
	for (int i = 0; i < n_seqs; i++)
		for (int p = 0; p < lens[i]; p++)
		{
			size_t		t = offs[i] + (size_t) p;
			const float *we = m->word_emb + (size_t) ids[t] * D;
			const float *pe = m->pos_emb + (size_t) p * D;
			float	   *xt = ws.x + t * D;

			for (int j = 0; j < D; j++)
				xt[j] = we[j] + pe[j];
		}
	add_layernorm(ws.x, NULL, m->emb_ln_w, m->emb_ln_b, (int) M, D);

	for (int l = 0; l < c->n_layers; l++)
	{
		SST2_CHECK_INTERRUPTS();
		block(m, &m->layers[l], &ws, &b, l == c->n_layers - 1);
	}

	/* head: [CLS] rows -> pre_classifier -> ReLU -> classifier */
	linear(ws.t, ws.xc, m->pre_w, m->pre_b, n_seqs, D, D);
	relu(ws.t, (size_t) n_seqs * D);
	linear(logits, ws.t, m->cls_w, m->cls_b, n_seqs, c->n_labels, D);

	/* a mapped page vanished during the pass (guard.c): the result is garbage */
	if (m->broken)
		return sst2_set_error(err, SST2_ERR_FORMAT,
							  "model file \"%s\" was truncated or rewritten while in use",
							  sst2_model_weights_path(m));
	return SST2_OK;
}

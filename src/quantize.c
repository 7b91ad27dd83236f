/*
 * quantize.c
 *	  The bf16 and int8 modes' weights: the six linear layers of every block
 *	  (q, k, v, out_lin, lin1, lin2) converted once from their fp32 values
 *	  into the packed panels the kernels read (layout and arithmetic in
 *	  qgemm.h), stored as a cache file of format "bf16" or "i8" beside the
 *	  fp32 one (weights_cache.c: same naming, trust checks and atomic write),
 *	  or in private memory without a cache folder.  An F32 checkpoint gets
 *	  such a file too, so every backend maps one shared copy.
 *
 *	  The packing itself (rounding, layout) is sst2_qg_pack (qgemm.c); this
 *	  file places every layer in the file and ties the file to its source.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "util.h"

/* Bumped whenever the packed layout or the rounding changes. */
#define QUANT_LAYOUT_VERSION 1

/* Where one layer's packing goes in the data part, in bytes. */
typedef struct qplace
{
	const float *w;				/* the fp32 source [N, K] */
	int			N,
				K;
	size_t		off;			/* of its packing (sst2_qg_pack) */
} qplace;

typedef struct qplan
{
	sst2_precision precision;
	int			n;
	qplace	   *pl;
} qplan;

static size_t
align64(size_t x)
{
	return (x + 63) & ~(size_t) 63;
}

/* sst2_cache_fill: pack every planned layer. */
static void
fill_all(void *dst, void *arg)
{
	const qplan *q = arg;

	for (int i = 0; i < q->n; i++)
	{
		qlinear		L;
		const qplace *p = &q->pl[i];

		sst2_qg_pack(&L, (uint8_t *) dst + p->off, p->w, NULL, p->N, p->K, q->precision);
	}
}

/* The spec of the weight tensor *dst points at (for the plan hash). */
static const tensor_spec *
spec_of(const tensor_spec *specs, int n, const float *const *dst)
{
	for (int i = 0; i < n; i++)
		if (specs[i].dst == dst)
			return &specs[i];
	return NULL;
}

/* See model.h. */
sst2_status
sst2_quantize_weights(sst2_model *m, const tensor_spec *specs, int n_specs,
					  const char *cache_dir, sst2_error *err)
{
	const sst2_config *c = &m->cfg;
	const bool	i8 = m->precision == SST2_PREC_INT8;
	qplan		q;
	size_t		off = 0;
	uint64_t	h = SST2_FNV_INIT;
	int			v = QUANT_LAYOUT_VERSION;
	sst2_status rc;

	if (c->dim > 32768 || c->hidden_dim > 32768)
		return sst2_set_error(err, SST2_ERR_CONFIG,
							  "precision %s supports dim and hidden_dim up to 32768",
							  sst2_precision_name(m->precision));
	q.precision = m->precision;
	q.n = c->n_layers * N_QL;
	q.pl = calloc((size_t) q.n, sizeof(qplace));
	if (!q.pl)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");

	h = sst2_fnv1a(h, &v, sizeof(v));
	h = sst2_fnv1a(h, &m->precision, sizeof(m->precision));
	for (int l = 0; l < c->n_layers; l++)
	{
		layer_weights *w = &m->layers[l];
		const float *const *src[N_QL] = {&w->q_w, &w->k_w, &w->v_w, &w->o_w, &w->ff1_w, &w->ff2_w};
		const int	NN[N_QL] = {c->dim, c->dim, c->dim, c->dim, c->hidden_dim, c->dim};
		const int	KK[N_QL] = {c->dim, c->dim, c->dim, c->dim, c->dim, c->hidden_dim};

		for (int j = 0; j < N_QL; j++)
		{
			qplace	   *p = &q.pl[l * N_QL + j];
			const tensor_spec *s = spec_of(specs, n_specs, src[j]);

			p->w = *src[j];
			p->N = NN[j];
			p->K = KK[j];
			p->off = off;
			off = align64(off + sst2_qg_pack_bytes(m->precision, p->N, p->K));
			/* the content follows from the source tensor and this layout */
			h = sst2_fnv1a(h, s->name, strlen(s->name) + 1);
			h = sst2_fnv1a(h, &s->t->begin, sizeof(s->t->begin));
			h = sst2_fnv1a(h, &s->t->dtype, sizeof(s->t->dtype));
			h = sst2_fnv1a(h, &p->N, sizeof(int) * 2);
			h = sst2_fnv1a(h, &p->off, sizeof(size_t));
		}
	}

	rc = sst2_cache_build(&m->qconv, &m->weights_file, i8 ? "i8" : "bf16", h, off,
						  fill_all, &q, cache_dir, err);
	if (rc == SST2_OK)
		for (int l = 0; l < c->n_layers; l++)
		{
			layer_weights *w = &m->layers[l];
			const float *bias[N_QL] = {w->q_b, w->k_b, w->v_b, w->o_b, w->ff1_b, w->ff2_b};

			for (int j = 0; j < N_QL; j++)
			{
				const qplace *p = &q.pl[l * N_QL + j];
				qlinear    *L = &w->ql[j];

				sst2_qg_unpacked(L, m->qconv.bytes + p->off, bias[j], p->N, p->K, m->precision);
			}
		}
	free(q.pl);
	return rc;
}

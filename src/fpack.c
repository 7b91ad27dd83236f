/*
 * fpack.c
 *	  The fp32 mode's weights on AVX-512: the six linear layers of every
 *	  block (q, k, v, out_lin, lin1, lin2) rearranged once into the panels
 *	  the kernel streams (layout in sgemm.h), stored as a cache file of
 *	  format "f32p" beside the converted ones (weights_cache.c: same naming,
 *	  trust checks and atomic write) and shared by every backend, or in
 *	  private memory without a cache folder.  Values are copied bit for bit:
 *	  the products are the same sums as on the unpacked weights.
 *
 *	  Only the AVX-512 path reads this packing; on other CPUs (or with
 *	  SST2_ISA=avx2|generic) nothing is packed and forward.c runs the
 *	  portable path on the weights where they lie.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "model.h"
#include "sgemm.h"
#include "util.h"

/* Bumped whenever the packed layout changes. */
#define FPACK_LAYOUT_VERSION 1

/* See sgemm.h. */
void
sst2_sg_pack(float *dst, const float *w, int ldw, int N, int K)
{
	const int	np = sg_pad_n(N) / SG_NB;

	for (int p = 0; p < np; p++)
		for (int c = 0; c < SG_NB; c++)
		{
			const int	n = p * SG_NB + c;
			float	   *d = dst + (size_t) p * K * SG_NB + c;

			if (n < N)
				for (int k = 0; k < K; k++)
					d[(size_t) k * SG_NB] = w[(size_t) n * ldw + k];
			else
				for (int k = 0; k < K; k++)
					d[(size_t) k * SG_NB] = 0.0f;
		}
}

/* Where one layer's packing goes in the data part. */
typedef struct fplace
{
	const float *w;				/* the fp32 source [N, K] */
	int			N,
				K;
	size_t		off;			/* in floats, 16-float (64-byte) aligned */
} fplace;

typedef struct fplan
{
	int			n;
	fplace	   *pl;
} fplan;

/* sst2_cache_fill: pack every planned layer. */
static void
fill_all(void *dst, void *arg)
{
	const fplan *f = arg;

	for (int i = 0; i < f->n; i++)
		sst2_sg_pack((float *) dst + f->pl[i].off, f->pl[i].w, f->pl[i].K,
					 f->pl[i].N, f->pl[i].K);
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
sst2_pack_fp32_weights(sst2_model *m, const tensor_spec *specs, int n_specs,
					   const char *cache_dir, sst2_error *err)
{
	const sst2_config *c = &m->cfg;
	fplan		f;
	size_t		off = 0;
	uint64_t	h = SST2_FNV_INIT;
	int			v = FPACK_LAYOUT_VERSION;
	sst2_status rc;

	if (sst2_isa_current() != SST2_ISA_AVX512)
		return SST2_OK;
	f.n = c->n_layers * N_QL;
	f.pl = calloc((size_t) f.n, sizeof(fplace));
	if (!f.pl)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");

	h = sst2_fnv1a(h, &v, sizeof(v));
	for (int l = 0; l < c->n_layers; l++)
	{
		layer_weights *w = &m->layers[l];
		const float *const *src[N_QL] = {&w->q_w, &w->k_w, &w->v_w, &w->o_w, &w->ff1_w, &w->ff2_w};
		const int	NN[N_QL] = {c->dim, c->dim, c->dim, c->dim, c->hidden_dim, c->dim};
		const int	KK[N_QL] = {c->dim, c->dim, c->dim, c->dim, c->dim, c->hidden_dim};

		for (int j = 0; j < N_QL; j++)
		{
			fplace	   *p = &f.pl[l * N_QL + j];
			const tensor_spec *s = spec_of(specs, n_specs, src[j]);

			p->w = *src[j];
			p->N = NN[j];
			p->K = KK[j];
			p->off = off;
			off = (off + sst2_sg_pack_floats(p->N, p->K) + 15) & ~(size_t) 15;
			/* the content follows from the source tensor and this layout */
			h = sst2_fnv1a(h, s->name, strlen(s->name) + 1);
			h = sst2_fnv1a(h, &s->t->begin, sizeof(s->t->begin));
			h = sst2_fnv1a(h, &s->t->dtype, sizeof(s->t->dtype));
			h = sst2_fnv1a(h, &p->N, sizeof(int) * 2);
			h = sst2_fnv1a(h, &p->off, sizeof(size_t));
		}
	}

	rc = sst2_cache_build(&m->qconv, &m->weights_file, "f32p", h, off * sizeof(float),
						  fill_all, &f, cache_dir, err);
	if (rc == SST2_OK)
		for (int i = 0; i < f.n; i++)
			m->layers[i / N_QL].fpk[i % N_QL] = (const float *) m->qconv.bytes + f.pl[i].off;
	free(f.pl);
	return rc;
}

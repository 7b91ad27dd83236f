/*
 * checkpoint.c
 *	  Open a DistilBERT checkpoint folder (config.json, model.safetensors,
 *	  vocab.txt, tokenizer_config.json): the files' identity, the tensor plan
 *	  (every tensor the forward pass reads, checked by name, dtype, shape and
 *	  byte range against the config), the weight pointers, and the accessors
 *	  of the public API.  F32 tensors are used where they lie in the read-only
 *	  shared mapping; the others are converted (weights_cache.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hugemem.h"
#include "model.h"
#include "util.h"

static const char *const file_names[N_FILES] = {
	"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"
};

/* ---------------------------------------------------------------- file ids */

/* Record a file's identity from its stat. */
static void
file_id_from_stat(file_id *id, const struct stat *st)
{
	id->exists = true;
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime_ns = (int64_t) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* Identity of path now (exists = false when it cannot be stat'ed). */
static void
file_id_get(file_id *id, const char *path)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (stat(path, &st) == 0)
		file_id_from_stat(id, &st);
}

/* See sst2_core.h. */
bool
sst2_model_changed(const sst2_model *m)
{
	if (m->broken)
		return true;
	for (int i = 0; i < N_FILES; i++)
	{
		file_id now;

		file_id_get(&now, m->paths[i]);
		if (now.exists != m->ids[i].exists)
			return true;
		if (now.exists &&
			(now.dev != m->ids[i].dev || now.ino != m->ids[i].ino ||
			 now.size != m->ids[i].size || now.mtime_ns != m->ids[i].mtime_ns))
			return true;
	}
	return false;
}

/* ---------------------------------------------------------------- tensor plan */

/* See model.h. */
int
sst2_model_n_specs(const sst2_model *m)
{
	return 4 + 16 * m->cfg.n_layers + 4;
}

/* Append one expected tensor to the plan. */
static void
add_spec(tensor_spec *s, int *n, const char *name, const float **dst,
		 int ndim, int64_t d0, int64_t d1)
{
	tensor_spec *p = &s[(*n)++];

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->ndim = ndim;
	p->shape[0] = d0;
	p->shape[1] = d1;
	p->dst = dst;
}

/* See model.h: the plan, every tensor the forward pass reads, with its expected shape. */
int
sst2_model_specs(sst2_model *m, tensor_spec *s)
{
	const sst2_config *c = &m->cfg;
	int			n = 0;
	char		name[96];

	add_spec(s, &n, "distilbert.embeddings.word_embeddings.weight", &m->word_emb, 2, c->vocab_size, c->dim);
	add_spec(s, &n, "distilbert.embeddings.position_embeddings.weight", &m->pos_emb, 2, c->max_pos, c->dim);
	add_spec(s, &n, "distilbert.embeddings.LayerNorm.weight", &m->emb_ln_w, 1, c->dim, 0);
	add_spec(s, &n, "distilbert.embeddings.LayerNorm.bias", &m->emb_ln_b, 1, c->dim, 0);
	for (int l = 0; l < c->n_layers; l++)
	{
		layer_weights *w = &m->layers[l];
		const struct
		{
			const char *suffix;
			const float **dst;
			int			ndim;
			int64_t		d0,
						d1;
		}			lt[] = {
			{"attention.q_lin.weight", &w->q_w, 2, c->dim, c->dim},
			{"attention.q_lin.bias", &w->q_b, 1, c->dim, 0},
			{"attention.k_lin.weight", &w->k_w, 2, c->dim, c->dim},
			{"attention.k_lin.bias", &w->k_b, 1, c->dim, 0},
			{"attention.v_lin.weight", &w->v_w, 2, c->dim, c->dim},
			{"attention.v_lin.bias", &w->v_b, 1, c->dim, 0},
			{"attention.out_lin.weight", &w->o_w, 2, c->dim, c->dim},
			{"attention.out_lin.bias", &w->o_b, 1, c->dim, 0},
			{"sa_layer_norm.weight", &w->sa_ln_w, 1, c->dim, 0},
			{"sa_layer_norm.bias", &w->sa_ln_b, 1, c->dim, 0},
			{"ffn.lin1.weight", &w->ff1_w, 2, c->hidden_dim, c->dim},
			{"ffn.lin1.bias", &w->ff1_b, 1, c->hidden_dim, 0},
			{"ffn.lin2.weight", &w->ff2_w, 2, c->dim, c->hidden_dim},
			{"ffn.lin2.bias", &w->ff2_b, 1, c->dim, 0},
			{"output_layer_norm.weight", &w->out_ln_w, 1, c->dim, 0},
			{"output_layer_norm.bias", &w->out_ln_b, 1, c->dim, 0},
		};

		for (size_t i = 0; i < sizeof(lt) / sizeof(lt[0]); i++)
		{
			snprintf(name, sizeof(name), "distilbert.transformer.layer.%d.%s", l, lt[i].suffix);
			add_spec(s, &n, name, lt[i].dst, lt[i].ndim, lt[i].d0, lt[i].d1);
		}
	}
	add_spec(s, &n, "pre_classifier.weight", &m->pre_w, 2, c->dim, c->dim);
	add_spec(s, &n, "pre_classifier.bias", &m->pre_b, 1, c->dim, 0);
	add_spec(s, &n, "classifier.weight", &m->cls_w, 2, c->n_labels, c->dim);
	add_spec(s, &n, "classifier.bias", &m->cls_b, 1, c->n_labels, 0);
	return n;
}

#define N_SPECS(nl) (4 + 16 * (nl) + 4)

/* "[d0, d1]" into buf. */
static void
format_shape(char *buf, size_t size, int ndim, const int64_t *shape)
{
	size_t		o = 0;

	o += (size_t) snprintf(buf + o, size - o, "[");
	for (int i = 0; i < ndim && o < size; i++)
		o += (size_t) snprintf(buf + o, size - o, "%s%lld", i ? ", " : "", (long long) shape[i]);
	if (o < size)
		snprintf(buf + o, size - o, "]");
}

/* qsort order of specs by their first byte in the file. */
static int
cmp_spec_begin(const void *a, const void *b)
{
	const tensor_spec *x = *(tensor_spec *const *) a;
	const tensor_spec *y = *(tensor_spec *const *) b;

	return x->t->begin < y->t->begin ? -1 : x->t->begin > y->t->begin ? 1 : 0;
}

/* Check every tensor we use against the config; fill spec->t. */
static sst2_status
check_tensors(sst2_model *m, tensor_spec *specs, int n, sst2_error *err)
{
	const char *path = m->weights_file.path;
	tensor_spec **order;

	for (int i = 0; i < n; i++)
	{
		tensor_spec *s = &specs[i];
		const st_tensor *t = st_find(&m->weights_file, s->name);
		bool		same;

		if (!t)
			return sst2_set_error(err, SST2_ERR_FORMAT,
								  "tensor \"%s\" is missing in \"%s\"", s->name, path);
		if (t->dtype < 0)
		{
			sst2_set_error(err, SST2_ERR_FORMAT,
						   "tensor \"%s\" in \"%s\" has an unsupported dtype",
						   s->name, path);
			return sst2_set_detail(err, "Expected F32, F16 or BF16, found %s.", t->dtype_name);
		}
		same = t->ndim == s->ndim;
		for (int d = 0; same && d < s->ndim; d++)
			same = t->shape[d] == s->shape[d];
		if (!same)
		{
			char		got[128],
						want[64];

			format_shape(got, sizeof(got), t->ndim, t->shape);
			format_shape(want, sizeof(want), s->ndim, s->shape);
			sst2_set_error(err, SST2_ERR_FORMAT,
						   "tensor \"%s\" in \"%s\" has the wrong shape", s->name, path);
			return sst2_set_detail(err, "Expected %s, found %s.", want, got);
		}
		s->t = t;
	}

	/* the byte ranges of the tensors we use must not overlap */
	if (n < 2)
		return SST2_OK;
	order = malloc(sizeof(tensor_spec *) * (size_t) n);
	if (!order)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	for (int i = 0; i < n; i++)
		order[i] = &specs[i];
	qsort(order, (size_t) n, sizeof(tensor_spec *), cmp_spec_begin);
	for (int i = 1; i < n; i++)
		if (order[i]->t->begin < order[i - 1]->t->end)
		{
			sst2_status st = sst2_set_error(err, SST2_ERR_FORMAT,
											"tensors \"%s\" and \"%s\" in \"%s\" have overlapping data_offsets",
											order[i - 1]->name, order[i]->name, path);

			free(order);
			return st;
		}
	free(order);
	return SST2_OK;
}


/* ---------------------------------------------------------------- weights */

/*
 * Check the tensor plan, then point every weight of m at its data: in place
 * in the mapping when it is aligned F32, else at its converted fp32 copy.
 */
static sst2_status
load_weights(sst2_model *m, const char *cache_dir, sst2_error *err)
{
	int			n_specs = sst2_model_n_specs(m);
	tensor_spec *specs;
	sst2_status rc;
	size_t		n_floats = 0;
	uint64_t	count[3] = {0, 0, 0};
	bool		in_place = false;

	m->layers = calloc((size_t) m->cfg.n_layers, sizeof(layer_weights));
	specs = calloc((size_t) n_specs, sizeof(tensor_spec));
	if (!m->layers || !specs)
	{
		free(specs);
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	}
	sst2_model_specs(m, specs);
	rc = check_tensors(m, specs, n_specs, err);
	if (rc != SST2_OK)
	{
		free(specs);
		return rc;
	}

	/* which tensors need an fp32 copy, and where in the copy each goes */
	for (int i = 0; i < n_specs; i++)
	{
		tensor_spec *s = &specs[i];
		const uint8_t *src = m->weights_file.data + s->t->begin;

		count[s->t->dtype] += s->t->numel;
		s->convert = s->t->dtype != SST2_F32 || ((uintptr_t) src % sizeof(float)) != 0;
		if (!s->convert)
		{
			in_place = true;
			continue;
		}
		s->conv_off = n_floats;
		n_floats += (s->t->numel + 15) & ~(size_t) 15;	/* 64-byte aligned */
	}
	m->dtype = SST2_F32;
	if (count[SST2_F16] > count[m->dtype])
		m->dtype = SST2_F16;
	if (count[SST2_BF16] > count[m->dtype])
		m->dtype = SST2_BF16;

	if (n_floats > 0)
	{
		rc = sst2_convert_weights(&m->conv, &m->weights_file, specs, n_specs, n_floats,
								  cache_dir, err);
		if (rc != SST2_OK)
		{
			free(specs);
			return rc;
		}
	}
	for (int i = 0; i < n_specs; i++)
		*specs[i].dst = specs[i].convert ? m->conv.data + specs[i].conv_off :
			(const float *) (m->weights_file.data + specs[i].t->begin);
	/* bf16/int8: the six linear layers packed from those fp32 values */
	/* fp32 on AVX-512: the same six packed for the fp32 kernel (fpack.c) */
	{
		rc = m->precision != SST2_PREC_FP32 ?
			sst2_quantize_weights(m, specs, n_specs, cache_dir, err) :
			sst2_pack_fp32_weights(m, specs, n_specs, cache_dir, err);
		if (rc != SST2_OK)
		{
			free(specs);
			return rc;
		}
	}
	free(specs);

	/* guard what the forward pass reads; drop the source if nothing is read there */
	if (in_place)
		sst2_guard_add(m, m->weights_file.map, m->weights_file.map_size);
	else
		st_unmap(&m->weights_file);
	if (m->conv.map)
		sst2_guard_add(m, m->conv.map, m->conv.map_size);
	if (m->qconv.map)
		sst2_guard_add(m, m->qconv.map, m->qconv.map_size);
	return SST2_OK;
}

/*
 * A line of warnings for a folder or file that users other than its owner
 * can write: whoever can write it chooses what the server computes.
 */
static void
check_writable(sst2_model *m, const char *path)
{
	struct stat st;
	char	   *w;
	size_t		old;
	int			n;

	if (stat(path, &st) != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) == 0)
		return;
	old = m->warnings ? strlen(m->warnings) : 0;
	n = snprintf(NULL, 0, "%s\"%s\" is writable by %s", old ? "\n" : "", path,
				 (st.st_mode & S_IWOTH) ? "every user" : "its group");
	w = realloc(m->warnings, old + (size_t) n + 1);
	if (!w)
		return;
	snprintf(w + old, (size_t) n + 1, "%s\"%s\" is writable by %s", old ? "\n" : "", path,
			 (st.st_mode & S_IWOTH) ? "every user" : "its group");
	m->warnings = w;
}

/* ---------------------------------------------------------------- open */

/* See sst2_core.h. */
sst2_status
sst2_model_open(sst2_model **out, const char *dir, const char *cache_dir, sst2_error *err)
{
	return sst2_model_open_ex(out, dir, cache_dir, SST2_PREC_FP32, err);
}

/* See sst2_core.h. */
sst2_status
sst2_model_open_ex(sst2_model **out, const char *dir, const char *cache_dir,
				   sst2_precision precision, sst2_error *err)
{
	sst2_model *m;
	struct stat st;
	sst2_status rc;
	int			tok_vocab;

	*out = NULL;
	/* fail here, before any kernel runs, when SST2_ISA is invalid for this CPU */
	rc = sst2_isa_check(err);
	if (rc != SST2_OK)
		return rc;
	if (cache_dir != NULL && cache_dir[0] == '\0')
		cache_dir = NULL;		/* "" means no cache, like NULL */
	if (dir == NULL || dir[0] == '\0')
		return sst2_set_error(err, SST2_ERR_IO, "no model folder given");
	if ((unsigned) precision > SST2_PREC_INT8)
		return sst2_set_error(err, SST2_ERR_CONFIG, "unknown precision %d", (int) precision);
	if (stat(dir, &st) != 0)
		return sst2_set_error_errno(err, SST2_ERR_IO, errno,
									"could not open model folder \"%s\": %s",
									dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return sst2_set_error(err, SST2_ERR_FILETYPE,
							  "model folder \"%s\" is not a directory", dir);

	m = calloc(1, sizeof(*m));
	if (!m)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	m->precision = precision;
	m->dir = sst2_strdup(dir);
	if (!m->dir)
	{
		rc = sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
		goto fail;
	}
	check_writable(m, dir);
	for (int i = 0; i < N_FILES; i++)
	{
		m->paths[i] = sst2_path_join(dir, file_names[i]);
		if (!m->paths[i])
		{
			rc = sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
			goto fail;
		}
		file_id_get(&m->ids[i], m->paths[i]);
		if (m->ids[i].exists)
			check_writable(m, m->paths[i]);
	}

	rc = sst2_config_load(&m->cfg, m->paths[F_CONFIG], err);
	if (rc != SST2_OK)
		goto fail;

	rc = sst2_tokenizer_load(&m->tok, m->paths[F_VOCAB],
							 m->ids[F_TOKCFG].exists ? m->paths[F_TOKCFG] : NULL, err);
	if (rc != SST2_OK)
		goto fail;
	tok_vocab = sst2_tokenizer_vocab_size(m->tok);
	if (tok_vocab > m->cfg.vocab_size)
	{
		rc = sst2_set_error(err, SST2_ERR_CONFIG,
							"\"%s\" has %d tokens, more than \"vocab_size\" (%d) in \"%s\"",
							m->paths[F_VOCAB], tok_vocab, m->cfg.vocab_size,
							m->paths[F_CONFIG]);
		goto fail;
	}

	rc = st_open(&m->weights_file, m->paths[F_WEIGHTS], err);
	if (rc != SST2_OK)
		goto fail;
	file_id_from_stat(&m->ids[F_WEIGHTS], &m->weights_file.file_stat);

	rc = load_weights(m, cache_dir, err);
	if (rc != SST2_OK)
		goto fail;

	*out = m;
	return SST2_OK;

fail:
	sst2_model_free(m);
	return rc;
}

/* See sst2_core.h. */
void
sst2_model_free(sst2_model *m)
{
	if (!m)
		return;
	sst2_guard_remove(m);
	st_close(&m->weights_file);
	sst2_converted_free(&m->conv);
	sst2_converted_free(&m->qconv);
	if (m->tok)
		sst2_tokenizer_free(m->tok);
	sst2_config_free(&m->cfg);
	for (int i = 0; i < N_FILES; i++)
		free(m->paths[i]);
	free(m->layers);
	free(m->dir);
	free(m->warnings);
	sst2_model_trim(m, 0);
	sst2_huge_unmap(m->arena, m->arena_size);
	free(m);
}

/* ---------------------------------------------------------------- accessors */

const sst2_config *
sst2_model_config(const sst2_model *m)
{
	return &m->cfg;
}

const sst2_tokenizer *
sst2_model_tokenizer(const sst2_model *m)
{
	return m->tok;
}

sst2_dtype
sst2_model_dtype(const sst2_model *m)
{
	return m->dtype;
}

size_t
sst2_model_bytes_mapped(const sst2_model *m)
{
	return m->weights_file.map_size + m->conv.map_size + m->qconv.map_size + m->arena_size;
}

sst2_precision
sst2_model_precision(const sst2_model *m)
{
	return m->precision;
}

const char *
sst2_model_kernel(const sst2_model *m)
{
	if (m->precision == SST2_PREC_FP32)
		return sst2_isa_name();
	return sst2_qg_path_name(m->precision);
}

const char *
sst2_model_weights_path(const sst2_model *m)
{
	return m->conv.map ? m->conv.path : m->weights_file.path;
}

const char *
sst2_model_warnings(const sst2_model *m)
{
	return m->warnings;
}

/*
 * Hash one file of the folder into h (a missing optional file adds a marker,
 * so "absent" and "empty" differ).  Read with pread, not through the mapping:
 * the file may not be mapped (converted weights) and reading it must not fault.
 */
static sst2_status
hash_file(uint64_t *h, const char *path, bool optional, sst2_error *err)
{
	int			fd;
	struct stat st;
	sst2_status rc;
	char	   *buf;
	const size_t chunk = 1 << 20;
	off_t		off = 0;

	if (optional && access(path, F_OK) != 0)
	{
		*h = sst2_hash_bytes(*h, "-", 1);
		return SST2_OK;
	}
	rc = sst2_open_regular(path, "file", &fd, &st, err);
	if (rc != SST2_OK)
		return rc;
	buf = malloc(chunk);
	if (!buf)
	{
		close(fd);
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	}
	*h = sst2_hash_bytes(*h, &st.st_size, sizeof(st.st_size));
	for (;;)
	{
		ssize_t		r = pread(fd, buf, chunk, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
		{
			int			e = errno;

			free(buf);
			close(fd);
			return sst2_set_error_errno(err, SST2_ERR_IO, e, "could not read file \"%s\": %s",
										path, strerror(e));
		}
		if (r == 0)
			break;
		*h = sst2_hash_bytes(*h, buf, (size_t) r);
		off += r;
	}
	free(buf);
	close(fd);
	return SST2_OK;
}

/* See sst2_core.h. */
sst2_status
sst2_model_fingerprint(sst2_model *m, const char **hex, sst2_error *err)
{
	uint64_t	h = SST2_FNV_INIT;
	sst2_status rc = SST2_OK;

	if (m->fingerprint[0] == '\0')
	{
		for (int i = 0; i < N_FILES && rc == SST2_OK; i++)
			rc = hash_file(&h, m->paths[i], i == F_TOKCFG, err);
		if (rc != SST2_OK)
			return rc;
		snprintf(m->fingerprint, sizeof(m->fingerprint), "%016llx", (unsigned long long) h);
	}
	*hex = m->fingerprint;
	return SST2_OK;
}

/* See sst2_core.h. */
char *
sst2_model_info_json(sst2_model *m, bool with_fingerprint)
{
	const sst2_config *c = &m->cfg;
	json_object *o = json_object_new_object();
	json_object *labels = json_object_new_array();
	const char *fp = NULL;
	char	   *out;

	json_object_object_add(o, "path", json_object_new_string(m->dir));
	json_object_object_add(o, "weights_file", json_object_new_string(sst2_model_weights_path(m)));
	json_object_object_add(o, "dtype", json_object_new_string(sst2_dtype_name(m->dtype)));
	json_object_object_add(o, "isa", json_object_new_string(sst2_isa_name()));
	json_object_object_add(o, "precision", json_object_new_string(sst2_precision_name(m->precision)));
	json_object_object_add(o, "kernel", json_object_new_string(sst2_model_kernel(m)));
	if (m->qconv.path)
		json_object_object_add(o, "precision_file", json_object_new_string(m->qconv.path));
	json_object_object_add(o, "dim", json_object_new_int(c->dim));
	json_object_object_add(o, "layers", json_object_new_int(c->n_layers));
	json_object_object_add(o, "heads", json_object_new_int(c->n_heads));
	json_object_object_add(o, "hidden_dim", json_object_new_int(c->hidden_dim));
	json_object_object_add(o, "vocab_size", json_object_new_int(c->vocab_size));
	json_object_object_add(o, "max_position_embeddings", json_object_new_int(c->max_pos));
	json_object_object_add(o, "activation", json_object_new_string(sst2_activation_name(c->activation)));
	for (int i = 0; i < c->n_labels; i++)
		json_object_array_add(labels, json_object_new_string(c->labels[i]));
	json_object_object_add(o, "labels", labels);
	json_object_object_add(o, "bytes_mapped", json_object_new_int64((int64_t) sst2_model_bytes_mapped(m)));
	if (with_fingerprint && sst2_model_fingerprint(m, &fp, NULL) == SST2_OK)
		json_object_object_add(o, "fingerprint", json_object_new_string(fp));
	out = sst2_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
													 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}

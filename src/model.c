/*
 * model.c
 *	  Open a DistilBERT checkpoint folder (config.json, model.safetensors,
 *	  vocab.txt, tokenizer_config.json) and run the fp32 forward pass of
 *	  DistilBertForSequenceClassification, exactly as Hugging Face does.
 *
 *	  Notation in comments: M = tokens in the batch (all sequences packed one
 *	  after another, no padding), D = dim, H = hidden_dim, hd = D / n_heads,
 *	  L = length of one sequence, n = number of sequences.  Weights keep
 *	  PyTorch's Linear layout W[out, in], so y = x W^T + b is one matrix
 *	  product over all M tokens: sst2_gemm_nt (gemm.c, W read in place) for
 *	  a few sentences, sgemm (RowMajor, NoTrans, Trans) for larger batches.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cblas.h>

#include "sst2_core.h"
#include "gemm.h"
#include "safetensors.h"

#define LN_EPS 1e-12f

/*
 * glibc 2.35+ ships vector variants of erff in libmvec (pulled in by -lm);
 * declaring them lets GCC vectorize the GELU loop (about 4x faster than
 * calling the scalar erff, with the same fp32-level accuracy).
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
	defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
extern float erff(float) __attribute__((simd("notinbranch")));
#endif

/* ---------------------------------------------------------------- structs */

typedef struct layer_weights
{
	const float *q_w, *q_b;		/* [D, D], [D] */
	const float *k_w, *k_b;		/* [D, D], [D] */
	const float *v_w, *v_b;		/* [D, D], [D] */
	const float *o_w, *o_b;		/* [D, D], [D]  attention.out_lin */
	const float *sa_ln_w, *sa_ln_b; /* [D], [D] */
	const float *ff1_w, *ff1_b; /* [H, D], [H]  ffn.lin1 */
	const float *ff2_w, *ff2_b; /* [D, H], [D]  ffn.lin2 */
	const float *out_ln_w, *out_ln_b;	/* [D], [D] */
} layer_weights;

/* Identity of one file of the folder, for sst2_model_changed(). */
typedef struct file_id
{
	bool		exists;
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	int64_t		mtime_ns;
} file_id;

enum
{
	F_CONFIG, F_WEIGHTS, F_VOCAB, F_TOKCFG, N_FILES
};
static const char *const file_names[N_FILES] = {
	"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"
};

struct sst2_model
{
	sst2_config cfg;
	sst2_tokenizer *tok;
	char	   *paths[N_FILES];
	file_id		ids[N_FILES];
	sst2_dtype	dtype;			/* dtype holding most of the weights in the file */

	st_file		st;				/* the source; unmapped if nothing is used in place */

	/* weights that needed conversion (F16/BF16, misaligned F32) live here */
	float	   *conv_heap;		/* cache_dir == NULL: private memory */
	void	   *cache_map;		/* else: the cache file, mapped read-only */
	size_t		cache_size;
	char	   *cache_path;

	/* the weights, all fp32 */
	const float *word_emb;		/* [vocab_size, D] */
	const float *pos_emb;		/* [max_pos, D] */
	const float *emb_ln_w, *emb_ln_b;	/* [D] */
	layer_weights *layers;		/* [n_layers] */
	const float *pre_w, *pre_b; /* [D, D], [D]  pre_classifier */
	const float *cls_w, *cls_b; /* [n_labels, D], [n_labels]  classifier */

	/* activation workspace, grown to the largest batch seen, never shrunk */
	float	   *ws;
	size_t		ws_floats;
};

/* ---------------------------------------------------------------- file ids */

static void
file_id_from_stat(file_id *id, const struct stat *st)
{
	id->exists = true;
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime_ns = (int64_t) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static void
file_id_get(file_id *id, const char *path)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (stat(path, &st) == 0)
		file_id_from_stat(id, &st);
}

bool
sst2_model_changed(const sst2_model *m)
{
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

typedef struct tensor_spec
{
	char		name[96];
	int			ndim;
	int64_t		shape[2];
	const float **dst;
	const st_tensor *t;
	bool		convert;		/* needs an fp32 copy */
	size_t		conv_off;		/* offset of that copy, in floats */
} tensor_spec;

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

static int
build_specs(sst2_model *m, tensor_spec *s)
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
	const char *path = m->st.path;
	tensor_spec **order;

	for (int i = 0; i < n; i++)
	{
		tensor_spec *s = &specs[i];
		const st_tensor *t = st_find(&m->st, s->name);
		bool		same;

		if (!t)
			return sst2_set_error(err, SST2_ERR_FORMAT,
								  "tensor \"%s\" is missing in \"%s\"", s->name, path);
		if (t->dtype < 0)
			return sst2_set_error(err, SST2_ERR_FORMAT,
								  "tensor \"%s\" in \"%s\" has dtype %s, expected F32, F16 or BF16",
								  s->name, path, t->dtype_name);
		same = t->ndim == s->ndim;
		for (int d = 0; same && d < s->ndim; d++)
			same = t->shape[d] == s->shape[d];
		if (!same)
		{
			char		got[128],
						want[64];

			format_shape(got, sizeof(got), t->ndim, t->shape);
			format_shape(want, sizeof(want), s->ndim, s->shape);
			return sst2_set_error(err, SST2_ERR_FORMAT,
								  "tensor \"%s\" in \"%s\" has shape %s, expected %s",
								  s->name, path, got, want);
		}
		s->t = t;
	}

	/* the byte ranges of the tensors we use must not overlap */
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

/* ---------------------------------------------------------------- fp32 cache */

/*
 * Cache file: a 64-byte header, then the converted tensors at 64-byte aligned
 * offsets (in the order of the tensor plan).  The header ties it to one
 * source file (dev, inode, size, mtime) and one plan (the hash of the names,
 * offsets and dtypes converted), so a stale or foreign file is never used.
 */
#define CACHE_MAGIC "SST2F32\n"
#define CACHE_VERSION 1
#define CACHE_HDR 64

typedef struct cache_header
{
	char		magic[8];
	uint32_t	version;
	uint32_t	header_size;
	uint64_t	dev;
	uint64_t	ino;
	uint64_t	size;
	uint64_t	mtime_ns;
	uint64_t	plan_hash;
	uint64_t	n_floats;
} cache_header;

_Static_assert(sizeof(cache_header) == CACHE_HDR, "cache header must be 64 bytes");

static uint64_t
fnv1a(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * UINT64_C(0x100000001B3);
	return h;
}

static void
cache_header_fill(cache_header *h, const struct stat *st, uint64_t plan_hash, size_t n_floats)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, CACHE_MAGIC, 8);
	h->version = CACHE_VERSION;
	h->header_size = CACHE_HDR;
	h->dev = (uint64_t) st->st_dev;
	h->ino = (uint64_t) st->st_ino;
	h->size = (uint64_t) st->st_size;
	h->mtime_ns = (uint64_t) st->st_mtim.tv_sec * 1000000000u + (uint64_t) st->st_mtim.tv_nsec;
	h->plan_hash = plan_hash;
	h->n_floats = n_floats;
}

/* mkdir -p with mode 0700 for the directories it creates. */
static int
mkdir_p(const char *dir)
{
	char	   *p = sst2_strdup(dir);
	int			rc = 0;

	if (!p)
		return -1;
	for (char *s = p + 1; rc == 0; s++)
	{
		if (*s == '/' || *s == '\0')
		{
			char		c = *s;

			*s = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST)
				rc = -1;
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	if (rc == 0)
	{
		struct stat st;

		if (stat(dir, &st) != 0)
			return -1;
		if (!S_ISDIR(st.st_mode))
		{
			errno = ENOTDIR;
			return -1;
		}
	}
	return rc;
}

static int
pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len > 0)
	{
		ssize_t		w = pwrite(fd, p, len, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
		{
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		len -= (size_t) w;
		off += w;
	}
	return 0;
}

/* Write the cache to a temp file in the same directory and rename it into place. */
static sst2_status
cache_write(sst2_model *m, const tensor_spec *specs, int n, const cache_header *h,
			sst2_error *err)
{
	size_t		len = strlen(m->cache_path);
	char	   *tmp = malloc(len + 16);
	float	   *buf = NULL;
	int			fd;
	const size_t chunk = 1 << 16;
	size_t		total = CACHE_HDR + h->n_floats * sizeof(float);

	if (!tmp)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	snprintf(tmp, len + 16, "%s.tmp.XXXXXX", m->cache_path);
	fd = mkstemp(tmp);
	if (fd < 0)
	{
		sst2_status st = sst2_set_error(err, SST2_ERR_IO,
										"could not create a cache file in \"%s\": %s",
										m->cache_path, strerror(errno));

		free(tmp);
		return st;
	}
	buf = malloc(chunk * sizeof(float));
	if (!buf)
		goto fail_nomem;
	if (ftruncate(fd, (off_t) total) != 0 ||
		pwrite_all(fd, h, sizeof(*h), 0) != 0)
		goto fail_io;
	for (int i = 0; i < n; i++)
	{
		const tensor_spec *s = &specs[i];
		int			esize = st_dtype_size(s->t->dtype_name);
		const uint8_t *src = m->st.data + s->t->begin;

		if (!s->convert)
			continue;
		for (size_t done = 0; done < s->t->numel; done += chunk)
		{
			size_t		k = s->t->numel - done < chunk ? s->t->numel - done : chunk;

			sst2_convert_to_f32(buf, src + done * (size_t) esize, (sst2_dtype) s->t->dtype, k);
			if (pwrite_all(fd, buf, k * sizeof(float),
						   (off_t) (CACHE_HDR + (s->conv_off + done) * sizeof(float))) != 0)
				goto fail_io;
		}
	}
	if (fsync(fd) != 0)
		goto fail_io;
	if (close(fd) != 0)
	{
		fd = -1;
		goto fail_io;
	}
	fd = -1;
	/* a concurrent writer's rename is harmless: both files are identical */
	if (rename(tmp, m->cache_path) != 0)
		goto fail_io;
	free(buf);
	free(tmp);
	return SST2_OK;

fail_io:
	{
		int			e = errno;
		sst2_status st;

		st = sst2_set_error(err, SST2_ERR_IO, "could not write cache file \"%s\": %s",
							m->cache_path, strerror(e));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		free(buf);
		free(tmp);
		return st;
	}
fail_nomem:
	close(fd);
	unlink(tmp);
	free(tmp);
	return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
}

/* Map the cache file if it exists and matches h; returns true on success. */
static bool
cache_try_map(sst2_model *m, const cache_header *h)
{
	int			fd = open(m->cache_path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	cache_header got;
	size_t		total = CACHE_HDR + h->n_floats * sizeof(float);
	void	   *map;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t) st.st_size != total ||
		pread(fd, &got, sizeof(got), 0) != (ssize_t) sizeof(got) ||
		memcmp(&got, h, sizeof(got)) != 0)
	{
		close(fd);
		return false;
	}
	map = mmap(NULL, total, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return false;
	m->cache_map = map;
	m->cache_size = total;
	return true;
}

static sst2_status
cache_open(sst2_model *m, const char *cache_dir, const tensor_spec *specs, int n,
		   size_t n_floats, uint64_t plan_hash, sst2_error *err)
{
	char	   *real;
	cache_header h;
	uint64_t	key;
	char		name[192];
	const char *base;
	size_t		blen;
	sst2_status st;

	cache_header_fill(&h, &m->st.st, plan_hash, n_floats);

	/* name: <model folder name>-<hash of realpath, identity and plan>.f32 */
	real = realpath(m->st.path, NULL);
	if (!real)
		return sst2_set_error(err, SST2_ERR_IO, "could not resolve \"%s\": %s",
							  m->st.path, strerror(errno));
	key = fnv1a(UINT64_C(0xCBF29CE484222325), real, strlen(real) + 1);
	key = fnv1a(key, &h, sizeof(h));
	{
		char	   *slash = strrchr(real, '/');

		/* the folder name, for people looking at the cache directory */
		*slash = '\0';
		base = strrchr(real, '/') ? strrchr(real, '/') + 1 : real;
		blen = strlen(base) > 64 ? 64 : strlen(base);
		snprintf(name, sizeof(name), "%.*s-%016llx.f32", (int) blen, base,
				 (unsigned long long) key);
		for (char *c = name; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				  (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.'))
				*c = '_';
		if (name[0] == '.')
			name[0] = '_';
	}
	free(real);

	if (mkdir_p(cache_dir) != 0)
		return sst2_set_error(err, SST2_ERR_IO, "could not create cache directory \"%s\": %s",
							  cache_dir, strerror(errno));
	m->cache_path = sst2_path_join(cache_dir, name);
	if (!m->cache_path)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");

	if (cache_try_map(m, &h))
		return SST2_OK;
	st = cache_write(m, specs, n, &h, err);
	if (st != SST2_OK)
		return st;
	if (!cache_try_map(m, &h))
		return sst2_set_error(err, SST2_ERR_IO, "could not map cache file \"%s\": %s",
							  m->cache_path, strerror(errno));
	return SST2_OK;
}

/* ---------------------------------------------------------------- open */

static sst2_status
load_weights(sst2_model *m, const char *cache_dir, sst2_error *err)
{
	int			n_specs = N_SPECS(m->cfg.n_layers);
	tensor_spec *specs;
	sst2_status st;
	size_t		n_floats = 0;
	uint64_t	plan_hash = UINT64_C(0xCBF29CE484222325);
	uint64_t	count[3] = {0, 0, 0};
	bool		in_place = false;
	const float *base = NULL;

	m->layers = calloc((size_t) m->cfg.n_layers, sizeof(layer_weights));
	specs = calloc((size_t) n_specs, sizeof(tensor_spec));
	if (!m->layers || !specs)
	{
		free(specs);
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	}
	build_specs(m, specs);
	st = check_tensors(m, specs, n_specs, err);
	if (st != SST2_OK)
	{
		free(specs);
		return st;
	}

	/* plan: which tensors need an fp32 copy, and where it goes */
	for (int i = 0; i < n_specs; i++)
	{
		tensor_spec *s = &specs[i];
		const uint8_t *src = m->st.data + s->t->begin;

		count[s->t->dtype] += s->t->numel;
		s->convert = s->t->dtype != SST2_F32 || ((uintptr_t) src % sizeof(float)) != 0;
		if (!s->convert)
		{
			in_place = true;
			continue;
		}
		s->conv_off = n_floats;
		n_floats += (s->t->numel + 15) & ~(size_t) 15;	/* 64-byte aligned */
		plan_hash = fnv1a(plan_hash, s->name, strlen(s->name) + 1);
		plan_hash = fnv1a(plan_hash, &s->t->begin, sizeof(s->t->begin));
		plan_hash = fnv1a(plan_hash, &s->t->numel, sizeof(s->t->numel));
		plan_hash = fnv1a(plan_hash, &s->t->dtype, sizeof(s->t->dtype));
	}
	m->dtype = SST2_F32;
	if (count[SST2_F16] > count[m->dtype])
		m->dtype = SST2_F16;
	if (count[SST2_BF16] > count[m->dtype])
		m->dtype = SST2_BF16;

	if (n_floats > 0)
	{
		if (cache_dir != NULL)
		{
			st = cache_open(m, cache_dir, specs, n_specs, n_floats, plan_hash, err);
			if (st != SST2_OK)
			{
				free(specs);
				return st;
			}
			base = (const float *) ((const char *) m->cache_map + CACHE_HDR);
		}
		else
		{
			void	   *p = NULL;

			if (n_floats > SIZE_MAX / sizeof(float) ||
				posix_memalign(&p, 64, n_floats * sizeof(float)) != 0)
			{
				free(specs);
				return sst2_set_error(err, SST2_ERR_NOMEM,
									  "out of memory converting \"%s\" to fp32 (%zu bytes)",
									  m->st.path, n_floats * sizeof(float));
			}
			m->conv_heap = p;
			for (int i = 0; i < n_specs; i++)
				if (specs[i].convert)
					sst2_convert_to_f32(m->conv_heap + specs[i].conv_off,
										m->st.data + specs[i].t->begin,
										(sst2_dtype) specs[i].t->dtype, specs[i].t->numel);
			base = m->conv_heap;
		}
	}

	for (int i = 0; i < n_specs; i++)
		*specs[i].dst = specs[i].convert ? base + specs[i].conv_off :
			(const float *) (m->st.data + specs[i].t->begin);
	free(specs);

	/* nothing is read from the source any more: drop its mapping */
	if (!in_place)
		st_unmap(&m->st);
	return SST2_OK;
}

sst2_status
sst2_model_open(sst2_model **out, const char *dir, const char *cache_dir, sst2_error *err)
{
	sst2_model *m;
	struct stat st;
	sst2_status rc;
	int			tok_vocab;

	*out = NULL;
	if (cache_dir != NULL && cache_dir[0] == '\0')
		cache_dir = NULL;		/* "" means no cache, like NULL */
	if (dir == NULL || dir[0] == '\0')
		return sst2_set_error(err, SST2_ERR_IO, "no model folder given");
	if (stat(dir, &st) != 0)
		return sst2_set_error(err, SST2_ERR_IO, "could not open model folder \"%s\": %s",
							  dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return sst2_set_error(err, SST2_ERR_IO, "model folder \"%s\" is not a directory", dir);

	m = calloc(1, sizeof(*m));
	if (!m)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	for (int i = 0; i < N_FILES; i++)
	{
		m->paths[i] = sst2_path_join(dir, file_names[i]);
		if (!m->paths[i])
		{
			rc = sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
			goto fail;
		}
		file_id_get(&m->ids[i], m->paths[i]);
	}

	rc = sst2_config_load(&m->cfg, m->paths[F_CONFIG], err);
	if (rc != SST2_OK)
		goto fail;

	if (!m->ids[F_VOCAB].exists)
	{
		rc = sst2_set_error(err, SST2_ERR_IO, "could not open \"%s\": %s",
							m->paths[F_VOCAB], strerror(ENOENT));
		goto fail;
	}
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

	rc = st_open(&m->st, m->paths[F_WEIGHTS], err);
	if (rc != SST2_OK)
		goto fail;
	file_id_from_stat(&m->ids[F_WEIGHTS], &m->st.st);

	rc = load_weights(m, cache_dir, err);
	if (rc != SST2_OK)
		goto fail;

	*out = m;
	return SST2_OK;

fail:
	sst2_model_free(m);
	return rc;
}

void
sst2_model_free(sst2_model *m)
{
	if (!m)
		return;
	st_close(&m->st);
	if (m->cache_map)
		munmap(m->cache_map, m->cache_size);
	free(m->cache_path);
	free(m->conv_heap);
	if (m->tok)
		sst2_tokenizer_free(m->tok);
	sst2_config_free(&m->cfg);
	for (int i = 0; i < N_FILES; i++)
		free(m->paths[i]);
	free(m->layers);
	free(m->ws);
	free(m);
}

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
	return m->st.map_size + m->cache_size;
}

const char *
sst2_model_weights_path(const sst2_model *m)
{
	return m->cache_map ? m->cache_path : m->st.path;
}

/* ---------------------------------------------------------------- kernels */

/*
 * Rows below which sst2_gemm_nt (W read in place) beats cblas_sgemm (which
 * copies all of W into its packed layout on every call): measured for the
 * three shapes of the model with W streaming from memory, one thread, Zen 4.
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

/* x[i] = LayerNorm(x[i] + r[i]) * g + b for M rows of D; r may be NULL. */
static void
add_layernorm(float *restrict x, const float *restrict r, const float *restrict g,
			  const float *restrict b, int M, int D)
{
	for (int i = 0; i < M; i++)
	{
		float	   *restrict xi = x + (size_t) i * D;
		float		acc[16] = {0};
		float		mean,
					var,
					inv;
		int			j;

		if (r)
		{
			const float *restrict ri = r + (size_t) i * D;

			for (j = 0; j < D; j++)
				xi[j] += ri[j];
		}
		/* 16 independent partial sums: vectorizes without reassociation */
		for (j = 0; j + 16 <= D; j += 16)
			for (int k = 0; k < 16; k++)
				acc[k] += xi[j + k];
		mean = 0.0f;
		for (int k = 0; k < 16; k++)
			mean += acc[k];
		for (; j < D; j++)
			mean += xi[j];
		mean /= (float) D;

		for (int k = 0; k < 16; k++)
			acc[k] = 0.0f;
		for (j = 0; j + 16 <= D; j += 16)
			for (int k = 0; k < 16; k++)
			{
				float		d = xi[j + k] - mean;

				acc[k] += d * d;
			}
		var = 0.0f;
		for (int k = 0; k < 16; k++)
			var += acc[k];
		for (; j < D; j++)
			var += (xi[j] - mean) * (xi[j] - mean);
		var /= (float) D;

		inv = 1.0f / sqrtf(var + LN_EPS);
		for (j = 0; j < D; j++)
			xi[j] = (xi[j] - mean) * inv * g[j] + b[j];
	}
}

static void
gelu(float *restrict x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float) M_SQRT1_2));
}

static void
relu(float *restrict x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* In-place softmax of each of the rows rows of s (n columns). */
static void
softmax_rows(float *restrict s, int rows, int n)
{
	for (int i = 0; i < rows; i++)
	{
		float	   *restrict r = s + (size_t) i * n;
		float		mx = r[0],
					sum = 0.0f,
					inv;

		for (int j = 1; j < n; j++)
			mx = r[j] > mx ? r[j] : mx;
		for (int j = 0; j < n; j++)
		{
			r[j] = expf(r[j] - mx);
			sum += r[j];
		}
		inv = 1.0f / sum;
		for (int j = 0; j < n; j++)
			r[j] *= inv;
	}
}

/* ---------------------------------------------------------------- forward */

/* Where each sequence's rows are: tokens [off, off+len) of the batch. */
typedef struct batch
{
	const int  *lens;
	const size_t *offs;			/* [n] first token of each sequence */
	int			n;
	int			M;				/* total tokens */
	int			max_len;
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
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Lq, L, hd,
						scale, q + qoff * D + h * hd, D, k + off * D + h * hd, D,
						0.0f, s, L);
			softmax_rows(s, Lq, L);
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

	linear(ws->q, xq, w->q_w, w->q_b, Mq, D, D);
	linear(ws->k, ws->x, w->k_w, w->k_b, b->M, D, D);
	linear(ws->v, ws->x, w->v_w, w->v_b, b->M, D, D);
	attention(m, ws->q, ws->k, ws->v, ws->ctx, ws->s, b, cls_only);
	linear(ws->t, ws->ctx, w->o_w, w->o_b, Mq, D, D);
	add_layernorm(xq, ws->t, w->sa_ln_w, w->sa_ln_b, Mq, D);

	linear(ws->h, xq, w->ff1_w, w->ff1_b, Mq, H, D);
	if (m->cfg.activation[0] == 'r')
		relu(ws->h, (size_t) Mq * H);
	else
		gelu(ws->h, (size_t) Mq * H);
	linear(ws->t, ws->h, w->ff2_w, w->ff2_b, Mq, D, H);
	add_layernorm(xq, ws->t, w->out_ln_w, w->out_ln_b, Mq, D);
}

/* Make sure the workspace holds `need` floats (no per-call malloc once grown). */
static sst2_status
ws_reserve(sst2_model *m, size_t need, sst2_error *err)
{
	void	   *p = NULL;

	if (need <= m->ws_floats)
		return SST2_OK;
	if (need > SIZE_MAX / sizeof(float) ||
		posix_memalign(&p, 64, need * sizeof(float)) != 0)
		return sst2_set_error(err, SST2_ERR_NOMEM,
							  "out of memory allocating a %zu-byte workspace",
							  need * sizeof(float));
	free(m->ws);
	m->ws = p;
	m->ws_floats = need;
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

	/* workspace: x, t [M, D]; big [M, max(4D, H)]; s [L^2]; xc [n, D]; offs [n] */
	big_w = (size_t) (H > 4 * D ? H : 4 * D);
	need = mul_add(M, 2 * (size_t) D + big_w, 0);
	need = mul_add((size_t) max_len, (size_t) max_len, need);
	need = mul_add((size_t) n_seqs, (size_t) D + sizeof(size_t) / sizeof(float) + 1, need);
	need = mul_add(1, 64, need);
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

	b.lens = lens;
	b.offs = offs;
	b.n = n_seqs;
	b.M = (int) M;
	b.max_len = max_len;
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
	return SST2_OK;
}

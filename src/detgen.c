/*
 * detgen.c
 *	  Write a DistilBERT sequence-classification checkpoint folder with
 *	  deterministic weights (bin/sst2 --make-det).  The folder has the layout
 *	  of the hub folder of distilbert-base-uncased-finetuned-sst-2-english
 *	  (config.json, model.safetensors in F32, vocab.txt,
 *	  tokenizer_config.json) and the same architecture and tensor names, and
 *	  every weight comes from the formula below, so the files are the same on
 *	  every machine.  test/data/golden/distilbert-det.json holds the logits
 *	  Hugging Face transformers computes with these weights at full size;
 *	  test/data/PROVENANCE.md records the sha256 of the generated files.
 *
 *	  Formula, per tensor NAME (its Hugging Face state_dict name) and element
 *	  index i (row-major, from 0), all integer arithmetic modulo 2^64:
 *	      seed = FNV-1a 64-bit hash of the bytes of NAME
 *	      z    = seed + (i + 1) * 0x9E3779B97F4A7C15
 *	      z    = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
 *	      z    = (z ^ (z >> 27)) * 0x94D049BB133111EB
 *	      z    =  z ^ (z >> 31)                         (splitmix64)
 *	      r    = float(z >> 40) * 2^-23 - 1              (exact, in [-1, 1))
 *	  then, each step rounded to float (this file is compiled with
 *	  -ffp-contract=off so that no multiply-add is fused):
 *	      NAME ends in LayerNorm.weight or layer_norm.weight:  1 + r * 0.1f
 *	      NAME ends in .bias:                                   r * 0.02f
 *	      anything else:                                        r * 0.05f
 *
 *	  model.safetensors: 8-byte little-endian header length, then the header
 *	  as compact JSON ({"__metadata__":{"format":"pt"}, then every tensor in
 *	  byte order of its name: {"dtype":"F32","shape":[..],"data_offsets":
 *	  [b,e]}), padded with spaces to a multiple of 8 bytes, then the tensors'
 *	  little-endian floats in the same order.  vocab_size is the number of
 *	  lines of the vocabulary file (a line ends at \n, \r\n or \r).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detgen.h"

#define DET_NAME_LEN 96

/* One tensor of the checkpoint: its name and shape (1 or 2 dimensions). */
typedef struct det_tensor
{
	char		name[DET_NAME_LEN];
	int			ndim;
	int64_t		shape[2];
} det_tensor;

/* A growable text buffer for the safetensors header. */
typedef struct det_buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} det_buf;

/* FNV-1a, 64 bits, of a NUL-terminated string. */
static uint64_t
fnv1a64(const char *s)
{
	uint64_t	h = 0xCBF29CE484222325ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t) *s) * 0x100000001B3ULL;
	return h;
}

/* Does s end with suffix? */
static bool
ends_with(const char *s, const char *suffix)
{
	size_t		n = strlen(s),
				m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Append a tensor to the list t (of *n entries). */
static void
add_tensor(det_tensor *t, int *n, const char *name, int ndim, int64_t d0, int64_t d1)
{
	det_tensor *e = &t[(*n)++];

	snprintf(e->name, sizeof(e->name), "%s", name);
	e->ndim = ndim;
	e->shape[0] = d0;
	e->shape[1] = d1;
}

/* The state_dict of DistilBertForSequenceClassification with n_labels labels. */
static int
list_tensors(det_tensor *t, const sst2_det_options *o, int64_t vocab, int n_labels)
{
	static const char *const lins[] = {"q_lin", "k_lin", "v_lin", "out_lin"};
	int			n = 0;
	char		name[DET_NAME_LEN];

	add_tensor(t, &n, "distilbert.embeddings.word_embeddings.weight", 2, vocab, o->dim);
	add_tensor(t, &n, "distilbert.embeddings.position_embeddings.weight", 2, o->max_pos, o->dim);
	add_tensor(t, &n, "distilbert.embeddings.LayerNorm.weight", 1, o->dim, 0);
	add_tensor(t, &n, "distilbert.embeddings.LayerNorm.bias", 1, o->dim, 0);
	for (int l = 0; l < o->layers; l++)
	{
#define LAYER(suffix, ndim, d0, d1) \
		do { \
			snprintf(name, sizeof(name), "distilbert.transformer.layer.%d.%s", l, suffix); \
			add_tensor(t, &n, name, ndim, d0, d1); \
		} while (0)
		for (int k = 0; k < 4; k++)
		{
			char		s[64];

			snprintf(s, sizeof(s), "attention.%s.weight", lins[k]);
			LAYER(s, 2, o->dim, o->dim);
			snprintf(s, sizeof(s), "attention.%s.bias", lins[k]);
			LAYER(s, 1, o->dim, 0);
		}
		LAYER("sa_layer_norm.weight", 1, o->dim, 0);
		LAYER("sa_layer_norm.bias", 1, o->dim, 0);
		LAYER("ffn.lin1.weight", 2, o->hidden, o->dim);
		LAYER("ffn.lin1.bias", 1, o->hidden, 0);
		LAYER("ffn.lin2.weight", 2, o->dim, o->hidden);
		LAYER("ffn.lin2.bias", 1, o->dim, 0);
		LAYER("output_layer_norm.weight", 1, o->dim, 0);
		LAYER("output_layer_norm.bias", 1, o->dim, 0);
#undef LAYER
	}
	add_tensor(t, &n, "pre_classifier.weight", 2, o->dim, o->dim);
	add_tensor(t, &n, "pre_classifier.bias", 1, o->dim, 0);
	add_tensor(t, &n, "classifier.weight", 2, n_labels, o->dim);
	add_tensor(t, &n, "classifier.bias", 1, n_labels, 0);
	return n;
}

/* qsort comparator: tensors in byte order of their names. */
static int
cmp_tensor(const void *a, const void *b)
{
	return strcmp(((const det_tensor *) a)->name, ((const det_tensor *) b)->name);
}

/* Number of elements of a tensor. */
static int64_t
numel(const det_tensor *t)
{
	return t->ndim == 1 ? t->shape[0] : t->shape[0] * t->shape[1];
}

/* printf-append to a det_buf; false when out of memory. */
static bool
buf_printf(det_buf *b, const char *fmt,...) __attribute__((format(printf, 2, 3)));
static bool
buf_printf(det_buf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;

	for (;;)
	{
		va_start(ap, fmt);
		n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return false;
		if (b->data && b->len + (size_t) n < b->cap)
		{
			b->len += (size_t) n;
			return true;
		}
		{
			size_t		cap = (b->cap ? b->cap * 2 : 4096) + (size_t) n;
			char	   *p = realloc(b->data, cap);

			if (!p)
				return false;
			b->data = p;
			b->cap = cap;
		}
	}
}

/* The value of element i of the tensor whose name hashes to seed (see the file comment). */
static inline float
det_value(uint64_t seed, uint64_t i, int kind)
{
	uint64_t	z = seed + (i + 1) * 0x9E3779B97F4A7C15ULL;
	float		r;

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	z = z ^ (z >> 31);
	r = (float) (z >> 40) * 0x1p-23f;
	r = r - 1.0f;
	if (kind == 0)
	{
		float		p = r * 0.1f;

		return 1.0f + p;
	}
	if (kind == 1)
		return r * 0.02f;
	return r * 0.05f;
}

/* Store a float little-endian at p. */
static inline void
put_f32le(uint8_t *p, float v)
{
	uint32_t	u;

	memcpy(&u, &v, 4);
	p[0] = (uint8_t) u;
	p[1] = (uint8_t) (u >> 8);
	p[2] = (uint8_t) (u >> 16);
	p[3] = (uint8_t) (u >> 24);
}

/* Write the values of one tensor to f; false on a write error. */
static bool
write_tensor_data(FILE *f, const det_tensor *t)
{
	enum { CHUNK = 16384 };
	uint8_t		buf[CHUNK * 4];
	uint64_t	seed = fnv1a64(t->name);
	int			kind = (ends_with(t->name, "LayerNorm.weight") || ends_with(t->name, "layer_norm.weight")) ? 0 :
		ends_with(t->name, ".bias") ? 1 : 2;
	int64_t		n = numel(t);

	for (int64_t i = 0; i < n; i += CHUNK)
	{
		int64_t		m = n - i < CHUNK ? n - i : CHUNK;

		for (int64_t j = 0; j < m; j++)
			put_f32le(buf + 4 * j, det_value(seed, (uint64_t) (i + j), kind));
		if (fwrite(buf, 4, (size_t) m, f) != (size_t) m)
			return false;
	}
	return true;
}

/* Create dir and its missing parents (like mkdir -p). */
static sst2_status
make_dirs(const char *dir, sst2_error *err)
{
	char	   *p = strdup(dir);

	if (!p)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	for (char *s = p + 1;; s++)
	{
		if (*s == '/' || *s == '\0')
		{
			char		c = *s;

			*s = '\0';
			if (mkdir(p, 0777) != 0 && errno != EEXIST)
			{
				sst2_set_error(err, SST2_ERR_IO, "could not create directory \"%s\": %s", p, strerror(errno));
				free(p);
				return SST2_ERR_IO;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	return SST2_OK;
}

/* Read a whole file into *data (malloc'd) and *len. */
static sst2_status
read_all(const char *path, char **data, size_t *len, sst2_error *err)
{
	FILE	   *f = fopen(path, "rb");
	size_t		cap = 1 << 16,
				n = 0;
	char	   *buf;

	if (!f)
		return sst2_set_error(err, SST2_ERR_IO, "could not open \"%s\": %s", path, strerror(errno));
	buf = malloc(cap);
	while (buf)
	{
		size_t		got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (n < cap)
			break;
		{
			char	   *p = realloc(buf, cap * 2);

			if (!p)
				free(buf);
			buf = p;
			cap *= 2;
		}
	}
	if (!buf || ferror(f))
	{
		bool		oom = !buf;

		free(buf);
		fclose(f);
		return oom ? sst2_set_error(err, SST2_ERR_NOMEM, "out of memory reading \"%s\"", path)
			: sst2_set_error(err, SST2_ERR_IO, "could not read \"%s\"", path);
	}
	fclose(f);
	*data = buf;
	*len = n;
	return SST2_OK;
}

/* Lines of a text: each \n, \r\n or \r ends one; a last unterminated line counts. */
static int64_t
count_lines(const char *s, size_t n)
{
	int64_t		lines = 0;
	size_t		i = 0;

	while (i < n)
	{
		if (s[i] == '\n')
			lines++;
		else if (s[i] == '\r')
		{
			lines++;
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
		}
		i++;
	}
	if (n > 0 && s[n - 1] != '\n' && s[n - 1] != '\r')
		lines++;
	return lines;
}

/* Write len bytes to dir/name, replacing the file. */
static sst2_status
write_file(const char *dir, const char *name, const char *data, size_t len, sst2_error *err)
{
	char		path[4096];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "wb")))
		return sst2_set_error(err, SST2_ERR_IO, "could not create \"%s\": %s", path, strerror(errno));
	if (fwrite(data, 1, len, f) != len || fclose(f) != 0)
		return sst2_set_error(err, SST2_ERR_IO, "could not write \"%s\"", path);
	return SST2_OK;
}

/* config.json of the checkpoint, in the layout Python's json.dump(indent=2) gives. */
static sst2_status
write_config(const char *dir, const sst2_det_options *o, int64_t vocab, sst2_error *err)
{
	char		text[2048];
	int			n;

	n = snprintf(text, sizeof(text),
				 "{\n"
				 "  \"activation\": \"gelu\",\n"
				 "  \"architectures\": [\n"
				 "    \"DistilBertForSequenceClassification\"\n"
				 "  ],\n"
				 "  \"attention_dropout\": 0.1,\n"
				 "  \"dim\": %d,\n"
				 "  \"dropout\": 0.1,\n"
				 "  \"finetuning_task\": \"sst-2\",\n"
				 "  \"hidden_dim\": %d,\n"
				 "  \"id2label\": {\n"
				 "    \"0\": \"NEGATIVE\",\n"
				 "    \"1\": \"POSITIVE\"\n"
				 "  },\n"
				 "  \"initializer_range\": 0.02,\n"
				 "  \"label2id\": {\n"
				 "    \"NEGATIVE\": 0,\n"
				 "    \"POSITIVE\": 1\n"
				 "  },\n"
				 "  \"max_position_embeddings\": %d,\n"
				 "  \"model_type\": \"distilbert\",\n"
				 "  \"n_heads\": %d,\n"
				 "  \"n_layers\": %d,\n"
				 "  \"output_past\": true,\n"
				 "  \"pad_token_id\": 0,\n"
				 "  \"qa_dropout\": 0.1,\n"
				 "  \"seq_classif_dropout\": 0.2,\n"
				 "  \"sinusoidal_pos_embds\": false,\n"
				 "  \"tie_weights_\": true,\n"
				 "  \"vocab_size\": %lld\n"
				 "}",
				 o->dim, o->hidden, o->max_pos, o->heads, o->layers, (long long) vocab);
	return write_file(dir, "config.json", text, (size_t) n, err);
}

/* model.safetensors: the header, then every tensor's values (see the file comment). */
static sst2_status
write_weights(const char *dir, det_tensor *t, int n, sst2_error *err)
{
	det_buf		h = {0};
	uint64_t	off = 0;
	uint8_t		len8[8];
	char		path[4096];
	FILE	   *f;
	bool		ok;

	qsort(t, n, sizeof(*t), cmp_tensor);
	ok = buf_printf(&h, "{\"__metadata__\":{\"format\":\"pt\"}");
	for (int i = 0; ok && i < n; i++)
	{
		uint64_t	bytes = (uint64_t) numel(&t[i]) * 4;

		ok = buf_printf(&h, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld", t[i].name, (long long) t[i].shape[0]) &&
			(t[i].ndim == 1 || buf_printf(&h, ",%lld", (long long) t[i].shape[1])) &&
			buf_printf(&h, "],\"data_offsets\":[%llu,%llu]}",
					   (unsigned long long) off, (unsigned long long) (off + bytes));
		off += bytes;
	}
	ok = ok && buf_printf(&h, "}");
	while (ok && h.len % 8 != 0)
		ok = buf_printf(&h, " ");
	if (!ok)
	{
		free(h.data);
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	}
	for (int i = 0; i < 8; i++)
		len8[i] = (uint8_t) ((uint64_t) h.len >> (8 * i));

	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	if (!(f = fopen(path, "wb")))
	{
		free(h.data);
		return sst2_set_error(err, SST2_ERR_IO, "could not create \"%s\": %s", path, strerror(errno));
	}
	ok = fwrite(len8, 1, 8, f) == 8 && fwrite(h.data, 1, h.len, f) == h.len;
	free(h.data);
	for (int i = 0; ok && i < n; i++)
		ok = write_tensor_data(f, &t[i]);
	if (fclose(f) != 0)
		ok = false;
	if (!ok)
		return sst2_set_error(err, SST2_ERR_IO, "could not write \"%s\"", path);
	return SST2_OK;
}

/* Write the whole checkpoint folder; see detgen.h. */
sst2_status
sst2_det_write(const char *outdir, const sst2_det_options *opt,
			   int *n_tensors, int64_t *n_params, sst2_error *err)
{
	static const char tokcfg[] = "{\"do_lower_case\": true, \"model_max_length\": 512}";
	const char *vocab_file = opt->vocab_file;
	char		default_vocab[4096];
	det_tensor *t;
	char	   *vocab_text = NULL;
	size_t		vocab_len = 0;
	int64_t		vocab,
				params = 0;
	int			n;
	sst2_status st;

	if (opt->dim < 1 || opt->layers < 0 || opt->heads < 1 || opt->hidden < 1 || opt->max_pos < 1 ||
		opt->layers > 100000)
		return sst2_set_error(err, SST2_ERR_CONFIG, "invalid model sizes");
	if (!vocab_file)
	{
		/* the repository's copy: <root>/bin/sst2 -> <root>/models/sst2-mini/vocab.txt */
		ssize_t		n_exe = readlink("/proc/self/exe", default_vocab, sizeof(default_vocab) - 64);
		char	   *slash;

		if (n_exe <= 0)
			return sst2_set_error(err, SST2_ERR_IO, "cannot find the default vocabulary; give one");
		default_vocab[n_exe] = '\0';
		for (int k = 0; k < 2 && (slash = strrchr(default_vocab, '/')) != NULL; k++)
			*slash = '\0';
		strcat(default_vocab, "/models/sst2-mini/vocab.txt");
		vocab_file = default_vocab;
	}
	if ((st = read_all(vocab_file, &vocab_text, &vocab_len, err)) != SST2_OK)
		return st;
	vocab = count_lines(vocab_text, vocab_len);
	if (!(t = calloc(8 + 16 * (size_t) opt->layers, sizeof(*t))))
	{
		free(vocab_text);
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	}
	n = list_tensors(t, opt, vocab, 2);
	for (int i = 0; i < n; i++)
		params += numel(&t[i]);

	if ((st = make_dirs(outdir, err)) == SST2_OK &&
		(st = write_weights(outdir, t, n, err)) == SST2_OK &&
		(st = write_config(outdir, opt, vocab, err)) == SST2_OK &&
		(st = write_file(outdir, "tokenizer_config.json", tokcfg, sizeof(tokcfg) - 1, err)) == SST2_OK)
		st = write_file(outdir, "vocab.txt", vocab_text, vocab_len, err);
	free(vocab_text);
	free(t);
	if (st == SST2_OK)
	{
		if (n_tensors)
			*n_tensors = n;
		if (n_params)
			*n_params = params;
	}
	return st;
}

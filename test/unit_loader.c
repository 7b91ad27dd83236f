/*
 * unit_loader.c
 *	  The checkpoint loader against broken folders.  Every checkpoint here is
 *	  written from C into a temp dir (config.json, model.safetensors,
 *	  vocab.txt), so each defect is exactly the one under test; each case
 *	  asserts the error code and a substring of the message.
 *
 *	  Also: extra tensors are ignored; BF16, F16, mixed and misaligned F32
 *	  checkpoints load and give bit-identical logits (the weights are chosen
 *	  exactly representable in every dtype); forward() input validation;
 *	  sst2_model_changed(); the fp16/bf16 conversions; sst2_top_label().
 *	  When SST2_TINY_MODEL (default build/tiny-det) exists it must load too.
 *
 *	  Run it under valgrind --leak-check=full --error-exitcode=1.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cblas.h>

#include "sst2_core.h"
#include "safetensors.h"		/* the conversions are tested directly */
#include "test_util.h"

static char *tmpdir;

/* Remove dir/name. */
static void
remove_file(const char *dir, const char *name)
{
	char	   *p = pathf("%s/%s", dir, name);

	unlink(p);
	free(p);
}

/* ---------------------------------------------------------------- checkpoints */

#define MAXT 128

typedef struct ten
{
	char		name[96];
	char		dtype[12];
	int			ndim;
	int64_t		shape[4];
	uint64_t	begin,
				end;
} ten;

typedef struct ckpt
{
	int			dim,
				layers,
				heads,
				hidden,
				vocab,
				max_pos;
	char		config_extra[512];	/* appended inside the config object */
	ten			t[MAXT];
	int			n;
	int			misalign;		/* extra header bytes so the data is not 4-aligned */
	uint64_t	data_limit;		/* when not 0: the data section's size */
} ckpt;

static const char *vocab_tokens[] = {
	"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "great", "movie", "the",
	"bad", "film", "!", ".", "##s", "not", "good"
};
#define VOCAB_N ((int) (sizeof(vocab_tokens) / sizeof(vocab_tokens[0])))

static void
add_t(ckpt *c, const char *name, int ndim, int64_t d0, int64_t d1)
{
	ten		   *t = &c->t[c->n++];

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	strcpy(t->dtype, "F32");
	t->ndim = ndim;
	t->shape[0] = d0;
	t->shape[1] = d1;
}

static void
ckpt_init(ckpt *c)
{
	char		n[96];

	memset(c, 0, sizeof(*c));
	c->dim = 8;
	c->layers = 2;
	c->heads = 2;
	c->hidden = 16;
	c->vocab = VOCAB_N;
	c->max_pos = 12;
	add_t(c, "distilbert.embeddings.word_embeddings.weight", 2, c->vocab, c->dim);
	add_t(c, "distilbert.embeddings.position_embeddings.weight", 2, c->max_pos, c->dim);
	add_t(c, "distilbert.embeddings.LayerNorm.weight", 1, c->dim, 0);
	add_t(c, "distilbert.embeddings.LayerNorm.bias", 1, c->dim, 0);
	for (int l = 0; l < c->layers; l++)
	{
		const char *lin[] = {"attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin"};
		const char *ln[] = {"sa_layer_norm", "output_layer_norm"};

		for (int i = 0; i < 4; i++)
		{
			snprintf(n, sizeof(n), "distilbert.transformer.layer.%d.%s.weight", l, lin[i]);
			add_t(c, n, 2, c->dim, c->dim);
			snprintf(n, sizeof(n), "distilbert.transformer.layer.%d.%s.bias", l, lin[i]);
			add_t(c, n, 1, c->dim, 0);
		}
		for (int i = 0; i < 2; i++)
		{
			snprintf(n, sizeof(n), "distilbert.transformer.layer.%d.%s.weight", l, ln[i]);
			add_t(c, n, 1, c->dim, 0);
			snprintf(n, sizeof(n), "distilbert.transformer.layer.%d.%s.bias", l, ln[i]);
			add_t(c, n, 1, c->dim, 0);
		}
		snprintf(n, sizeof(n), "distilbert.transformer.layer.%d.ffn.lin1.weight", l);
		add_t(c, n, 2, c->hidden, c->dim);
		snprintf(n, sizeof(n), "distilbert.transformer.layer.%d.ffn.lin1.bias", l);
		add_t(c, n, 1, c->hidden, 0);
		snprintf(n, sizeof(n), "distilbert.transformer.layer.%d.ffn.lin2.weight", l);
		add_t(c, n, 2, c->dim, c->hidden);
		snprintf(n, sizeof(n), "distilbert.transformer.layer.%d.ffn.lin2.bias", l);
		add_t(c, n, 1, c->dim, 0);
	}
	add_t(c, "pre_classifier.weight", 2, c->dim, c->dim);
	add_t(c, "pre_classifier.bias", 1, c->dim, 0);
	add_t(c, "classifier.weight", 2, 2, c->dim);
	add_t(c, "classifier.bias", 1, 2, 0);
}

static ten *
find_t(ckpt *c, const char *name)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->t[i].name, name) == 0)
			return &c->t[i];
	printf("FAIL: test bug: no tensor %s\n", name);
	exit(2);
}

static void
remove_t(ckpt *c, const char *name)
{
	ten		   *t = find_t(c, name);

	memmove(t, t + 1, sizeof(ten) * (size_t) (c->n - (t - c->t) - 1));
	c->n--;
}

static uint64_t
numel(const ten *t)
{
	uint64_t	n = 1;

	for (int i = 0; i < t->ndim; i++)
		n *= (uint64_t) t->shape[i];
	return n;
}

/*
 * Weight values: multiples of 1/64 in [-0.25, 0.25) (LayerNorm weights: 1 +
 * multiples of 1/128), so F32, F16 and BF16 hold exactly the same numbers.
 */
static float
value(const char *name, uint64_t i)
{
	uint32_t	h = 2166136261u;
	int			k;

	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t) *p) * 16777619u;
	k = (int) ((h + i * 2654435761u) >> 7 & 31) - 16;
	if (strstr(name, "layer_norm.weight") || strstr(name, "LayerNorm.weight"))
		return 1.0f + (float) k / 128.0f;
	return (float) k / 64.0f;
}

static int
esize(const char *dtype)
{
	return st_dtype_size(dtype) ? st_dtype_size(dtype) : 4;
}

/* Assign consecutive offsets from the dtypes and shapes. */
static void
layout(ckpt *c)
{
	uint64_t	off = 0;

	for (int i = 0; i < c->n; i++)
	{
		c->t[i].begin = off;
		off += numel(&c->t[i]) * (uint64_t) esize(c->t[i].dtype);
		c->t[i].end = off;
	}
}

static uint16_t
to_f16(float f)
{
	/* exact for the values used here (normal, few mantissa bits) */
	uint32_t	u;
	uint32_t	sign,
				exp,
				man;

	memcpy(&u, &f, 4);
	sign = (u >> 16) & 0x8000;
	if ((u & 0x7fffffff) == 0)
		return (uint16_t) sign;
	exp = ((u >> 23) & 0xff) - 127 + 15;
	man = (u >> 13) & 0x3ff;
	return (uint16_t) (sign | (exp << 10) | man);
}

/* Write model.safetensors for c (offsets as they are in c->t). */
static void
write_weights(const char *dir, ckpt *c)
{
	char	   *hdr = malloc(65536);
	size_t		hl = 0,
				data_size = 0,
				total;
	uint8_t    *buf;

	hl += (size_t) sprintf(hdr + hl, "{\"__metadata__\":{\"format\":\"pt\"}");
	for (int i = 0; i < c->n; i++)
	{
		ten		   *t = &c->t[i];

		hl += (size_t) sprintf(hdr + hl, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", t->name, t->dtype);
		for (int d = 0; d < t->ndim; d++)
			hl += (size_t) sprintf(hdr + hl, "%s%lld", d ? "," : "", (long long) t->shape[d]);
		hl += (size_t) sprintf(hdr + hl, "],\"data_offsets\":[%llu,%llu]}",
							   (unsigned long long) t->begin, (unsigned long long) t->end);
		if (t->end > data_size && t->end - t->begin == numel(t) * (uint64_t) esize(t->dtype))
			data_size = t->end;
	}
	if (c->data_limit)
		data_size = c->data_limit;
	hl += (size_t) sprintf(hdr + hl, "}");
	while ((hl + 8) % 8 != 0)
		hdr[hl++] = ' ';
	for (int i = 0; i < c->misalign; i++)
		hdr[hl++] = ' ';

	total = 8 + hl + data_size;
	buf = calloc(1, total);
	for (int b = 0; b < 8; b++)
		buf[b] = (uint8_t) ((uint64_t) hl >> (8 * b));
	memcpy(buf + 8, hdr, hl);
	for (int i = 0; i < c->n; i++)
	{
		ten		   *t = &c->t[i];
		uint8_t    *p = buf + 8 + hl + t->begin;
		uint64_t	n = numel(t);

		if (t->end > data_size || t->end - t->begin != n * (uint64_t) esize(t->dtype))
			continue;
		for (uint64_t k = 0; k < n; k++)
		{
			float		v = value(t->name, k);
			uint32_t	u;

			memcpy(&u, &v, 4);
			if (strcmp(t->dtype, "F32") == 0)
				memcpy(p + 4 * k, &v, 4);
			else if (strcmp(t->dtype, "BF16") == 0)
			{
				p[2 * k] = (uint8_t) (u >> 16);
				p[2 * k + 1] = (uint8_t) (u >> 24);
			}
			else if (strcmp(t->dtype, "F16") == 0)
			{
				uint16_t	h = to_f16(v);

				p[2 * k] = (uint8_t) h;
				p[2 * k + 1] = (uint8_t) (h >> 8);
			}
		}
	}
	write_file(dir, "model.safetensors", buf, total);
	free(buf);
	free(hdr);
}

static void
write_config(const char *dir, const ckpt *c)
{
	char		buf[2048];
	int			n;

	n = snprintf(buf, sizeof(buf),
				 "{\n  \"activation\": \"gelu\",\n  \"dim\": %d,\n  \"hidden_dim\": %d,\n"
				 "  \"id2label\": {\"0\": \"NEGATIVE\", \"1\": \"POSITIVE\"},\n"
				 "  \"max_position_embeddings\": %d,\n  \"model_type\": \"distilbert\",\n"
				 "  \"n_heads\": %d,\n  \"n_layers\": %d,\n  \"sinusoidal_pos_embds\": false,\n"
				 "  \"vocab_size\": %d%s%s\n}\n",
				 c->dim, c->hidden, c->max_pos, c->heads, c->layers, c->vocab,
				 c->config_extra[0] ? ",\n  " : "", c->config_extra);
	write_file(dir, "config.json", buf, (size_t) n);
}

static void
write_vocab(const char *dir)
{
	char		buf[1024];
	size_t		n = 0;

	for (int i = 0; i < VOCAB_N; i++)
		n += (size_t) sprintf(buf + n, "%s\n", vocab_tokens[i]);
	write_file(dir, "vocab.txt", buf, n);
}

/* A fresh folder holding checkpoint c. */
static char *
make_folder(const char *name, ckpt *c, bool do_layout)
{
	char	   *dir = pathf("%s/%s", tmpdir, name);

	remove_tree(dir);
	if (mkdir(dir, 0700) != 0)
	{
		printf("FAIL: mkdir %s: %s\n", dir, strerror(errno));
		exit(2);
	}
	if (do_layout)
		layout(c);
	write_config(dir, c);
	write_weights(dir, c);
	write_vocab(dir);
	return dir;
}

/* ---------------------------------------------------------------- checks */

static const char *
status_name(sst2_status s)
{
	static const char *names[] = {"OK", "IO", "FORMAT", "CONFIG", "NOMEM", "LIMIT"};

	return (unsigned) s < 6 ? names[s] : "?";
}

static void
expect_open(const char *what, const char *dir, sst2_status code, const char *substr)
{
	sst2_model *m = NULL;
	sst2_error	err;
	sst2_status st;

	memset(&err, 0, sizeof(err));
	st = sst2_model_open(&m, dir, NULL, &err);
	if (st == SST2_OK)
	{
		CHECK(false, "%s: opened, expected %s error containing \"%s\"", what,
			  status_name(code), substr);
		sst2_model_free(m);
		return;
	}
	if (getenv("UNIT_LOADER_VERBOSE"))
		printf("  %-32s %-6s %s\n", what, status_name(st), err.msg);
	CHECK(m == NULL, "%s: *out not NULL on error", what);
	{
		/* the substring may be in the message or in its detail line */
		char		full[sizeof(err.msg) + sizeof(err.detail) + 2];

		snprintf(full, sizeof(full), "%s\n%s", err.msg, err.detail);
		CHECK(st == code && err.code == code && strstr(full, substr) != NULL,
			  "%s: got %s \"%s\", expected %s containing \"%s\"", what,
			  status_name(st), full, status_name(code), substr);
	}
	CHECK(err.msg[0] != '\0' && err.msg[strlen(err.msg) - 1] != '.' &&
		  !(err.msg[0] >= 'A' && err.msg[0] <= 'Z'),
		  "%s: message not in PostgreSQL style: \"%s\"", what, err.msg);
}

/* Build c in folder `name` and expect the open to fail. */
static void
expect_ckpt(const char *what, ckpt *c, bool do_layout, sst2_status code, const char *substr)
{
	char	   *dir = make_folder("case", c, do_layout);

	expect_open(what, dir, code, substr);
	remove_tree(dir);
	free(dir);
}

/* Config text replaced verbatim. */
static void
expect_config(const char *what, const char *config_text, sst2_status code, const char *substr)
{
	ckpt		c;
	char	   *dir;

	ckpt_init(&c);
	dir = make_folder("case", &c, true);
	write_file(dir, "config.json", config_text, strlen(config_text));
	expect_open(what, dir, code, substr);
	remove_tree(dir);
	free(dir);
}

/* Config with one key's value replaced ("KEY": VALUE appended to a stock config). */
static void
expect_config_key(const char *what, const char *key, const char *val,
				  sst2_status code, const char *substr)
{
	ckpt		c;
	char		buf[2048];

	ckpt_init(&c);
	snprintf(buf, sizeof(buf),
			 "{\"activation\": \"gelu\", \"dim\": 8, \"hidden_dim\": 16, "
			 "\"id2label\": {\"0\": \"NEGATIVE\", \"1\": \"POSITIVE\"}, "
			 "\"max_position_embeddings\": 12, \"n_heads\": 2, \"n_layers\": 2, "
			 "\"sinusoidal_pos_embds\": false, \"vocab_size\": %d}", VOCAB_N);
	/* json-c keeps the last of duplicate keys: override by appending */
	if (key)
	{
		size_t		l = strlen(buf);

		snprintf(buf + l - 1, sizeof(buf) - l + 1, ", \"%s\": %s}", key, val);
	}
	expect_config(what, buf, code, substr);
}

/* Open folder dir; run the fixed inputs; logits out[n_inputs * 2]. */
static const int32_t fixed_ids[] = {2, 5, 6, 7, 12, 3, 2, 8, 9, 10, 3, 2, 3};
static const int fixed_lens[] = {6, 5, 2};

static bool
run_fixed(const char *what, const char *dir, const char *cache, float *out, sst2_model **keep)
{
	sst2_model *m;
	sst2_error	err;
	bool		ok;

	if (sst2_model_open(&m, dir, cache, &err) != SST2_OK)
	{
		CHECK(false, "%s: open failed: %s", what, err.msg);
		return false;
	}
	ok = sst2_model_forward(m, fixed_ids, fixed_lens, 3, out, &err) == SST2_OK;
	CHECK(ok, "%s: forward failed: %s", what, err.msg);
	for (int i = 0; ok && i < 6; i++)
		ok = isfinite(out[i]);
	CHECK(ok, "%s: logits not finite", what);
	if (keep)
		*keep = m;
	else
		sst2_model_free(m);
	return ok;
}

/* ---------------------------------------------------------------- tests */

static void
test_missing(void)
{
	ckpt		c;
	char	   *dir,
			   *nodir = pathf("%s/does-not-exist", tmpdir);
	const char *files[] = {"config.json", "model.safetensors", "vocab.txt"};

	expect_open("missing folder", nodir, SST2_ERR_IO, "could not open model folder");
	free(nodir);

	for (int i = 0; i < 3; i++)
	{
		char		what[64];

		ckpt_init(&c);
		dir = make_folder("case", &c, true);
		remove_file(dir, files[i]);
		snprintf(what, sizeof(what), "missing %s", files[i]);
		expect_open(what, dir, SST2_ERR_IO, files[i]);
		/* empty file */
		write_file(dir, files[i], "", 0);
		snprintf(what, sizeof(what), "empty %s", files[i]);
		expect_open(what, dir, i == 0 ? SST2_ERR_FORMAT : i == 1 ? SST2_ERR_FORMAT : SST2_ERR_FORMAT,
					files[i]);
		remove_tree(dir);
		free(dir);
	}
}

static void
test_safetensors(void)
{
	ckpt		c;
	char	   *dir;
	int			fd;

	/* truncated file: the header survives, the data does not */
	ckpt_init(&c);
	dir = make_folder("case", &c, true);
	{
		char	   *p = pathf("%s/model.safetensors", dir);
		struct stat st;

		stat(p, &st);
		CHECK(truncate(p, st.st_size / 2) == 0, "truncate");
		expect_open("truncated model.safetensors", dir, SST2_ERR_FORMAT, "beyond the end of the data");
		CHECK(truncate(p, 5) == 0, "truncate");
		expect_open("5-byte model.safetensors", dir, SST2_ERR_FORMAT, "too short");
		/* header length larger than the file */
		fd = open(p, O_WRONLY | O_TRUNC);
		{
			uint8_t		b[16] = {0x40, 0x42, 0x0f, 0, 0, 0, 0, 0, '{', '}'};

			CHECK(write(fd, b, 10) == 10, "write");
		}
		close(fd);
		expect_open("header length > file", dir, SST2_ERR_FORMAT, "header length of 1000000 bytes");
		/* absurd header length (2^63) */
		fd = open(p, O_WRONLY | O_TRUNC);
		{
			uint8_t		b[16] = {0, 0, 0, 0, 0, 0, 0, 0x80, '{', '}'};

			CHECK(write(fd, b, 10) == 10, "write");
		}
		close(fd);
		expect_open("header length 2^63", dir, SST2_ERR_FORMAT, "header length");
		/* header length 1 */
		fd = open(p, O_WRONLY | O_TRUNC);
		{
			uint8_t		b[16] = {1, 0, 0, 0, 0, 0, 0, 0, '{', '}'};

			CHECK(write(fd, b, 10) == 10, "write");
		}
		close(fd);
		expect_open("header length 1", dir, SST2_ERR_FORMAT, "invalid header length of 1 bytes");
		/* a tensor entry that is not an object */
		fd = open(p, O_WRONLY | O_TRUNC);
		{
			const char *h = "{\"classifier.bias\":[1,2]}      ";	/* 31 bytes */
			uint8_t		b[64] = {31, 0, 0, 0, 0, 0, 0, 0};

			memcpy(b + 8, h, 31);
			CHECK(write(fd, b, 39) == 39, "write");
		}
		close(fd);
		expect_open("tensor entry not an object", dir, SST2_ERR_FORMAT,
					"tensor \"classifier.bias\" in");
		/* header not JSON */
		fd = open(p, O_WRONLY | O_TRUNC);
		{
			uint8_t		b[24] = {8, 0, 0, 0, 0, 0, 0, 0, '{', '"', 'a', '"', ':', ' ', ' ', ' '};

			CHECK(write(fd, b, 16) == 16, "write");
		}
		close(fd);
		expect_open("header not JSON", dir, SST2_ERR_FORMAT, "could not parse the header");
		/* header a JSON array */
		fd = open(p, O_WRONLY | O_TRUNC);
		{
			uint8_t		b[24] = {8, 0, 0, 0, 0, 0, 0, 0, '[', '1', ']', ' ', ' ', ' ', ' ', ' '};

			CHECK(write(fd, b, 16) == 16, "write");
		}
		close(fd);
		expect_open("header is an array", dir, SST2_ERR_FORMAT, "not a JSON object");
		/* empty object: every tensor missing */
		fd = open(p, O_WRONLY | O_TRUNC);
		{
			uint8_t		b[24] = {8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '};

			CHECK(write(fd, b, 16) == 16, "write");
		}
		close(fd);
		expect_open("header without tensors", dir, SST2_ERR_FORMAT,
					"tensor \"distilbert.embeddings.word_embeddings.weight\" is missing in");
		free(p);
	}
	remove_tree(dir);
	free(dir);

	/* offsets out of range */
	ckpt_init(&c);
	layout(&c);
	{
		ten		   *t = find_t(&c, "classifier.bias");
		uint64_t	end = c.t[c.n - 1].end;

		/* keep it the last tensor but push it past the data */
		t->begin = end + 64;
		t->end = end + 72;
		c.data_limit = end;
	}
	expect_ckpt("offsets out of range", &c, false, SST2_ERR_FORMAT,
				"tensor \"classifier.bias\" in");
	/* overlapping offsets: two [dim] biases share bytes */
	ckpt_init(&c);
	layout(&c);
	{
		ten		   *a = find_t(&c, "pre_classifier.bias");
		ten		   *b = find_t(&c, "distilbert.embeddings.LayerNorm.bias");

		b->begin = a->begin + 4;
		b->end = a->end + 4;
	}
	expect_ckpt("overlapping offsets", &c, false, SST2_ERR_FORMAT, "overlapping data_offsets");
	/* byte count does not match the shape */
	ckpt_init(&c);
	layout(&c);
	find_t(&c, "classifier.weight")->end -= 4;
	expect_ckpt("offsets vs shape", &c, false, SST2_ERR_FORMAT,
				"tensor \"classifier.weight\" in");
	/* begin > end */
	ckpt_init(&c);
	layout(&c);
	{
		ten		   *t = find_t(&c, "classifier.bias");
		uint64_t	b = t->begin;

		t->begin = t->end;
		t->end = b;
	}
	expect_ckpt("begin > end", &c, false, SST2_ERR_FORMAT, "invalid data_offsets");

	/* unsupported dtype on a used tensor */
	ckpt_init(&c);
	strcpy(find_t(&c, "pre_classifier.bias")->dtype, "I64");
	expect_ckpt("I64 tensor", &c, true, SST2_ERR_FORMAT,
				"tensor \"pre_classifier.bias\" in");
	ckpt_init(&c);
	strcpy(find_t(&c, "pre_classifier.bias")->dtype, "I64");
	expect_ckpt("I64 tensor message", &c, true, SST2_ERR_FORMAT,
				"has an unsupported dtype\nExpected F32, F16 or BF16, found I64.");
	ckpt_init(&c);
	strcpy(find_t(&c, "pre_classifier.bias")->dtype, "Q4_K");
	expect_ckpt("unknown dtype", &c, true, SST2_ERR_FORMAT, "found Q4_K.");

	/* wrong shape */
	ckpt_init(&c);
	find_t(&c, "pre_classifier.weight")->shape[1] = 4;
	expect_ckpt("wrong shape", &c, true, SST2_ERR_FORMAT,
				"tensor \"pre_classifier.weight\" in \"");
	ckpt_init(&c);
	find_t(&c, "pre_classifier.weight")->shape[1] = 4;
	expect_ckpt("wrong shape message", &c, true, SST2_ERR_FORMAT,
				"model.safetensors\" has the wrong shape\nExpected [8, 8], found [8, 4].");
	ckpt_init(&c);
	{
		ten		   *t = find_t(&c, "distilbert.transformer.layer.1.ffn.lin1.bias");

		t->ndim = 2;
		t->shape[1] = 1;
	}
	expect_ckpt("wrong rank", &c, true, SST2_ERR_FORMAT, "Expected [16], found [16, 1].");
	/* missing tensor */
	ckpt_init(&c);
	remove_t(&c, "distilbert.transformer.layer.1.attention.v_lin.weight");
	expect_ckpt("missing tensor", &c, true, SST2_ERR_FORMAT,
				"tensor \"distilbert.transformer.layer.1.attention.v_lin.weight\" is missing in \"");
	/* config says more layers than the file has */
	ckpt_init(&c);
	c.layers = 3;
	{
		char	   *dir2 = make_folder("case", &c, true);

		expect_open("layers beyond file", dir2, SST2_ERR_FORMAT,
					"tensor \"distilbert.transformer.layer.2.attention.q_lin.weight\" is missing");
		remove_tree(dir2);
		free(dir2);
	}
	/* vocab_size in config differs from the embedding rows */
	ckpt_init(&c);
	find_t(&c, "distilbert.embeddings.word_embeddings.weight")->shape[0] = VOCAB_N + 1;
	expect_ckpt("embedding rows", &c, true, SST2_ERR_FORMAT, "Expected [16, 8]");
	/* vocab.txt larger than vocab_size */
	ckpt_init(&c);
	c.vocab = VOCAB_N - 2;
	find_t(&c, "distilbert.embeddings.word_embeddings.weight")->shape[0] = VOCAB_N - 2;
	expect_ckpt("vocab.txt larger than vocab_size", &c, true, SST2_ERR_CONFIG, "vocab_size");
}

static void
test_config(void)
{
	expect_config("config not JSON", "{\"dim\": 8,", SST2_ERR_FORMAT, "could not parse");
	expect_config("config garbage", "hello", SST2_ERR_FORMAT, "could not parse");
	expect_config("config trailing garbage", "{\"dim\": 8} x", SST2_ERR_FORMAT, "could not parse");
	expect_config("config array", "[1, 2]", SST2_ERR_FORMAT, "is not a JSON object");
	expect_config("config missing dim", "{\"n_layers\": 2}", SST2_ERR_CONFIG,
				  "key \"dim\" is missing in \"");
	expect_config("config missing id2label",
				  "{\"dim\": 8, \"n_layers\": 2, \"n_heads\": 2, \"hidden_dim\": 16, "
				  "\"vocab_size\": 16, \"max_position_embeddings\": 12}",
				  SST2_ERR_CONFIG, "key \"id2label\" is missing");
	expect_config_key("config heads", "n_heads", "3", SST2_ERR_CONFIG,
					  "\"n_heads\" (3) does not divide \"dim\" (8)");
	expect_config_key("config n_layers 0", "n_layers", "0", SST2_ERR_CONFIG,
					  "key \"n_layers\" in");
	expect_config_key("config n_layers -1", "n_layers", "-1", SST2_ERR_CONFIG, "n_layers");
	expect_config_key("config dim string", "dim", "\"8\"", SST2_ERR_CONFIG,
					  "key \"dim\" in \"");
	expect_config_key("config dim float", "dim", "8.5", SST2_ERR_CONFIG, "must be an integer");
	expect_config_key("config absurd dim", "dim", "1000000", SST2_ERR_CONFIG,
					  "must be between 1 and 65536");
	expect_config_key("config absurd layers", "n_layers", "100000", SST2_ERR_CONFIG, "n_layers");
	expect_config_key("config absurd vocab", "vocab_size", "20000000", SST2_ERR_CONFIG, "vocab_size");
	expect_config_key("config absurd max_pos", "max_position_embeddings", "2000000",
					  SST2_ERR_CONFIG, "max_position_embeddings");
	expect_config_key("config huge int", "dim", "99999999999999999999", SST2_ERR_CONFIG, "dim");
	expect_config("config product overflow",
				  "{\"dim\": 65536, \"n_layers\": 1, \"n_heads\": 1, \"hidden_dim\": 16, "
				  "\"vocab_size\": 10000000, \"max_position_embeddings\": 12, "
				  "\"id2label\": {\"0\": \"A\"}}",
				  SST2_ERR_CONFIG, "too large");
	expect_config_key("config sinusoidal", "sinusoidal_pos_embds", "true", SST2_ERR_CONFIG,
					  "\"sinusoidal_pos_embds\": true");
	expect_config_key("config activation", "activation", "\"tanh\"", SST2_ERR_CONFIG,
					  "activation \"tanh\"");
	expect_config_key("config model_type", "model_type", "\"bert\"", SST2_ERR_CONFIG, "model_type");
	expect_config_key("id2label gap", "id2label", "{\"0\": \"A\", \"2\": \"C\"}",
					  SST2_ERR_CONFIG, "\"id2label\" in");
	expect_config_key("id2label gap message", "id2label", "{\"0\": \"A\", \"2\": \"C\"}",
					  SST2_ERR_CONFIG, "has key \"2\", expected the ids \"0\" to \"1\"");
	expect_config_key("id2label leading zero", "id2label", "{\"0\": \"A\", \"01\": \"B\"}",
					  SST2_ERR_CONFIG, "has key \"01\"");
	expect_config_key("id2label not a number", "id2label", "{\"0\": \"A\", \"x\": \"B\"}",
					  SST2_ERR_CONFIG, "has key \"x\"");
	expect_config_key("id2label empty", "id2label", "{}", SST2_ERR_CONFIG, "has 0 entries");
	expect_config_key("id2label not strings", "id2label", "{\"0\": 1, \"1\": 2}",
					  SST2_ERR_CONFIG, "must be a string");
	expect_config_key("id2label array", "id2label", "[\"A\", \"B\"]", SST2_ERR_CONFIG,
					  "must be an object");
	/* three labels: the classifier must then be [3, dim] */
	expect_config_key("id2label 3 vs classifier", "id2label",
					  "{\"2\": \"C\", \"0\": \"A\", \"1\": \"B\"}",
					  SST2_ERR_FORMAT, "tensor \"classifier.weight\" in");
}

/* Checkpoints that must load, and give identical logits whatever the dtype. */
static void
test_good(void)
{
	ckpt		c;
	char	   *dir;
	float		ref[6],
				got[6];
	sst2_model *m;
	sst2_error	err;

	ckpt_init(&c);
	dir = make_folder("ref", &c, true);
	if (!run_fixed("reference F32", dir, NULL, ref, &m))
	{
		free(dir);
		return;
	}
	CHECK(sst2_model_dtype(m) == SST2_F32 && strcmp(sst2_dtype_name(sst2_model_dtype(m)), "F32") == 0,
		  "reference dtype");
	CHECK(sst2_model_config(m)->n_labels == 2 &&
		  strcmp(sst2_model_config(m)->labels[1], "POSITIVE") == 0, "reference labels");
	CHECK(strstr(sst2_model_weights_path(m), "model.safetensors") != NULL, "weights path");
	CHECK(sst2_model_tokenizer(m) != NULL, "tokenizer");

	/* a sequence alone equals the same sequence inside a batch */
	{
		float		one[2];
		int			len = 5;

		CHECK(sst2_model_forward(m, fixed_ids + 6, &len, 1, one, &err) == SST2_OK &&
			  fabsf(one[0] - ref[2]) < 1e-6f && fabsf(one[1] - ref[3]) < 1e-6f,
			  "single sequence differs from its batched result");
	}

	/* forward() input validation */
	{
		int32_t		ids[4] = {2, 5, 3, 0};
		int			lens[2] = {3, 1};
		float		lg[4];
		int			bad_len[1] = {0},
					long_len[1] = {13};
		int32_t		long_ids[13] = {0};
		int32_t		bad_id[3] = {2, VOCAB_N, 3},
					neg_id[3] = {2, -1, 3};

		CHECK(sst2_model_forward(m, ids, lens, 0, lg, &err) == SST2_ERR_LIMIT, "n_seqs 0");
		CHECK(sst2_model_forward(m, ids, lens, -3, lg, &err) == SST2_ERR_LIMIT, "n_seqs -3");
		CHECK(sst2_model_forward(m, ids, bad_len, 1, lg, &err) == SST2_ERR_LIMIT &&
			  strstr(err.msg, "sequence 0 has 0 tokens") != NULL, "len 0: %s", err.msg);
		CHECK(sst2_model_forward(m, long_ids, long_len, 1, lg, &err) == SST2_ERR_LIMIT &&
			  strstr(err.msg, "between 1 and 12") != NULL, "len > max_pos: %s", err.msg);
		CHECK(sst2_model_forward(m, bad_id, lens, 1, lg, &err) == SST2_ERR_LIMIT &&
			  strstr(err.msg, "token id 16 at position 1 is out of range") != NULL,
			  "id == vocab_size: %s", err.msg);
		CHECK(sst2_model_forward(m, neg_id, lens, 1, lg, &err) == SST2_ERR_LIMIT &&
			  strstr(err.msg, "token id -1") != NULL, "id -1: %s", err.msg);
		CHECK(sst2_model_forward(m, ids, lens, 2, lg, &err) == SST2_OK, "2 sequences");
		long_len[0] = 12;
		CHECK(sst2_model_forward(m, long_ids, long_len, 1, lg, &err) == SST2_OK, "len == max_pos");
	}

	/* sst2_model_changed */
	{
		char	   *p = pathf("%s/vocab.txt", dir);
		char	   *tc = pathf("%s/tokenizer_config.json", dir);
		struct timespec ts[2] = {{0, UTIME_OMIT}, {1000000000, 0}};

		CHECK(!sst2_model_changed(m), "changed right after open");
		write_file(dir, "tokenizer_config.json", "{\"do_lower_case\": true}", 23);
		CHECK(sst2_model_changed(m), "new tokenizer_config.json not noticed");
		unlink(tc);
		CHECK(!sst2_model_changed(m), "changed after undoing");
		utimensat(AT_FDCWD, p, ts, 0);
		CHECK(sst2_model_changed(m), "vocab.txt mtime change not noticed");
		free(p);
		free(tc);
	}
	sst2_model_free(m);
	remove_tree(dir);
	free(dir);

	/* tokenizer_config.json present */
	ckpt_init(&c);
	dir = make_folder("tc", &c, true);
	write_file(dir, "tokenizer_config.json", "{\"do_lower_case\": true}", 23);
	if (run_fixed("with tokenizer_config.json", dir, NULL, got, &m))
	{
		CHECK(memcmp(got, ref, sizeof(ref)) == 0, "tokenizer_config.json changes logits");
		CHECK(!sst2_model_changed(m), "changed right after open (with tokenizer_config.json)");
		remove_file(dir, "config.json");
		CHECK(sst2_model_changed(m), "deleted config.json not noticed");
		sst2_model_free(m);
	}
	remove_tree(dir);
	free(dir);

	/* extra tensors (used names are looked up, everything else ignored) */
	ckpt_init(&c);
	add_t(&c, "distilbert.embeddings.position_ids", 2, 1, 12);
	strcpy(c.t[c.n - 1].dtype, "I64");
	add_t(&c, "vocab_projector.weight", 2, 3, 3);
	strcpy(c.t[c.n - 1].dtype, "U8");
	add_t(&c, "something.else", 1, 5, 0);
	dir = make_folder("extra", &c, true);
	if (run_fixed("extra tensors", dir, NULL, got, NULL))
		CHECK(memcmp(got, ref, sizeof(ref)) == 0, "extra tensors change logits");
	remove_tree(dir);
	free(dir);

	/* BF16, F16, mixed, misaligned F32: all bit-identical to the reference */
	{
		const char *dts[] = {"BF16", "F16"};

		for (int k = 0; k < 2; k++)
		{
			char		what[64];

			ckpt_init(&c);
			for (int i = 0; i < c.n; i++)
				strcpy(c.t[i].dtype, dts[k]);
			dir = make_folder("half", &c, true);
			snprintf(what, sizeof(what), "%s checkpoint", dts[k]);
			if (run_fixed(what, dir, NULL, got, &m))
			{
				CHECK(memcmp(got, ref, sizeof(ref)) == 0, "%s logits differ from F32", dts[k]);
				CHECK(sst2_model_dtype(m) == (k == 0 ? SST2_BF16 : SST2_F16),
					  "%s: dtype reported as %s", dts[k], sst2_dtype_name(sst2_model_dtype(m)));
				sst2_model_free(m);
			}
			/* through a cache dir too */
			{
				char	   *cache = pathf("%s/cache", tmpdir);

				snprintf(what, sizeof(what), "%s checkpoint cached", dts[k]);
				if (run_fixed(what, dir, cache, got, &m))
				{
					CHECK(memcmp(got, ref, sizeof(ref)) == 0, "%s cached logits differ", dts[k]);
					CHECK(strstr(sst2_model_weights_path(m), cache) != NULL, "%s: not cached", dts[k]);
					sst2_model_free(m);
				}
				free(cache);
			}
			remove_tree(dir);
			free(dir);
		}
	}
	ckpt_init(&c);
	for (int i = 0; i < c.n; i += 2)
		strcpy(c.t[i].dtype, i % 4 ? "BF16" : "F16");
	dir = make_folder("mixed", &c, true);
	if (run_fixed("mixed dtypes", dir, NULL, got, NULL))
		CHECK(memcmp(got, ref, sizeof(ref)) == 0, "mixed-dtype logits differ");
	remove_tree(dir);
	free(dir);

	ckpt_init(&c);
	c.misalign = 2;
	dir = make_folder("misaligned", &c, true);
	if (run_fixed("misaligned F32", dir, NULL, got, NULL))
		CHECK(memcmp(got, ref, sizeof(ref)) == 0, "misaligned F32 logits differ");
	remove_tree(dir);
	free(dir);

	/* relu activation and a single layer */
	ckpt_init(&c);
	strcpy(c.config_extra, "\"activation\": \"relu\"");
	dir = make_folder("relu", &c, true);
	if (run_fixed("relu", dir, NULL, got, NULL))
		CHECK(memcmp(got, ref, sizeof(ref)) != 0, "relu gives the same logits as gelu");
	remove_tree(dir);
	free(dir);
	ckpt_init(&c);
	c.layers = 1;
	dir = make_folder("onelayer", &c, true);
	run_fixed("one layer", dir, NULL, got, NULL);
	remove_tree(dir);
	free(dir);
}

/* ---------------------------------------------------------------- interrupts */

static int	hook_calls,
			hook_jump_at;
static jmp_buf hook_env;

static void
test_hook(void)
{
	if (++hook_calls == hook_jump_at)
		longjmp(hook_env, 1);
}

/* The hook runs during forward(); jumping out of it leaves the model usable. */
static void
test_interrupts(void)
{
	ckpt		c;
	char	   *dir;
	sst2_model *m;
	sst2_error	err;
	float		ref[6],
				got[6];

	ckpt_init(&c);
	dir = make_folder("hook", &c, true);
	if (sst2_model_open(&m, dir, NULL, &err) != SST2_OK)
	{
		CHECK(false, "hook: open: %s", err.msg);
		free(dir);
		return;
	}
	CHECK(sst2_model_forward(m, fixed_ids, fixed_lens, 3, ref, &err) == SST2_OK, "hook: forward");
	sst2_interrupt_hook = test_hook;
	hook_calls = 0;
	hook_jump_at = -1;
	CHECK(sst2_model_forward(m, fixed_ids, fixed_lens, 3, got, &err) == SST2_OK &&
		  memcmp(got, ref, sizeof(ref)) == 0, "hook: forward with a hook");
	CHECK(hook_calls >= c.layers, "hook: called %d times, expected at least %d", hook_calls, c.layers);
	for (int at = 1; at <= 3; at++)
	{
		volatile bool jumped = false;

		hook_calls = 0;
		hook_jump_at = at;
		if (setjmp(hook_env) == 0)
			sst2_model_forward(m, fixed_ids, fixed_lens, 3, got, &err);
		else
			jumped = true;
		CHECK(jumped, "hook: no jump at call %d", at);
	}
	hook_jump_at = -1;
	CHECK(sst2_model_forward(m, fixed_ids, fixed_lens, 3, got, &err) == SST2_OK &&
		  memcmp(got, ref, sizeof(ref)) == 0, "hook: results differ after an interrupted call");
	sst2_interrupt_hook = NULL;
	sst2_model_free(m);
	remove_tree(dir);
	free(dir);
}

/* Random byte damage to the header: any outcome but a crash (or a leak). */
static void
test_header_fuzz(void)
{
	ckpt		c;
	char	   *dir,
			   *path;
	FILE	   *f;
	uint8_t    *orig,
			   *buf;
	long		size;
	uint64_t	hl = 0,
				rng = 0x9E3779B97F4A7C15u;
	int			opened = 0,
				failed = 0,
				weird = 0;

	ckpt_init(&c);
	dir = make_folder("fuzz", &c, true);
	path = pathf("%s/model.safetensors", dir);
	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	orig = malloc((size_t) size);
	buf = malloc((size_t) size);
	if (fread(orig, 1, (size_t) size, f) != (size_t) size)
		printf("FAIL: short read\n");
	fclose(f);
	for (int b = 7; b >= 0; b--)
		hl = (hl << 8) | orig[b];

	for (int iter = 0; iter < 300; iter++)
	{
		sst2_model *m;
		sst2_error	err;
		int			k;

		memcpy(buf, orig, (size_t) size);
		rng = rng * 6364136223846793005u + 1442695040888963407u;
		k = 1 + (int) ((rng >> 33) % 4);
		for (int j = 0; j < k; j++)
		{
			uint64_t	pos;

			rng = rng * 6364136223846793005u + 1442695040888963407u;
			pos = (rng >> 20) % (8 + hl);
			rng = rng * 6364136223846793005u + 1442695040888963407u;
			/* mostly digits and JSON punctuation: they get deeper into the parser */
			buf[pos] = (uint8_t) "0123456789[]{},:\" -eE.x\xff"[(rng >> 40) % 22];
		}
		write_file(dir, "model.safetensors", buf, (size_t) size);
		memset(&err, 0, sizeof(err));
		if (sst2_model_open(&m, dir, NULL, &err) == SST2_OK)
		{
			float		lg[6];

			opened++;
			if (sst2_model_forward(m, fixed_ids, fixed_lens, 3, lg, &err) != SST2_OK)
				weird++;
			sst2_model_free(m);
		}
		else
		{
			failed++;
			if (m != NULL || err.msg[0] == '\0')
				weird++;
		}
	}
	CHECK(weird == 0, "header fuzz: %d odd outcomes", weird);
	CHECK(failed > 0, "header fuzz: nothing was rejected");
	printf("header fuzz: 300 damaged headers, %d rejected, %d still valid\n", failed, opened);
	free(orig);
	free(buf);
	free(path);
	remove_tree(dir);
	free(dir);
}

static void
test_tiny_det(void)
{
	const char *tiny = getenv("SST2_TINY_MODEL");
	sst2_model *m;
	sst2_error	err;
	struct stat st;

	if (!tiny || !*tiny)
		tiny = "build/tiny-det";
	if (stat(tiny, &st) != 0)
	{
		printf("SKIP: tiny-det check because %s is absent\n", tiny);
		return;
	}
	CHECK(sst2_model_open(&m, tiny, NULL, &err) == SST2_OK, "open %s: %s", tiny, err.msg);
	if (m)
	{
		int32_t		ids[5] = {101, 1037, 2307, 3185, 102};
		int			len = 5;
		float		lg[2];

		CHECK(sst2_model_config(m)->dim == 64 && sst2_model_config(m)->n_layers == 2,
			  "tiny-det config");
		CHECK(sst2_model_forward(m, ids, &len, 1, lg, &err) == SST2_OK, "tiny-det forward");
		sst2_model_free(m);
	}
}

static void
test_conversions(void)
{
	int			bad = 0;

	/* every F16 value against the definition */
	for (uint32_t h = 0; h < 65536; h++)
	{
		float		f = sst2_f16_to_f32((uint16_t) h);
		int			e = (h >> 10) & 0x1f,
					mant = h & 0x3ff;
		double		want;
		uint32_t	u;

		memcpy(&u, &f, 4);
		if (e == 31)
		{
			if (mant == 0 ? !(isinf(f) && (signbit(f) != 0) == ((h & 0x8000) != 0)) :
				!(isnan(f) && ((u >> 13) & 0x3ff) == (uint32_t) mant))
				bad++;
			continue;
		}
		want = e == 0 ? ldexp(mant, -24) : ldexp(1024 + mant, e - 25);
		if (h & 0x8000)
			want = -want;
		if ((double) f != want || (signbit(f) != 0) != ((h & 0x8000) != 0))
			bad++;
	}
	CHECK(bad == 0, "f16 conversion: %d of 65536 values wrong", bad);
	CHECK(sst2_f16_to_f32(0x0001) == 0x1p-24f && sst2_f16_to_f32(0x3c00) == 1.0f &&
		  sst2_f16_to_f32(0x7bff) == 65504.0f && sst2_f16_to_f32(0xfc00) == -INFINITY,
		  "f16 landmarks");
	CHECK(sst2_bf16_to_f32(0x3f80) == 1.0f && sst2_bf16_to_f32(0xc000) == -2.0f &&
		  isnan(sst2_bf16_to_f32(0x7fc0)) && sst2_bf16_to_f32(0x0001) == 0x1p-133f,
		  "bf16 landmarks");
	{
		uint8_t		src[4] = {0x00, 0x3c, 0x00, 0xc0};	/* 1.0, -2.0 little-endian */
		float		dst[2];

		sst2_convert_to_f32(dst, src, SST2_F16, 2);
		CHECK(dst[0] == 1.0f && dst[1] == -2.0f, "convert F16 buffer");
		sst2_convert_to_f32(dst, src + 1, SST2_BF16, 1);	/* unaligned: 0x003c */
		CHECK(dst[0] == sst2_bf16_to_f32(0x003c), "convert unaligned BF16 buffer");
	}
}

static void
test_top_label(void)
{
	float		s;
	float		a[3] = {1.0f, 3.0f, 3.0f};
	float		big[2] = {1000.0f, -1000.0f};
	float		eq[2] = {0.5f, 0.5f};

	CHECK(sst2_top_label(a, 3, &s) == 1, "first max wins");
	CHECK(fabs(s - 1.0 / (1.0 + 1.0 + exp(-2.0))) < 1e-7, "score %.9f", s);
	CHECK(sst2_top_label(big, 2, &s) == 0 && s == 1.0f, "large logits: score %f", s);
	CHECK(sst2_top_label(eq, 2, &s) == 0 && s == 0.5f, "ties");
	CHECK(sst2_top_label(big, 1, &s) == 0 && s == 1.0f, "one label");
	{
		sst2_error	e;

		CHECK(sst2_set_error(&e, SST2_ERR_IO, "x %d", 5) == SST2_ERR_IO &&
			  e.code == SST2_ERR_IO && strcmp(e.msg, "x 5") == 0, "set_error");
		CHECK(sst2_set_error(NULL, SST2_ERR_LIMIT, "y") == SST2_ERR_LIMIT, "set_error NULL");
	}
}

int
main(void)
{
	char		tmpl[] = "/tmp/unit_loader.XXXXXX";

	tmpdir = mkdtemp(tmpl);
	if (!tmpdir)
	{
		printf("FAIL: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	openblas_set_num_threads(1);

	test_conversions();
	test_top_label();
	test_missing();
	test_safetensors();
	test_config();
	test_good();
	test_interrupts();
	test_header_fuzz();
	test_tiny_det();

	remove_tree(tmpdir);
	printf("unit_loader: %d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}

/*
 * cli.c
 *	  bin/sst2: classify lines of text from stdin with a DistilBERT checkpoint
 *	  folder, without PostgreSQL.
 *
 *	  bin/sst2 [options] MODEL_DIR < lines
 *	  prints LABEL<TAB>score<TAB>logit0,logit1,... per input line.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <json-c/json.h>

#include "sst2_core.h"

static void
usage(FILE *out)
{
	fprintf(out,
			"usage: sst2 [options] MODEL_DIR\n"
			"Classify each line of standard input with the DistilBERT checkpoint in MODEL_DIR\n"
			"(config.json, model.safetensors, vocab.txt, tokenizer_config.json) and print\n"
			"LABEL<TAB>score<TAB>logit0,logit1,... for each line.\n"
			"\n"
			"options:\n"
			"  --max-length N   truncate to N tokens including [CLS] and [SEP]\n"
			"                   (default 512, at most max_position_embeddings)\n"
			"  --batch N        classify N lines per forward pass (default 1)\n"
			"  --ids            print the token ids of each line (space-separated) instead\n"
			"  --threads N      OpenBLAS threads (default 1)\n"
			"  --cache-dir DIR  keep the fp32 copy of F16/BF16 weights in DIR\n"
			"  --info           print the model's configuration as JSON and exit\n"
			"  --help           show this help\n");
}

static int
die(const char *fmt, const char *a)
{
	fprintf(stderr, "sst2: ");
	fprintf(stderr, fmt, a);
	fprintf(stderr, "\n");
	return 1;
}

static bool
parse_int(const char *s, int min, int max, int *out)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = (int) v;
	return true;
}

static int
print_info(const sst2_model *m)
{
	const sst2_config *c = sst2_model_config(m);
	json_object *o = json_object_new_object();
	json_object *labels = json_object_new_array();

	json_object_object_add(o, "dim", json_object_new_int(c->dim));
	json_object_object_add(o, "n_layers", json_object_new_int(c->n_layers));
	json_object_object_add(o, "n_heads", json_object_new_int(c->n_heads));
	json_object_object_add(o, "hidden_dim", json_object_new_int(c->hidden_dim));
	json_object_object_add(o, "vocab_size", json_object_new_int(c->vocab_size));
	json_object_object_add(o, "max_position_embeddings", json_object_new_int(c->max_pos));
	json_object_object_add(o, "activation", json_object_new_string(c->activation));
	for (int i = 0; i < c->n_labels; i++)
		json_object_array_add(labels, json_object_new_string(c->labels[i]));
	json_object_object_add(o, "labels", labels);
	json_object_object_add(o, "dtype", json_object_new_string(sst2_dtype_name(sst2_model_dtype(m))));
	json_object_object_add(o, "isa", json_object_new_string(sst2_isa_name()));
	json_object_object_add(o, "bytes_mapped", json_object_new_int64((int64_t) sst2_model_bytes_mapped(m)));
	json_object_object_add(o, "weights_path", json_object_new_string(sst2_model_weights_path(m)));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

/* Classify the n queued sequences and print one line each. */
static int
flush_batch(sst2_model *m, const int32_t *ids, const int *lens, int n, float *logits)
{
	const sst2_config *c = sst2_model_config(m);
	sst2_error	err;

	if (n == 0)
		return 0;
	if (sst2_model_forward(m, ids, lens, n, logits, &err) != SST2_OK)
		return die("%s", err.msg);
	for (int i = 0; i < n; i++)
	{
		const float *lg = logits + (size_t) i * c->n_labels;
		float		score;
		int			top = sst2_top_label(lg, c->n_labels, &score);

		printf("%s\t%.6f\t", c->labels[top], score);
		for (int j = 0; j < c->n_labels; j++)
			printf("%s%.6f", j ? "," : "", lg[j]);
		putchar('\n');
	}
	return ferror(stdout) ? die("%s", "could not write to standard output") : 0;
}

int
main(int argc, char **argv)
{
	const char *dir = NULL,
			   *cache_dir = NULL;
	int			max_length = -1,
				batch = 1,
				threads = 1;
	bool		ids_only = false,
				info = false;
	sst2_model *m;
	sst2_error	err;
	const sst2_config *c;
	int32_t    *ids;
	int		   *lens;
	float	   *logits;
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;
	int			queued = 0,
				rc = 0;
	size_t		used = 0;

	for (int i = 1; i < argc; i++)
	{
		const char *a = argv[i];
		bool		has_val = i + 1 < argc;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
		{
			usage(stdout);
			return 0;
		}
		else if (strcmp(a, "--ids") == 0)
			ids_only = true;
		else if (strcmp(a, "--info") == 0)
			info = true;
		else if (strcmp(a, "--max-length") == 0 && has_val)
		{
			if (!parse_int(argv[++i], 2, INT_MAX, &max_length))
				return die("invalid --max-length \"%s\" (must be at least 2)", argv[i]);
		}
		else if (strcmp(a, "--batch") == 0 && has_val)
		{
			if (!parse_int(argv[++i], 1, 1 << 20, &batch))
				return die("invalid --batch \"%s\"", argv[i]);
		}
		else if (strcmp(a, "--threads") == 0 && has_val)
		{
			if (!parse_int(argv[++i], 1, 1024, &threads))
				return die("invalid --threads \"%s\"", argv[i]);
		}
		else if (strcmp(a, "--cache-dir") == 0 && has_val)
			cache_dir = argv[++i];
		else if (a[0] == '-' && a[1] != '\0')
		{
			usage(stderr);
			return die("unknown option or missing value: \"%s\"", a);
		}
		else if (dir == NULL)
			dir = a;
		else
		{
			usage(stderr);
			return die("unexpected argument \"%s\"", a);
		}
	}
	if (dir == NULL)
	{
		usage(stderr);
		return 1;
	}

	openblas_set_num_threads(threads);
	if (sst2_model_open(&m, dir, cache_dir, &err) != SST2_OK)
		return die("%s", err.msg);
	c = sst2_model_config(m);
	if (info)
	{
		rc = print_info(m);
		sst2_model_free(m);
		return rc;
	}
	if (max_length < 0)
		max_length = c->max_pos < 512 ? c->max_pos : 512;
	if (max_length > c->max_pos)
	{
		char		msg[64];

		snprintf(msg, sizeof(msg), "%d", c->max_pos);
		sst2_model_free(m);
		return die("--max-length is larger than the model's max_position_embeddings (%s)", msg);
	}

	ids = malloc(sizeof(int32_t) * (size_t) max_length * (size_t) batch);
	lens = malloc(sizeof(int) * (size_t) batch);
	logits = malloc(sizeof(float) * (size_t) c->n_labels * (size_t) batch);
	if (!ids || !lens || !logits)
	{
		sst2_model_free(m);
		return die("%s", "out of memory");
	}

	while ((len = getline(&line, &cap, stdin)) >= 0)
	{
		int			n;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		n = sst2_tokenize(sst2_model_tokenizer(m), line, (size_t) len, ids + used, max_length);
		if (n < 1)
		{
			rc = die("%s", "tokenizer failed");
			break;
		}
		if (ids_only)
		{
			for (int j = 0; j < n; j++)
				printf("%s%d", j ? " " : "", (int) ids[used + j]);
			putchar('\n');
			continue;
		}
		lens[queued++] = n;
		used += (size_t) n;
		if (queued == batch)
		{
			if ((rc = flush_batch(m, ids, lens, queued, logits)) != 0)
				break;
			queued = 0;
			used = 0;
		}
	}
	if (rc == 0 && ferror(stdin))
		rc = die("%s", "could not read standard input");
	if (rc == 0)
		rc = flush_batch(m, ids, lens, queued, logits);
	if (fflush(stdout) != 0 && rc == 0)
		rc = die("%s", "could not write to standard output");

	free(line);
	free(ids);
	free(lens);
	free(logits);
	sst2_model_free(m);
	return rc;
}

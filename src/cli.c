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

#include "sst2_core.h"
#include "detgen.h"

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
			"  --cache-dir DIR  keep the fp32 copy of F16/BF16 weights (and the bf16/int8\n"
			"                   packing) in DIR\n"
			"  --precision P    fp32 (default), bf16 or int8 for the encoder's linear layers\n"
			"  --info           print the model's configuration as JSON and exit\n"
			"  --help           show this help\n"
			"\n"
			"sst2 --make-det DIR [--dim N --layers N --heads N --hidden N --max-pos N\n"
			"                     --vocab-file FILE]\n"
			"writes the deterministic checkpoint (src/detgen.c) into DIR (default sizes:\n"
			"the real checkpoint's, 768/6/12/3072/512; vocabulary: models/sst2-mini).\n");
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

/* Print the model's description (the keys of sst2_model_info()) as JSON. */
static int
print_info(sst2_model *m)
{
	char	   *json = sst2_model_info_json(m, true);

	if (!json)
		return die("%s", "out of memory");
	printf("%s\n", json);
	free(json);
	return 0;
}

/* Run the queued texts and print one line each. */
static int
flush_batch(sst2_model *m, sst2_batch *b)
{
	const sst2_config *c = sst2_model_config(m);
	sst2_error	err;

	if (sst2_batch_count(b) == 0)
		return 0;
	if (sst2_batch_run(b, &err) != SST2_OK)
		return die("%s", err.msg);
	for (int i = 0; i < sst2_batch_count(b); i++)
	{
		const float *lg = sst2_batch_logits(b, i);
		float		score;
		int			top = sst2_top_label(lg, c->n_labels, &score);

		printf("%s\t%.6f\t", c->labels[top], score);
		for (int j = 0; j < c->n_labels; j++)
			printf("%s%.6f", j ? "," : "", lg[j]);
		putchar('\n');
	}
	return ferror(stdout) ? die("%s", "could not write to standard output") : 0;
}

/* bin/sst2 --make-det DIR [options]: parse the sizes and write the checkpoint. */
static int
make_det(int argc, char **argv)
{
	static const char *const names[] = {"--dim", "--layers", "--heads", "--hidden", "--max-pos"};
	sst2_det_options o = SST2_DET_DEFAULTS;
	int		   *vals[] = {&o.dim, &o.layers, &o.heads, &o.hidden, &o.max_pos};
	const char *dir = NULL;
	sst2_error	err;
	int			n_tensors;
	int64_t		n_params;

	for (int i = 2; i < argc; i++)
	{
		int			k = 0;

		while (k < 5 && strcmp(argv[i], names[k]) != 0)
			k++;
		if (k < 5 && i + 1 < argc)
		{
			if (!parse_int(argv[++i], k == 1 ? 0 : 1, 1 << 20, vals[k]))
				return die("invalid value \"%s\"", argv[i]);
		}
		else if (strcmp(argv[i], "--vocab-file") == 0 && i + 1 < argc)
			o.vocab_file = argv[++i];
		else if (argv[i][0] == '-' || dir != NULL)
			return die("--make-det: unknown option, missing value or extra argument: \"%s\"", argv[i]);
		else
			dir = argv[i];
	}
	if (dir == NULL)
		return die("%s", "--make-det needs an output folder");
	if (sst2_det_write(dir, &o, &n_tensors, &n_params, &err) != SST2_OK)
		return die("%s", err.msg);
	printf("wrote %s: %d tensors, %lld parameters\n", dir, n_tensors, (long long) n_params);
	return 0;
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
	sst2_precision precision = SST2_PREC_FP32;
	sst2_model *m;
	sst2_error	err;
	const sst2_config *c;
	sst2_batch *b = NULL;
	int32_t    *ids;
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;
	int			rc = 0;

	if (argc > 1 && strcmp(argv[1], "--make-det") == 0)
		return make_det(argc, argv);
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
		else if (strcmp(a, "--precision") == 0 && has_val)
		{
			if (!sst2_precision_parse(argv[++i], &precision))
				return die("invalid --precision \"%s\" (expected fp32, bf16 or int8)", argv[i]);
		}
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

	sst2_set_threads(threads);
	if (sst2_model_open_ex(&m, dir, cache_dir, precision, &err) != SST2_OK)
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

	ids = malloc(sizeof(int32_t) * (size_t) max_length);
	if (!ids || sst2_batch_new(&b, m, max_length, 0, &err) != SST2_OK)
	{
		free(ids);
		sst2_model_free(m);
		return die("%s", "out of memory");
	}

	while ((len = getline(&line, &cap, stdin)) >= 0)
	{
		int			n;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (ids_only)
		{
			n = sst2_tokenize(sst2_model_tokenizer(m), line, (size_t) len, ids, max_length);
			for (int j = 0; j < n; j++)
				printf("%s%d", j ? " " : "", (int) ids[j]);
			putchar('\n');
			continue;
		}
		if (sst2_batch_add(b, line, (size_t) len) < 0)
		{
			rc = die("%s", "out of memory");
			break;
		}
		if (sst2_batch_count(b) == batch)
		{
			if ((rc = flush_batch(m, b)) != 0)
				break;
			sst2_batch_reset(b, max_length, 0);
		}
	}
	if (rc == 0 && ferror(stdin))
		rc = die("%s", "could not read standard input");
	if (rc == 0)
		rc = flush_batch(m, b);
	if (fflush(stdout) != 0 && rc == 0)
		rc = die("%s", "could not write to standard output");

	free(line);
	free(ids);
	sst2_batch_free(b);
	sst2_model_free(m);
	return rc;
}

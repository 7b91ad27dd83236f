/*
 * bench_core.c
 *	  Times the sst2 core library directly (no PostgreSQL): the tokenizer and
 *	  the forward pass, on a file of sentences (one per line).
 *
 *	  bench_core MODEL_DIR SENTENCES [options]
 *	    --ids FILE          write each sentence's token ids (space-separated,
 *	                        one line per sentence) to FILE and continue
 *	    --forward SPEC      time classifying every sentence; SPEC is B (batches
 *	                        of B sentences in file order) or sB (length-sorted
 *	                        batches of B); may repeat
 *	    --tokenize N        time tokenizing every sentence N times per repetition
 *	    --reps R            repetitions of each measurement (default 3)
 *	    --logits PREFIX     write the logits of each --forward SPEC, in file
 *	                        order, to PREFIX.SPEC.txt (one line per sentence)
 *	    --max-length N      truncation, as sst2.max_length (default 512)
 *	    --precision P       fp32 (default), bf16 or int8 (sst2.precision)
 *
 *	  Tokenization is done once, untimed, before the forward measurements; a
 *	  warm-up pass over the first batch precedes each.  OpenBLAS runs one
 *	  thread.  One JSON object per measurement is printed on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "bench_util.h"

#include "sst2_core.h"

typedef struct Sentence
{
	char	   *text;
	size_t		len;
	int32_t    *ids;
	int			n_ids;
} Sentence;

static Sentence *sents;
static int	n_sents;

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (!p)
	{
		fprintf(stderr, "bench_core: out of memory\n");
		exit(1);
	}
	return p;
}

static void
read_sentences(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;
	int			alloc = 1024;

	if (!f)
	{
		perror(path);
		exit(1);
	}
	sents = xmalloc(sizeof(Sentence) * alloc);
	while ((len = getline(&line, &cap, f)) >= 0)
	{
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (n_sents == alloc)
		{
			alloc *= 2;
			sents = realloc(sents, sizeof(Sentence) * alloc);
			if (!sents)
				exit(1);
		}
		sents[n_sents].text = strdup(line);
		sents[n_sents].len = (size_t) len;
		sents[n_sents].ids = NULL;
		sents[n_sents].n_ids = 0;
		n_sents++;
	}
	free(line);
	fclose(f);
}

/* Print {"min":..,"median":..,"all":[..]} stats fields for times t[0..n-1]. */
static void
print_times(double *t, int n)
{
	double		s[64];

	memcpy(s, t, sizeof(double) * n);
	qsort(s, n, sizeof(double), cmp_double);
	printf("\"best_s\":%.6f,\"median_s\":%.6f,\"times_s\":[", s[0], s[n / 2]);
	for (int i = 0; i < n; i++)
		printf("%s%.6f", i ? "," : "", t[i]);
	printf("]");
}

static void
bench_tokenize(const sst2_tokenizer *tok, int iters, int reps, int max_len)
{
	int32_t    *ids = xmalloc(sizeof(int32_t) * max_len);
	double		t[64];
	long		total_ids = 0;
	size_t		bytes = 0;

	for (int i = 0; i < n_sents; i++)
		bytes += sents[i].len;
	/* warm-up */
	for (int i = 0; i < n_sents; i++)
		total_ids += sst2_tokenize(tok, sents[i].text, sents[i].len, ids, max_len);
	for (int r = 0; r < reps; r++)
	{
		double		t0 = now();

		for (int it = 0; it < iters; it++)
			for (int i = 0; i < n_sents; i++)
				total_ids += sst2_tokenize(tok, sents[i].text, sents[i].len, ids, max_len);
		t[r] = now() - t0;
	}
	printf("{\"kind\":\"core_tokenize\",\"sentences\":%d,\"iters\":%d,\"bytes\":%zu,\"check\":%ld,",
		   n_sents, iters, bytes, total_ids);
	print_times(t, reps);
	printf("}\n");
	fflush(stdout);
	free(ids);
}

static int
cmp_by_len(const void *a, const void *b)
{
	int			x = *(const int *) a,
				y = *(const int *) b;
	int			lx = sents[x].n_ids,
				ly = sents[y].n_ids;

	if (lx != ly)
		return lx - ly;
	return x - y;
}

/*
 * One pass over all sentences in the given order, batches of b, through the
 * core's batch path (the one the SQL functions and the CLI use); logits in
 * file order.
 */
static void
forward_pass(sst2_model *m, sst2_batch *batch, const int *order, int b, float *logits,
			 int limit, int max_ids)
{
	int			nl = sst2_model_config(m)->n_labels;
	sst2_error	err;
	int			n = limit < n_sents ? limit : n_sents;

	for (int start = 0; start < n; start += b)
	{
		int			cnt = n - start < b ? n - start : b;

		sst2_batch_reset(batch, max_ids, 0);
		for (int j = 0; j < cnt; j++)
		{
			const Sentence *s = &sents[order[start + j]];

			if (sst2_batch_add_ids(batch, s->ids, s->n_ids) < 0)
			{
				fprintf(stderr, "bench_core: could not add sentence %d\n", order[start + j]);
				exit(1);
			}
		}
		if (sst2_batch_run(batch, &err) != SST2_OK)
		{
			fprintf(stderr, "bench_core: forward: %s\n", err.msg);
			exit(1);
		}
		if (logits)
			for (int j = 0; j < cnt; j++)
				memcpy(logits + (size_t) order[start + j] * nl,
					   sst2_batch_logits(batch, j), sizeof(float) * nl);
	}
}

/* Time classifying every sentence with batches as SPEC says (B or sB: sorted). */
static void
bench_forward(sst2_model *m, const char *spec, int reps, const char *logits_prefix)
{
	bool		sorted = spec[0] == 's';
	int			b = atoi(sorted ? spec + 1 : spec);
	int			nl = sst2_model_config(m)->n_labels;
	int		   *order = xmalloc(sizeof(int) * n_sents);
	float	   *logits;
	int			max_tokens = 2;
	long		tokens = 0;
	double		t[64];
	sst2_batch *batch;
	sst2_error	err;

	if (b <= 0)
	{
		fprintf(stderr, "bench_core: bad --forward spec \"%s\"\n", spec);
		exit(2);
	}
	for (int i = 0; i < n_sents; i++)
	{
		order[i] = i;
		tokens += sents[i].n_ids;
		if (sents[i].n_ids > max_tokens)
			max_tokens = sents[i].n_ids;
	}
	if (sorted)
		qsort(order, n_sents, sizeof(int), cmp_by_len);
	logits = xmalloc(sizeof(float) * nl * n_sents);
	if (sst2_batch_new(&batch, m, max_tokens, 0, &err) != SST2_OK)
	{
		fprintf(stderr, "bench_core: %s\n", err.msg);
		exit(1);
	}

	/* warm-up: the first batch (faults the weights in, sizes the workspace) */
	forward_pass(m, batch, order, b, NULL, b, max_tokens);
	for (int r = 0; r < reps; r++)
	{
		double		t0 = now();

		forward_pass(m, batch, order, b, logits, n_sents, max_tokens);
		t[r] = now() - t0;
	}
	sst2_batch_free(batch);
	printf("{\"kind\":\"core_forward\",\"precision\":\"%s\",\"isa\":\"%s\",\"kernel\":\"%s\","
		   "\"spec\":\"%s\",\"batch\":%d,\"sorted\":%s,\"sentences\":%d,\"tokens\":%ld,",
		   sst2_precision_name(sst2_model_precision(m)), sst2_isa_name(), sst2_model_kernel(m),
		   spec, b, sorted ? "true" : "false", n_sents, tokens);
	print_times(t, reps);
	printf("}\n");
	fflush(stdout);

	if (logits_prefix)
	{
		char		path[4096];
		FILE	   *f;

		snprintf(path, sizeof(path), "%s.%s.txt", logits_prefix, spec);
		f = fopen(path, "w");
		if (!f)
		{
			perror(path);
			exit(1);
		}
		for (int i = 0; i < n_sents; i++)
		{
			for (int j = 0; j < nl; j++)
				fprintf(f, "%s%.9g", j ? " " : "", logits[(size_t) i * nl + j]);
			fputc('\n', f);
		}
		fclose(f);
	}
	free(order);
	free(logits);
}

int
main(int argc, char **argv)
{
	const char *model_dir,
			   *sent_path,
			   *ids_path = NULL,
			   *logits_prefix = NULL;
	const char *specs[32];
	int			n_specs = 0,
				tok_iters = 0,
				reps = 3,
				max_len = 512;
	sst2_precision precision = SST2_PREC_FP32;
	sst2_model *m;
	sst2_error	err;
	const sst2_tokenizer *tok;
	double		t0;

	if (argc < 3)
	{
		fprintf(stderr, "usage: bench_core MODEL_DIR SENTENCES [--ids FILE] [--forward B|sB]... "
				"[--tokenize N] [--reps R] [--logits PREFIX] [--max-length N] [--precision P]\n");
		return 2;
	}
	model_dir = argv[1];
	sent_path = argv[2];
	for (int i = 3; i < argc; i++)
	{
		bool		v = i + 1 < argc;

		if (strcmp(argv[i], "--ids") == 0 && v)
			ids_path = argv[++i];
		else if (strcmp(argv[i], "--forward") == 0 && v && n_specs < 32)
			specs[n_specs++] = argv[++i];
		else if (strcmp(argv[i], "--tokenize") == 0 && v)
			tok_iters = atoi(argv[++i]);
		else if (strcmp(argv[i], "--reps") == 0 && v)
			reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--logits") == 0 && v)
			logits_prefix = argv[++i];
		else if (strcmp(argv[i], "--max-length") == 0 && v)
			max_len = atoi(argv[++i]);
		else if (strcmp(argv[i], "--precision") == 0 && v)
		{
			if (!sst2_precision_parse(argv[++i], &precision))
			{
				fprintf(stderr, "bench_core: --precision must be fp32, bf16 or int8\n");
				return 2;
			}
		}
		else
		{
			fprintf(stderr, "bench_core: unknown or incomplete option \"%s\"\n", argv[i]);
			return 2;
		}
	}
	if (reps < 1 || reps > 64 || max_len < 2)
	{
		fprintf(stderr, "bench_core: --reps must be 1..64, --max-length >= 2\n");
		return 2;
	}
	openblas_set_num_threads(1);
	read_sentences(sent_path);

	t0 = now();
	if (sst2_model_open_ex(&m, model_dir, NULL, precision, &err) != SST2_OK)
	{
		fprintf(stderr, "bench_core: %s\n", err.msg);
		return 1;
	}
	/* what ran: sst2's paths and the core OpenBLAS chose (OPENBLAS_CORETYPE can pin it) */
	printf("{\"kind\":\"core_open\",\"seconds\":%.6f,\"bytes_mapped\":%zu,"
		   "\"precision\":\"%s\",\"isa\":\"%s\",\"kernel\":\"%s\","
		   "\"openblas_core\":\"%s\",\"openblas_config\":\"%s\"}\n",
		   now() - t0, sst2_model_bytes_mapped(m),
		   sst2_precision_name(precision), sst2_isa_name(), sst2_model_kernel(m),
		   openblas_get_corename(), openblas_get_config());
	tok = sst2_model_tokenizer(m);
	if (max_len > sst2_model_config(m)->max_pos)
		max_len = sst2_model_config(m)->max_pos;

	/* tokenize everything once (untimed) */
	for (int i = 0; i < n_sents; i++)
	{
		int32_t    *buf = xmalloc(sizeof(int32_t) * max_len);

		sents[i].n_ids = sst2_tokenize(tok, sents[i].text, sents[i].len, buf, max_len);
		if (sents[i].n_ids < 2)
		{
			fprintf(stderr, "bench_core: tokenizer returned %d ids for line %d\n",
					sents[i].n_ids, i + 1);
			return 1;
		}
		sents[i].ids = buf;
	}
	if (ids_path)
	{
		FILE	   *f = fopen(ids_path, "w");

		if (!f)
		{
			perror(ids_path);
			return 1;
		}
		for (int i = 0; i < n_sents; i++)
		{
			for (int j = 0; j < sents[i].n_ids; j++)
				fprintf(f, "%s%d", j ? " " : "", sents[i].ids[j]);
			fputc('\n', f);
		}
		fclose(f);
	}

	if (tok_iters > 0)
		bench_tokenize(tok, tok_iters, reps, max_len);
	for (int i = 0; i < n_specs; i++)
		bench_forward(m, specs[i], reps, logits_prefix);

	sst2_model_free(m);
	return 0;
}

/*
 * classify.c
 *	  The one path from texts to logits (sst2_batch, see sst2_core.h): the SQL
 *	  functions, the CLI and the benchmark all add texts, run, and read
 *	  logits here, so tokenizing, packing, splitting by memory and the
 *	  forward call are written once.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sst2_core.h"

struct sst2_batch
{
	sst2_model *model;
	int			max_ids;		/* ids per text at most ([CLS] and [SEP] included) */
	int			n_labels;
	size_t		memory_limit;	/* workspace bytes one forward pass may take; 0 = none */

	int			n;				/* texts added */
	int			n_done;			/* texts already run */
	int			cap;			/* capacity of lens, offs, logits (texts) */
	int		   *lens;			/* [cap] ids of each text */
	size_t	   *offs;			/* [cap] first id of each text in ids */
	float	   *logits;			/* [cap * n_labels] */

	int32_t    *ids;			/* [ids_cap] all texts' ids, packed */
	size_t		n_ids;
	size_t		ids_cap;

	sst2_batch_counts counts;	/* work since the last reset */
};

/* Nanoseconds of the monotonic clock. */
static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* See sst2_core.h. */
sst2_status
sst2_batch_new(sst2_batch **out, sst2_model *m, int max_ids, size_t memory_limit,
			   sst2_error *err)
{
	sst2_batch *b;
	int			max_pos = sst2_model_config(m)->max_pos;

	*out = NULL;
	if (max_ids < 2)
		return sst2_set_error(err, SST2_ERR_LIMIT, "max_length must be at least 2, got %d", max_ids);
	b = calloc(1, sizeof(*b));
	if (!b)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	b->model = m;
	b->max_ids = max_ids < max_pos ? max_ids : max_pos;
	b->n_labels = sst2_model_config(m)->n_labels;
	b->memory_limit = memory_limit;
	*out = b;
	return SST2_OK;
}

/* See sst2_core.h. */
void
sst2_batch_free(sst2_batch *b)
{
	if (!b)
		return;
	free(b->lens);
	free(b->offs);
	free(b->logits);
	free(b->ids);
	free(b);
}

/* See sst2_core.h. */
void
sst2_batch_reset(sst2_batch *b, int max_ids, size_t memory_limit)
{
	int			max_pos = sst2_model_config(b->model)->max_pos;

	b->n = 0;
	b->n_done = 0;
	b->n_ids = 0;
	memset(&b->counts, 0, sizeof(b->counts));
	if (max_ids >= 2)
		b->max_ids = max_ids < max_pos ? max_ids : max_pos;
	b->memory_limit = memory_limit;
}

/* Room for one more text and max_ids + 1 more ids; false when out of memory. */
static bool
batch_reserve(sst2_batch *b)
{
	if (b->n == b->cap)
	{
		int			cap = b->cap ? b->cap * 2 : 16;
		int		   *lens = realloc(b->lens, sizeof(int) * (size_t) cap);
		size_t	   *offs;
		float	   *logits;

		if (!lens)
			return false;
		b->lens = lens;
		offs = realloc(b->offs, sizeof(size_t) * (size_t) cap);
		if (!offs)
			return false;
		b->offs = offs;
		logits = realloc(b->logits, sizeof(float) * (size_t) cap * (size_t) b->n_labels);
		if (!logits)
			return false;
		b->logits = logits;
		b->cap = cap;
	}
	if (b->ids_cap - b->n_ids < (size_t) b->max_ids + 1)
	{
		size_t		cap = b->ids_cap ? b->ids_cap * 2 : 4096;
		int32_t    *ids;

		while (cap - b->n_ids < (size_t) b->max_ids + 1)
			cap *= 2;
		ids = realloc(b->ids, sizeof(int32_t) * cap);
		if (!ids)
			return false;
		b->ids = ids;
		b->ids_cap = cap;
	}
	return true;
}

/* See sst2_core.h. */
int
sst2_batch_add(sst2_batch *b, const char *text, size_t len)
{
	int			n;
	int32_t    *ids;
	uint64_t	t0;

	if (!batch_reserve(b))
		return -1;
	ids = b->ids + b->n_ids;
	t0 = now_ns();

	/*
	 * One id more than kept tells whether truncation cut the text; the cut
	 * ids are then a prefix of these, ending in the [SEP] found last.
	 */
	n = sst2_tokenize(sst2_model_tokenizer(b->model), text, len, ids, b->max_ids + 1);
	b->counts.tokenize_ns += now_ns() - t0;
	if (n < 2)
		return -1;
	if (n > b->max_ids)
	{
		ids[b->max_ids - 1] = ids[n - 1];
		n = b->max_ids;
		b->counts.truncated++;
	}
	b->counts.texts++;
	b->counts.tokens += (uint64_t) n;
	b->offs[b->n] = b->n_ids;
	b->lens[b->n] = n;
	b->n_ids += (size_t) n;
	return b->n++;
}

/* See sst2_core.h. */
int
sst2_batch_add_ids(sst2_batch *b, const int32_t *ids, int n)
{
	if (n < 1 || n > b->max_ids || !batch_reserve(b))
		return -1;
	memcpy(b->ids + b->n_ids, ids, sizeof(int32_t) * (size_t) n);
	b->offs[b->n] = b->n_ids;
	b->lens[b->n] = n;
	b->n_ids += (size_t) n;
	return b->n++;
}

/* See sst2_core.h. */
int
sst2_batch_count(const sst2_batch *b)
{
	return b->n;
}

/* See sst2_core.h. */
const int32_t *
sst2_batch_ids(const sst2_batch *b, int i, int *n)
{
	*n = b->lens[i];
	return b->ids + b->offs[i];
}

/*
 * See sst2_core.h.  Texts go through the model in order, as many at a time as
 * the memory limit allows (always at least one).
 */
sst2_status
sst2_batch_run(sst2_batch *b, sst2_error *err)
{
	if (b->n_done < b->n)
		b->counts.runs++;
	while (b->n_done < b->n)
	{
		int			first = b->n_done,
					count = 0,
					max_len = 0;
		size_t		M = 0;
		uint64_t	t0;
		sst2_status rc;

		while (first + count < b->n)
		{
			int			len = b->lens[first + count];
			int			ml = len > max_len ? len : max_len;

			if (count > 0 && b->memory_limit > 0 &&
				sst2_model_workspace_bytes(b->model, M + (size_t) len, count + 1, ml) >
				b->memory_limit)
				break;
			M += (size_t) len;
			max_len = ml;
			count++;
		}
		t0 = now_ns();
		rc = sst2_model_forward(b->model, b->ids + b->offs[first], b->lens + first, count,
								b->logits + (size_t) first * b->n_labels, err);
		b->counts.forward_ns += now_ns() - t0;
		if (rc != SST2_OK)
			return rc;
		b->counts.forward_passes++;
		b->n_done += count;
	}
	return SST2_OK;
}

/* See sst2_core.h. */
const sst2_batch_counts *
sst2_batch_counters(const sst2_batch *b)
{
	return &b->counts;
}

/* See sst2_core.h. */
const float *
sst2_batch_logits(const sst2_batch *b, int i)
{
	return b->logits + (size_t) i * b->n_labels;
}

/*
 * argmax (the first maximum wins) and its softmax probability, computed in
 * double with the maximum subtracted so large logits cannot overflow.
 */
int
sst2_top_label(const float *logits, int n_labels, float *score)
{
	int			best = 0;
	double		sum = 0.0;

	if (n_labels <= 0)
	{
		if (score)
			*score = 0.0f;
		return -1;
	}
	for (int i = 1; i < n_labels; i++)
		if (logits[i] > logits[best])
			best = i;
	for (int i = 0; i < n_labels; i++)
		sum += exp((double) logits[i] - (double) logits[best]);
	if (score)
		*score = (float) (1.0 / sum);
	return best;
}

/*
 * Softmax of n_labels logits into probs, in double with the maximum
 * subtracted (the same arithmetic as sst2_top_label's score).
 */
void
sst2_softmax(const float *logits, int n_labels, double *probs)
{
	int			best = 0;
	double		sum = 0.0;

	for (int i = 1; i < n_labels; i++)
		if (logits[i] > logits[best])
			best = i;
	for (int i = 0; i < n_labels; i++)
	{
		probs[i] = exp((double) logits[i] - (double) logits[best]);
		sum += probs[i];
	}
	for (int i = 0; i < n_labels; i++)
		probs[i] /= sum;
}

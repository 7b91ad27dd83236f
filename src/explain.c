/*
 * explain.c
 *	  Occlusion attributions (sst2_explain, see sst2_core.h): which words of
 *	  a text decided its label.  The text and each copy of it with one word's
 *	  pieces removed go through the batch path as one packed batch; a word's
 *	  attribution is p(L | text) - p(L | text without the word), L the top
 *	  label of the whole text.
 */
#include <stdlib.h>
#include <string.h>

#include "sst2_core.h"

/* See sst2_core.h. */
sst2_status
sst2_explain(sst2_model *m, sst2_batch *b, const char *text, size_t len,
			 int max_ids, size_t memory_limit, int32_t *ids, int32_t *scratch,
			 sst2_word *words, double *attr, int *n_words, int *label,
			 double *p_label, sst2_error *err)
{
	const sst2_config *cfg = sst2_model_config(m);
	int			n_labels = cfg->n_labels;
	double		probs[SST2_MAX_LABELS];
	int			n,
				nw = 0,
				top;
	double		p_full;
	sst2_status rc;

	if (max_ids > cfg->max_pos)
		max_ids = cfg->max_pos;
	n = sst2_tokenize_words(sst2_model_tokenizer(m), text, len, ids, max_ids, words, &nw);
	if (n < 2)
		return sst2_set_error(err, SST2_ERR_LIMIT, "max_length must be at least 2, got %d", max_ids);

	sst2_batch_reset(b, max_ids, memory_limit);
	if (sst2_batch_add_ids(b, ids, n) < 0)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	for (int w = 0; w < nw; w++)
	{
		int			first = words[w].first_id,
					k = words[w].n_ids;

		/* ids without ids[first .. first + k) */
		memcpy(scratch, ids, sizeof(int32_t) * (size_t) first);
		memcpy(scratch + first, ids + first + k, sizeof(int32_t) * (size_t) (n - first - k));
		if (sst2_batch_add_ids(b, scratch, n - k) < 0)
			return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	}
	rc = sst2_batch_run(b, err);
	if (rc != SST2_OK)
		return rc;

	top = sst2_top_label(sst2_batch_logits(b, 0), n_labels, NULL);
	sst2_softmax(sst2_batch_logits(b, 0), n_labels, probs);
	p_full = probs[top];
	for (int w = 0; w < nw; w++)
	{
		sst2_softmax(sst2_batch_logits(b, w + 1), n_labels, probs);
		attr[w] = p_full - probs[top];
	}
	*n_words = nw;
	*label = top;
	*p_label = p_full;
	return SST2_OK;
}

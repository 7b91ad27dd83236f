/*
 * scores.c
 *	  Every label's score: sst2_scores(text) and sst2_scores_batch(text[])
 *	  return {"LABEL": probability, ...} for every label of id2label, the
 *	  softmax of the logits (the pipeline's top_k=None).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "sst2_pg.h"

/*
 * The jsonb object of one text's logits: each label of h (in the database
 * encoding) with its softmax probability, written as the shortest float8
 * text that reads back exactly.
 */
static Datum
scores_jsonb(const Sst2Model *h, const float *logits)
{
	double	   *p = palloc(sizeof(double) * h->n_labels);
	StringInfoData buf;

	sst2_softmax(logits, h->n_labels, p);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < h->n_labels; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, h->labels[i]);
		appendStringInfo(&buf, ": %s", float8out_internal(p[i]));
	}
	appendStringInfoChar(&buf, '}');
	pfree(p);
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/*
 * sst2_scores(text) RETURNS jsonb: every label with its probability.
 */
PG_FUNCTION_INFO_V1(sst2_scores);
Datum
sst2_scores(PG_FUNCTION_ARGS)
{
	Sst2Model  *h;
	float	   *logits = sst2_classify_arg(fcinfo, &h);

	PG_RETURN_DATUM(scores_jsonb(h, logits));
}

/*
 * sst2_scores_batch(text[]) RETURNS jsonb[]: sst2_scores of every element, in
 * order, NULL for NULL, classified sst2.batch_size texts per forward pass.
 */
PG_FUNCTION_INFO_V1(sst2_scores_batch);
Datum
sst2_scores_batch(PG_FUNCTION_ARGS)
{
	bool	   *nulls;
	int			n;
	Sst2Model  *h;
	float	   *logits = sst2_classify_array(fcinfo->flinfo, PG_GETARG_ARRAYTYPE_P(0),
											 "sst2_scores_batch", &h, &n, &nulls);
	Datum	   *out = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0, j = 0; i < n; i++)
		out[i] = nulls[i] ? (Datum) 0 : scores_jsonb(h, logits + (size_t) (j++) * h->n_labels);
	PG_RETURN_ARRAYTYPE_P(sst2_make_array(out, nulls, n, JSONBOID));
}

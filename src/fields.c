/*
 * fields.c
 *	  sst2_label(text) and sst2_score(text): the two fields of sst2_classify
 *	  as plain scalars.  Unlike a field selection from a composite result,
 *	  postgres_fdw ships these to the remote server (they are built-in-typed
 *	  functions of a listed extension), so WHERE, GROUP BY and generated
 *	  columns on sharded tables run the model where the rows live.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "sst2_pg.h"

/*
 * Classify one text with the statement's model; returns the top label's
 * number and sets *score to its softmax probability.
 */
static int
classify_one(FunctionCallInfo fcinfo, Sst2Model **model, float *score)
{
	float	   *logits = sst2_classify_arg(fcinfo, model);
	int			top = sst2_top_label(logits, (*model)->n_labels, score);

	pfree(logits);
	return top;
}

/*
 * sst2_label(text) RETURNS text: (sst2_classify(text)).label, in the
 * database encoding.
 */
PG_FUNCTION_INFO_V1(sst2_label);
Datum
sst2_label(PG_FUNCTION_ARGS)
{
	Sst2Model  *h;
	float		score;
	int			top = classify_one(fcinfo, &h, &score);

	PG_RETURN_TEXT_P(cstring_to_text(h->labels[top]));
}

/*
 * sst2_score(text) RETURNS real: (sst2_classify(text)).score.
 */
PG_FUNCTION_INFO_V1(sst2_score);
Datum
sst2_score(PG_FUNCTION_ARGS)
{
	Sst2Model  *h;
	float		score;

	(void) classify_one(fcinfo, &h, &score);
	PG_RETURN_FLOAT4(score);
}

/*
 * pg_classify.c
 *	  Text values to the core and results back: the database encoding to
 *	  UTF-8, text[] arguments, batches through the core's batch path under
 *	  sst2.batch_size and sst2.batch_memory, sst2_result values.  Every SQL
 *	  surface classifies through here.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "sst2_pg.h"

/*
 * Number of ids a text may take: sst2.max_length, which must not exceed the
 * model's positions (silently using fewer would hide that texts are cut).
 */
int
sst2_effective_max_length(const Sst2Model *h)
{
	int			limit = sst2_model_config(h->core)->max_pos;

	if (sst2_max_length > limit)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sst2.max_length is %d, above the model's limit of %d tokens",
						sst2_max_length, limit),
				 errdetail("The model has %d position embeddings (max_position_embeddings in config.json).", limit),
				 errhint("SET sst2.max_length to %d or less. Texts longer than that are cut; sst2_stats counts them as truncated.", limit)));
	return sst2_max_length;
}

/*
 * The UTF-8 bytes of a text value: converted from the database encoding (in a
 * SQL_ASCII database the bytes must already be valid UTF-8).  *len is set;
 * the result is palloc'd unless it is the value's own data.
 */
const char *
sst2_text_utf8(text *t, int *len)
{
	const char *s = VARDATA_ANY(t);
	char	   *utf8;

	*len = VARSIZE_ANY_EXHDR(t);
	utf8 = pg_server_to_any(s, *len, PG_UTF8);
	if (utf8 != s)
		*len = strlen(utf8);
	return utf8;
}

/* Tokenize one text value into ids (capacity max_ids); returns the count. */
int
sst2_tokenize_text(const Sst2Model *h, text *t, int32 *ids, int max_ids)
{
	int			len;
	const char *utf8 = sst2_text_utf8(t, &len);

	return sst2_tokenize(sst2_model_tokenizer(h->core), utf8, len, ids, max_ids);
}

/*
 * The elements of a one-dimensional text[] (fname names the function in the
 * error for other shapes): *n elements with their *nulls, and the *n_texts
 * non-NULL ones in order in *texts.
 */
static void
array_texts(ArrayType *arr, const char *fname, int *n, bool **nulls,
			text ***texts, int *n_texts)
{
	Datum	   *elems;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s expects a one-dimensional array", fname)));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, nulls, n);
	*texts = palloc(sizeof(text *) * Max(*n, 1));
	*n_texts = 0;
	for (int i = 0; i < *n; i++)
		if (!(*nulls)[i])
			(*texts)[(*n_texts)++] = DatumGetTextPP(elems[i]);
}

/* See sst2_pg.h. */
float *
sst2_classify_array(FmgrInfo *flinfo, ArrayType *arr, const char *fname,
					Sst2Model **h, int *n, bool **nulls)
{
	text	  **texts;
	int			n_texts;
	float	   *logits;

	array_texts(arr, fname, n, nulls, &texts, &n_texts);
	*h = sst2_statement_model(flinfo);
	logits = palloc(sizeof(float) * (*h)->n_labels * Max(n_texts, 1));
	if (n_texts > 0)
		sst2_classify_texts(*h, texts, n_texts, logits);
	return logits;
}

/* See sst2_pg.h. */
ArrayType *
sst2_make_array(Datum *elems, bool *nulls, int n, Oid elemtype)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};
	int16		typlen;
	bool		typbyval;
	char		typalign;

	if (n == 0)
		return construct_empty_array(elemtype);
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return construct_md_array(elems, nulls, 1, dims, lbs, elemtype,
							  typlen, typbyval, typalign);
}

/*
 * Classify texts[0..n-1] (none NULL), writing n * n_labels logits.  Texts go
 * through the core's batch path sst2.batch_size at a time, each forward pass
 * held under sst2.batch_memory.
 */
void
sst2_classify_texts(Sst2Model *h, text **texts, int n, float *logits)
{
	int			max_ids = sst2_effective_max_length(h);
	size_t		limit = (size_t) sst2_batch_memory * 1024 * 1024;
	sst2_error	err;

	for (int first = 0; first < n; first += sst2_batch_size)
	{
		int			count = Min(sst2_batch_size, n - first);

		sst2_batch_reset(h->batch, max_ids, limit);
		for (int i = 0; i < count; i++)
		{
			int			len;
			const char *utf8 = sst2_text_utf8(texts[first + i], &len);

			if (sst2_batch_add(h->batch, utf8, len) < 0)
				ereport(ERROR,
						(errcode(ERRCODE_OUT_OF_MEMORY),
						 errmsg("out of memory")));
		}
		if (sst2_batch_run(h->batch, &err) != SST2_OK)
			sst2_report(&err);
		sst2_stats_count(h->batch);
		for (int i = 0; i < count; i++)
			memcpy(logits + (size_t) (first + i) * h->n_labels,
				   sst2_batch_logits(h->batch, i), sizeof(float) * h->n_labels);
	}
}

/*
 * Build an sst2_result (label text, score real) datum: every surface that
 * returns one builds it here, naming the label with the model that computed it.
 */
Datum
sst2_result_datum(const Sst2Model *h, TupleDesc tupdesc, int label, float score)
{
	Datum		values[2];
	bool		nulls[2] = {false, false};

	Assert(label >= 0 && label < h->n_labels);
	values[0] = CStringGetTextDatum(h->labels[label]);
	values[1] = Float4GetDatum(score);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/* See sst2_pg.h. */
float *
sst2_classify_arg(FunctionCallInfo fcinfo, Sst2Model **h)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	float	   *logits;

	*h = sst2_statement_model(fcinfo->flinfo);
	logits = palloc(sizeof(float) * (*h)->n_labels);
	sst2_classify_texts(*h, &t, 1, logits);
	return logits;
}

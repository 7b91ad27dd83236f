/*
 * batch.c
 *	  The batched SQL surfaces: sst2_classify_batch(text[]),
 *	  the aggregate sst2_classify_agg(text) and the window function
 *	  sst2_classify_window(text).  Each collects up to sst2.batch_size texts
 *	  and classifies them with one forward pass (all tokens of the batch go
 *	  through each linear layer as one matrix product).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"
#include "windowapi.h"

#include "sst2_pg.h"

/* Largest sst2.batch_size (the GUC's maximum). */
#define SST2_MAX_BATCH 4096

/* One classified row: the top label's index and its score; label -1 = NULL. */
typedef struct Sst2Verdict
{
	int32		label;
	float4		score;
} Sst2Verdict;

/*
 * Classify texts[0..n-1] (none NULL) and write one verdict each.
 */
static void
classify_verdicts(Sst2Model *h, text **texts, int n, Sst2Verdict *out)
{
	int			n_labels = h->n_labels;
	float	   *logits = palloc(sizeof(float) * n_labels * n);

	sst2_classify_texts(h, texts, n, logits);
	for (int i = 0; i < n; i++)
		out[i].label = sst2_top_label(logits + (size_t) i * n_labels, n_labels,
									  &out[i].score);
	pfree(logits);
}

/*
 * The tuple descriptor of sst2_result, found from a function returning
 * sst2_result[] (so it does not depend on search_path).
 */
static TupleDesc
result_element_tupdesc(FunctionCallInfo fcinfo)
{
	Oid			arraytype = get_fn_expr_rettype(fcinfo->flinfo);
	Oid			elemtype = get_element_type(arraytype);

	if (!OidIsValid(elemtype))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("could not determine the result type of the sst2 batch function")));
	return BlessTupleDesc(lookup_rowtype_tupdesc_copy(elemtype, -1));
}

/*
 * Build an sst2_result[] from verdicts (label -1 gives a NULL element).
 */
static ArrayType *
verdicts_to_array(FunctionCallInfo fcinfo, const Sst2Model *h,
				  const Sst2Verdict *v, int n)
{
	TupleDesc	tupdesc = result_element_tupdesc(fcinfo);
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(n, 1));

	for (int i = 0; i < n; i++)
	{
		nulls[i] = v[i].label < 0;
		elems[i] = nulls[i] ? (Datum) 0 :
			sst2_result_datum(h, tupdesc, v[i].label, v[i].score);
	}
	return sst2_make_array(elems, nulls, n, tupdesc->tdtypeid);
}

/*
 * sst2_classify_batch(text[]) RETURNS sst2_result[]: one result per element,
 * in order, NULL for NULL.
 */
PG_FUNCTION_INFO_V1(sst2_classify_batch);
Datum
sst2_classify_batch(PG_FUNCTION_ARGS)
{
	bool	   *nulls;
	int			n;
	Sst2Model  *h;
	float	   *logits = sst2_classify_array(fcinfo->flinfo, PG_GETARG_ARRAYTYPE_P(0),
											 "sst2_classify_batch", &h, &n, &nulls);
	Sst2Verdict *verdicts = palloc(sizeof(Sst2Verdict) * Max(n, 1));

	for (int i = 0, j = 0; i < n; i++)
	{
		verdicts[i].label = -1;
		if (!nulls[i])
			verdicts[i].label = sst2_top_label(logits + (size_t) (j++) * h->n_labels,
											   h->n_labels, &verdicts[i].score);
	}
	PG_RETURN_ARRAYTYPE_P(verdicts_to_array(fcinfo, h, verdicts, n));
}

/*
 * State of sst2_classify_agg: the verdicts so far and the texts waiting for
 * the next batch (copied into a context that is reset after each batch, so
 * memory stays bounded by one batch plus 8 bytes a row).
 */
typedef struct Sst2AggState
{
	Sst2Model  *model;			/* pinned for the group's life (aggregate context) */
	MemoryContext pending_cxt;	/* holds the pending texts */
	int			batch;			/* sst2.batch_size when the group started */
	int			n_pending;
	text	  **pending;		/* [batch] texts waiting to be classified */
	int		   *pending_pos;	/* [batch] their positions in verdicts */
	int			n;				/* rows seen */
	int			cap;
	Sst2Verdict *verdicts;		/* [cap], label -1 = NULL or not yet known */
} Sst2AggState;

/* Classify the pending texts of an aggregate state and store their verdicts. */
static void
agg_flush(Sst2AggState *st)
{
	Sst2Verdict *found;

	if (st->n_pending == 0)
		return;
	found = palloc(sizeof(Sst2Verdict) * st->n_pending);
	classify_verdicts(st->model, st->pending, st->n_pending, found);
	for (int i = 0; i < st->n_pending; i++)
		st->verdicts[st->pending_pos[i]] = found[i];
	pfree(found);
	st->n_pending = 0;
	MemoryContextReset(st->pending_cxt);
}

/*
 * Transition function of sst2_classify_agg(text): record the row, classify
 * once sst2.batch_size texts are waiting.
 */
PG_FUNCTION_INFO_V1(sst2_classify_agg_trans);
Datum
sst2_classify_agg_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MemoryContext oldcxt;
	Sst2AggState *st;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "sst2_classify_agg_trans called in non-aggregate context");

	if (PG_ARGISNULL(0))
	{
		st = MemoryContextAllocZero(aggcxt, sizeof(Sst2AggState));
		st->model = sst2_pin_model(aggcxt);
		st->pending_cxt = AllocSetContextCreate(aggcxt, "sst2 pending texts",
												ALLOCSET_DEFAULT_SIZES);
		st->batch = Min(sst2_batch_size, SST2_MAX_BATCH);
		st->pending = MemoryContextAlloc(aggcxt, sizeof(text *) * st->batch);
		st->pending_pos = MemoryContextAlloc(aggcxt, sizeof(int) * st->batch);
		st->cap = 64;
		st->verdicts = MemoryContextAlloc(aggcxt, sizeof(Sst2Verdict) * st->cap);
	}
	else
		st = (Sst2AggState *) PG_GETARG_POINTER(0);

	if (st->n == st->cap)
	{
		if (st->cap >= (int) (MaxAllocSize / sizeof(Sst2Verdict) / 2))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("sst2_classify_agg cannot classify more than %d rows in one group", st->cap)));
		st->cap *= 2;
		st->verdicts = repalloc(st->verdicts, sizeof(Sst2Verdict) * st->cap);
	}
	st->verdicts[st->n] = (Sst2Verdict) {-1, 0};

	if (!PG_ARGISNULL(1))
	{
		oldcxt = MemoryContextSwitchTo(st->pending_cxt);
		st->pending[st->n_pending] = DatumGetTextPCopy(PG_GETARG_DATUM(1));
		MemoryContextSwitchTo(oldcxt);
		st->pending_pos[st->n_pending++] = st->n;
	}
	st->n++;

	if (st->n_pending >= st->batch)
		agg_flush(st);

	PG_RETURN_POINTER(st);
}

/*
 * Final function of sst2_classify_agg: classify what is left and return the
 * results in input order.
 */
PG_FUNCTION_INFO_V1(sst2_classify_agg_final);
Datum
sst2_classify_agg_final(PG_FUNCTION_ARGS)
{
	Sst2AggState *st;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (Sst2AggState *) PG_GETARG_POINTER(0);
	agg_flush(st);
	PG_RETURN_ARRAYTYPE_P(verdicts_to_array(fcinfo, st->model, st->verdicts, st->n));
}

/*
 * Per-partition state of sst2_classify_window: the verdicts of one block of
 * consecutive rows, [start, start + n).
 */
typedef struct Sst2WindowState
{
	int64		start;
	int			n;
	bool		valid;
	Sst2Verdict verdicts[SST2_MAX_BATCH];
} Sst2WindowState;

/*
 * sst2_classify_window(text) OVER (...): each row's own sst2_result, computed
 * by classifying the partition in blocks of sst2.batch_size rows.
 */
PG_FUNCTION_INFO_V1(sst2_classify_window);
Datum
sst2_classify_window(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	Sst2WindowState *ws;
	int64		pos = WinGetCurrentPosition(winobj);
	Sst2Verdict *v;
	TupleDesc	tupdesc;
	Sst2Model  *h = sst2_statement_model(fcinfo->flinfo);

	ws = (Sst2WindowState *) WinGetPartitionLocalMemory(winobj, sizeof(Sst2WindowState));

	if (!ws->valid || pos < ws->start || pos >= ws->start + ws->n)
	{
		int			batch = Min(sst2_batch_size, SST2_MAX_BATCH);
		text	   *texts[SST2_MAX_BATCH];
		int			where[SST2_MAX_BATCH];
		Sst2Verdict found[SST2_MAX_BATCH];
		int			n_texts = 0;
		int			n = 0;

		/* fetch this row and the next ones; rows before pos may be released */
		for (; n < batch; n++)
		{
			bool		isnull;
			bool		isout;
			Datum		d = WinGetFuncArgInPartition(winobj, 0, pos + n,
													 WINDOW_SEEK_HEAD, n == 0,
													 &isnull, &isout);

			if (isout)
				break;
			ws->verdicts[n] = (Sst2Verdict) {-1, 0};
			if (!isnull)
			{
				/* copy: the next fetch may reuse the slot the datum points into */
				texts[n_texts] = DatumGetTextPCopy(d);
				where[n_texts++] = n;
			}
		}
		ws->valid = false;
		if (n_texts > 0)
			classify_verdicts(h, texts, n_texts, found);
		for (int i = 0; i < n_texts; i++)
			ws->verdicts[where[i]] = found[i];
		ws->start = pos;
		ws->n = n;
		ws->valid = true;
	}

	v = &ws->verdicts[pos - ws->start];
	if (v->label < 0)
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "sst2_classify_window must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(sst2_result_datum(h, tupdesc, v->label, v->score));
}

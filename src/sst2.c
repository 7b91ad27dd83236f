/*
 * sst2.c
 *	  The module: _PG_init, and the scalar SQL functions (sst2_classify,
 *	  sst2_logits, sst2_tokenize, sst2_model_info).  Settings are
 *	  settings.c's, which model a statement uses pg_model.c's, text to the
 *	  core and back pg_classify.c's; the batched surfaces are in batch.c,
 *	  the trigger in trigger.c.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "sst2_pg.h"
#include "sst2_watch.h"

SST2_MODULE_MAGIC;

void		_PG_init(void);

/*
 * Interrupt hook for the core: lets a cancel or statement_timeout stop a long
 * forward pass.  The core keeps no temporary allocation across the call, so
 * the longjmp out of ereport leaks nothing.
 */
static void
sst2_check_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
}

/*
 * Module load: the settings, the core's interrupt checks and, in the
 * postmaster (shared_preload_libraries), the statistics and the model.
 */
void
_PG_init(void)
{
	sst2_settings_init();
	sst2_interrupt_hook = sst2_check_interrupts;
	if (process_shared_preload_libraries_in_progress)
	{
		sst2_stats_init();
		sst2_preload_model();
		sst2_launcher_register();
	}
}

/*
 * sst2_classify(text) RETURNS sst2_result: the label and score the
 * text-classification pipeline gives.
 */
PG_FUNCTION_INFO_V1(sst2_classify);
Datum
sst2_classify(PG_FUNCTION_ARGS)
{
	Sst2Model  *h;
	TupleDesc	tupdesc;
	float	   *logits;
	float		score;
	int			top;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));
	tupdesc = BlessTupleDesc(tupdesc);

	logits = sst2_classify_arg(fcinfo, &h);
	top = sst2_top_label(logits, h->n_labels, &score);
	PG_RETURN_DATUM(sst2_result_datum(h, tupdesc, top, score));
}

/*
 * sst2_logits(text) RETURNS real[]: the raw logits in label-id order.
 */
PG_FUNCTION_INFO_V1(sst2_logits);
Datum
sst2_logits(PG_FUNCTION_ARGS)
{
	Sst2Model  *h;
	float	   *logits = sst2_classify_arg(fcinfo, &h);
	Datum	   *elems = palloc(sizeof(Datum) * h->n_labels);

	for (int i = 0; i < h->n_labels; i++)
		elems[i] = Float4GetDatum(logits[i]);
	PG_RETURN_ARRAYTYPE_P(sst2_make_array(elems, NULL, h->n_labels, FLOAT4OID));
}

/*
 * sst2_tokenize(text) RETURNS int[]: the input ids the model sees, [CLS] and
 * [SEP] included, after truncation to sst2.max_length.
 */
PG_FUNCTION_INFO_V1(sst2_tokenize_sql);
Datum
sst2_tokenize_sql(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	Sst2Model  *h = sst2_statement_model(fcinfo->flinfo);
	int			max_ids = sst2_effective_max_length(h);
	int32	   *ids = palloc(sizeof(int32) * max_ids);
	int			n = sst2_tokenize_text(h, t, ids, max_ids);
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		elems[i] = Int32GetDatum(ids[i]);
	PG_RETURN_ARRAYTYPE_P(sst2_make_array(elems, NULL, n, INT4OID));
}

/*
 * sst2_model_info() RETURNS jsonb: what this backend has loaded (the core's
 * description, the same keys as bin/sst2 --info) plus this backend's
 * max_length and load time.
 */
PG_FUNCTION_INFO_V1(sst2_model_info);
Datum
sst2_model_info(PG_FUNCTION_ARGS)
{
	Sst2Model  *h = sst2_statement_model(fcinfo->flinfo);
	char	   *core = sst2_model_info_json(h->core, true);
	char	   *json;
	char	   *conv;
	Datum		info;
	Datum		extra;

	if (!core)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	json = pstrdup(core);
	free(core);
	conv = pg_any_to_server(json, strlen(json), PG_UTF8);
	info = DirectFunctionCall1(jsonb_in, CStringGetDatum(conv));
	extra = DirectFunctionCall1(jsonb_in, CStringGetDatum(
															psprintf("{\"max_length\": %d, \"load_ms\": %.3f, \"preloaded\": %s, \"inherited_anonymous_bytes\": %zu}",
																	 sst2_effective_max_length(h), h->load_ms,
																	 h->preloaded ? "true" : "false", h->anon_bytes)));
	PG_RETURN_DATUM(DirectFunctionCall2(jsonb_concat, info, extra));
}

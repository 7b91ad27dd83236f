/*
 * sst2.c
 *	  PostgreSQL glue for sst2: the module's settings, core errors as ERRORs,
 *	  text in the database encoding to the core and back, and the scalar SQL
 *	  functions.  Which model a statement uses is pg_model.c's job; the
 *	  batched surfaces are in batch.c, the trigger in trigger.c.
 */
#include "postgres.h"

#include <errno.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

#include "sst2_pg.h"
#include "sst2_watch.h"

PG_MODULE_MAGIC;

/* GUC variables */
char	   *sst2_model_path = NULL;
char	   *sst2_cache_dir = NULL;
int			sst2_max_length = 512;
int			sst2_batch_size = 64;
int			sst2_batch_memory = 256;
static int	sst2_threads = 1;
int			sst2_precision_setting = SST2_PREC_FP32;

static const struct config_enum_entry precision_options[] = {
	{"fp32", SST2_PREC_FP32, false},
	{"bf16", SST2_PREC_BF16, false},
	{"int8", SST2_PREC_INT8, false},
	{NULL, 0, false}
};

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

/* GUC assign hook: OpenBLAS threads used inside this backend. */
static void
sst2_assign_threads(int newval, void *extra)
{
	sst2_set_threads(newval);
}

/*
 * Module load: define the GUCs and hook the core's interrupt checks.
 */
void
_PG_init(void)
{
	DefineCustomStringVariable("sst2.model_path",
							   "Folder of the Hugging Face checkpoint sst2 classifies with.",
							   "config.json, model.safetensors, vocab.txt and optionally tokenizer_config.json. Only superusers can set it.",
							   &sst2_model_path,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("sst2.cache_dir",
							   "Folder for the shared fp32 copy of F16/BF16 checkpoints.",
							   "Empty means sst2_cache inside the data directory. It must be writable by the server's user only.",
							   &sst2_cache_dir,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("sst2.max_length",
							"Maximum number of tokens per text, [CLS] and [SEP] included.",
							"Longer texts are truncated like truncation=True, max_length=N. Capped at the model's max_position_embeddings.",
							&sst2_max_length,
							512, 2, 1000000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("sst2.batch_size",
							"Number of texts the batched functions classify per forward pass.",
							NULL,
							&sst2_batch_size,
							64, 1, 4096,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("sst2.batch_memory",
							"Most memory one forward pass's workspace may use in a backend.",
							"A batch that would need more is run as several forward passes (same results). Only superusers can set it.",
							&sst2_batch_memory,
							256, 16, 1024 * 1024,
							PGC_SUSET,
							GUC_UNIT_MB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("sst2.threads",
							"Number of OpenBLAS threads one backend uses.",
							"Parallel query workers are the main way to use several cores; this adds threads inside one backend.",
							&sst2_threads,
							1, 1, 64,
							PGC_USERSET,
							0,
							NULL, sst2_assign_threads, NULL);

	DefineCustomEnumVariable("sst2.precision",
							 "Arithmetic of the encoder's linear layers: fp32, bf16 or int8.",
							 "fp32 matches Hugging Face; bf16 and int8 are faster and change results slightly. Only superusers can set it.",
							 &sst2_precision_setting,
							 SST2_PREC_FP32,
							 precision_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	sst2_worker_init();
	MarkGUCPrefixReserved("sst2");

	sst2_set_threads(sst2_threads);
	sst2_interrupt_hook = sst2_check_interrupts;
	if (process_shared_preload_libraries_in_progress)
	{
		sst2_stats_init();
		sst2_preload_model();
	}
}

/*
 * Raise a core error as a PostgreSQL ERROR: I/O errors get the errcode of
 * their errno (as PostgreSQL's own file errors do), the others one per kind;
 * the core's detail line becomes the DETAIL.
 */
void
sst2_report(const sst2_error *err)
{
	int			code;

	switch (err->code)
	{
		case SST2_ERR_IO:
			code = ERRCODE_UNDEFINED_FILE;
			break;
		case SST2_ERR_FILETYPE:
			code = ERRCODE_WRONG_OBJECT_TYPE;
			break;
		case SST2_ERR_FORMAT:
			code = ERRCODE_DATA_CORRUPTED;
			break;
		case SST2_ERR_CONFIG:
			code = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
		case SST2_ERR_NOMEM:
			code = ERRCODE_OUT_OF_MEMORY;
			break;
		case SST2_ERR_LIMIT:
			code = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			break;
		case SST2_ERR_UNSAFE:
			code = ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
			break;
		default:
			code = ERRCODE_INTERNAL_ERROR;
			break;
	}
	/* errcode_for_file_access() reads the errno saved by errstart */
	errno = err->sys_errno;
	ereport(ERROR,
			(err->code == SST2_ERR_IO && err->sys_errno != 0 ?
			 errcode_for_file_access() : errcode(code),
			 errmsg("%s", err->msg),
			 err->detail[0] ? errdetail("%s", err->detail) : 0,
			 err->code == SST2_ERR_UNSAFE ?
			 errhint("sst2 maps what it finds there as model weights: make it owned by the server's operating system user and writable by that user only (chmod 700).") : 0));
}

/* Number of ids a text may take: sst2.max_length capped at the model's positions. */
int
sst2_effective_max_length(const Sst2Model *h)
{
	return Min(sst2_max_length, sst2_model_config(h->core)->max_pos);
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

/* See sst2_pg.h. */
void
sst2_array_texts(ArrayType *arr, const char *fname, int *n, bool **nulls,
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

/*
 * sst2_classify(text) RETURNS sst2_result: the label and score the
 * text-classification pipeline gives.
 */
PG_FUNCTION_INFO_V1(sst2_classify);
Datum
sst2_classify(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	Sst2Model  *h = sst2_statement_model(fcinfo->flinfo);
	TupleDesc	tupdesc;
	float	   *logits;
	float		score;
	int			top;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));
	tupdesc = BlessTupleDesc(tupdesc);

	logits = palloc(sizeof(float) * h->n_labels);
	sst2_classify_texts(h, &t, 1, logits);
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
	text	   *t = PG_GETARG_TEXT_PP(0);
	Sst2Model  *h = sst2_statement_model(fcinfo->flinfo);
	float	   *logits = palloc(sizeof(float) * h->n_labels);
	Datum	   *elems = palloc(sizeof(Datum) * h->n_labels);

	sst2_classify_texts(h, &t, 1, logits);
	for (int i = 0; i < h->n_labels; i++)
		elems[i] = Float4GetDatum(logits[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, h->n_labels, FLOAT4OID,
										  sizeof(float4), true, TYPALIGN_INT));
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
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, INT4OID,
										  sizeof(int32), true, TYPALIGN_INT));
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
															psprintf("{\"max_length\": %d, \"load_ms\": %.3f, \"preloaded\": %s}",
																	 sst2_effective_max_length(h), h->load_ms,
																	 h->preloaded ? "true" : "false")));
	PG_RETURN_DATUM(DirectFunctionCall2(jsonb_concat, info, extra));
}

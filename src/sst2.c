/*
 * sst2.c
 *	  PostgreSQL glue for sst2: GUCs, the per-backend model handle and the
 *	  SQL-callable functions.  All model work is done by the core
 *	  (sst2_core.h); this file converts text, reports errors and builds
 *	  results in palloc'd memory.
 */
#include "postgres.h"

#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"

#include <cblas.h>

#include "sst2_core.h"
#include "sst2_pg.h"

PG_MODULE_MAGIC;

/* GUC variables */
static char *sst2_model_path = NULL;
static char *sst2_cache_dir = NULL;
int			sst2_max_length = 512;
int			sst2_batch_size = 64;
static int	sst2_threads = 1;

/* The model this backend has open; core memory, lives until it is replaced. */
static sst2_model *loaded_model = NULL;
static char *loaded_path = NULL;	/* malloc'd copy of sst2.model_path */
static char *loaded_cache = NULL;	/* malloc'd cache dir it was opened with */
static double loaded_ms = 0;

/*
 * SIGBUS guard.  F32 weights are read straight from a shared mapping of
 * model.safetensors; if someone truncates that file in place while a backend
 * reads it, the kernel sends SIGBUS, which would otherwise kill the backend
 * and make the postmaster restart every connection.  While the core runs the
 * model, a SIGBUS jumps back to sst2_forward() instead, which turns it into
 * an ERROR and drops the mapping.
 */
static volatile sig_atomic_t in_model = 0;
static sigjmp_buf *model_jmp = NULL;
static pthread_t backend_thread;	/* the jump is only valid in this thread */
static struct sigaction prev_sigbus;

void		_PG_init(void);

/* SIGBUS handler: back to sst2_forward() when the model is running. */
static void
sst2_sigbus(int signo, siginfo_t *info, void *context)
{
	if (in_model && model_jmp != NULL &&
		pthread_equal(pthread_self(), backend_thread))
	{
		in_model = 0;
		siglongjmp(*model_jmp, 1);
	}
	/* not ours: let the previous disposition have it */
	sigaction(SIGBUS, &prev_sigbus, NULL);
	raise(SIGBUS);
}

/*
 * Interrupt hook for the core: lets a cancel or statement_timeout stop a long
 * forward pass.  The core keeps no temporary allocation across the call, so
 * the longjmp out of ereport leaks nothing.  The SIGBUS guard is off while
 * PostgreSQL code runs here (and stays off if it throws).
 */
static void
sst2_check_interrupts(void)
{
	in_model = 0;
	CHECK_FOR_INTERRUPTS();
	in_model = 1;
}

/* GUC assign hook: OpenBLAS threads used inside this backend. */
static void
sst2_assign_threads(int newval, void *extra)
{
	openblas_set_num_threads(newval);
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
							   "Empty means sst2_cache inside the data directory.",
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

	DefineCustomIntVariable("sst2.threads",
							"Number of OpenBLAS threads one backend uses.",
							"Parallel query workers are the main way to use several cores; this adds threads inside one backend.",
							&sst2_threads,
							1, 1, 64,
							PGC_USERSET,
							0,
							NULL, sst2_assign_threads, NULL);

	MarkGUCPrefixReserved("sst2");

	openblas_set_num_threads(sst2_threads);
	sst2_interrupt_hook = sst2_check_interrupts;

	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = sst2_sigbus;
		sa.sa_flags = SA_SIGINFO;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGBUS, &sa, &prev_sigbus);
		backend_thread = pthread_self();
	}
}

/*
 * Raise a core error as a PostgreSQL ERROR with a matching errcode.
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
		default:
			code = ERRCODE_INTERNAL_ERROR;
			break;
	}
	ereport(ERROR,
			(errcode(code),
			 errmsg("%s", err->msg)));
}

/* The cache folder for F16/BF16 models: sst2.cache_dir or $PGDATA/sst2_cache. */
static char *
sst2_effective_cache_dir(void)
{
	if (sst2_cache_dir != NULL && sst2_cache_dir[0] != '\0')
		return pstrdup(sst2_cache_dir);
	return psprintf("%s/sst2_cache", DataDir);
}

/* Free the model this backend has open, if any. */
static void
sst2_unload(void)
{
	if (loaded_model)
		sst2_model_free(loaded_model);
	loaded_model = NULL;
	free(loaded_path);
	loaded_path = NULL;
	free(loaded_cache);
	loaded_cache = NULL;
}

/*
 * The model named by sst2.model_path, opened at first use in this backend and
 * kept.  A new path, or a file of the folder changed on disk, is picked up
 * here at the next call.
 */
sst2_model *
sst2_get_model(void)
{
	char	   *cache_dir;
	sst2_model *m;
	sst2_error	err;
	instr_time	start,
				duration;

	if (sst2_model_path == NULL || sst2_model_path[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sst2.model_path is not set"),
				 errhint("A superuser can point it at a checkpoint folder: LOAD 'sst2'; ALTER SYSTEM SET sst2.model_path = '/path/to/distilbert-base-uncased-finetuned-sst-2-english'; SELECT pg_reload_conf();")));

	cache_dir = sst2_effective_cache_dir();
	if (loaded_model != NULL &&
		strcmp(loaded_path, sst2_model_path) == 0 &&
		strcmp(loaded_cache, cache_dir) == 0 &&
		!sst2_model_changed(loaded_model))
	{
		pfree(cache_dir);
		return loaded_model;
	}

	sst2_unload();

	INSTR_TIME_SET_CURRENT(start);
	if (sst2_model_open(&m, sst2_model_path, cache_dir, &err) != SST2_OK)
		sst2_report(&err);
	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);

	loaded_path = strdup(sst2_model_path);
	loaded_cache = strdup(cache_dir);
	if (loaded_path == NULL || loaded_cache == NULL)
	{
		sst2_model_free(m);
		free(loaded_path);
		free(loaded_cache);
		loaded_path = loaded_cache = NULL;
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	}
	loaded_model = m;
	loaded_ms = INSTR_TIME_GET_MILLISEC(duration);
	pfree(cache_dir);
	return m;
}

/* Number of ids a text may take: sst2.max_length capped at the model's positions. */
int
sst2_effective_max_length(const sst2_model *m)
{
	const sst2_config *cfg = sst2_model_config(m);

	return Min(sst2_max_length, cfg->max_pos);
}

/*
 * Tokenize one text value into ids (capacity max_ids); returns the count.
 * The text is converted from the database encoding to UTF-8 first (in a
 * SQL_ASCII database it must already be valid UTF-8).
 */
int
sst2_tokenize_text(const sst2_model *m, text *t, int32 *ids, int max_ids)
{
	const char *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);
	char	   *utf8;
	int			n;

	utf8 = pg_server_to_any(s, len, PG_UTF8);
	if (utf8 != s)
		len = strlen(utf8);
	n = sst2_tokenize(sst2_model_tokenizer(m), utf8, len, ids, max_ids);
	if (utf8 != s)
		pfree(utf8);
	return n;
}

/*
 * Run the core's forward pass under the SIGBUS guard; errors become ERRORs.
 */
static void
sst2_forward(sst2_model *m, const int32 *ids, const int *lens, int n,
			 float *logits)
{
	sigjmp_buf	jb;
	sigjmp_buf *volatile saved = model_jmp;
	sst2_error	err;
	sst2_status st;

	if (sigsetjmp(jb, 1) != 0)
	{
		/* the mapped weights went away under us */
		char	   *path = pstrdup(sst2_model_weights_path(m));

		model_jmp = saved;
		sst2_unload();
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model file \"%s\" was truncated or rewritten while in use", path),
				 errhint("Replace model files by renaming a complete new file into place; the next call loads it.")));
	}
	model_jmp = &jb;
	in_model = 1;
	st = sst2_model_forward(m, ids, lens, n, logits, &err);
	in_model = 0;
	model_jmp = saved;
	if (st != SST2_OK)
		sst2_report(&err);
}

/*
 * Classify texts[0..n-1] (none NULL), writing n * n_labels logits.  Texts are
 * tokenized and run through the model in batches of sst2.batch_size.
 */
void
sst2_classify_texts(sst2_model *m, text **texts, int n, float *logits)
{
	int			max_ids = sst2_effective_max_length(m);
	int			n_labels = sst2_model_config(m)->n_labels;
	int			batch = Min(sst2_batch_size, n);
	int32	   *ids = palloc(sizeof(int32) * max_ids * batch);
	int		   *lens = palloc(sizeof(int) * batch);

	for (int first = 0; first < n; first += batch)
	{
		int			count = Min(batch, n - first);
		int			used = 0;

		for (int i = 0; i < count; i++)
		{
			lens[i] = sst2_tokenize_text(m, texts[first + i], ids + used, max_ids);
			used += lens[i];
		}
		sst2_forward(m, ids, lens, count, logits + (size_t) first * n_labels);
	}
	pfree(ids);
	pfree(lens);
}

/* Build an sst2_result (label text, score real) datum from one row of logits. */
Datum
sst2_result_datum(const sst2_model *m, TupleDesc tupdesc, const float *logits)
{
	const sst2_config *cfg = sst2_model_config(m);
	float		score;
	int			top = sst2_top_label(logits, cfg->n_labels, &score);
	Datum		values[2];
	bool		nulls[2] = {false, false};

	values[0] = CStringGetTextDatum(cfg->labels[top]);
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
	TupleDesc	tupdesc;
	sst2_model *m;
	float	   *logits;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));
	tupdesc = BlessTupleDesc(tupdesc);

	m = sst2_get_model();
	logits = palloc(sizeof(float) * sst2_model_config(m)->n_labels);
	sst2_classify_texts(m, &t, 1, logits);
	PG_RETURN_DATUM(sst2_result_datum(m, tupdesc, logits));
}

/*
 * sst2_logits(text) RETURNS real[]: the raw logits in label-id order.
 */
PG_FUNCTION_INFO_V1(sst2_logits);
Datum
sst2_logits(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	sst2_model *m = sst2_get_model();
	int			n_labels = sst2_model_config(m)->n_labels;
	float	   *logits = palloc(sizeof(float) * n_labels);
	Datum	   *elems = palloc(sizeof(Datum) * n_labels);

	sst2_classify_texts(m, &t, 1, logits);
	for (int i = 0; i < n_labels; i++)
		elems[i] = Float4GetDatum(logits[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n_labels, FLOAT4OID,
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
	sst2_model *m = sst2_get_model();
	int			max_ids = sst2_effective_max_length(m);
	int32	   *ids = palloc(sizeof(int32) * max_ids);
	int			n = sst2_tokenize_text(m, t, ids, max_ids);
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		elems[i] = Int32GetDatum(ids[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, INT4OID,
										  sizeof(int32), true, TYPALIGN_INT));
}

/*
 * sst2_model_info() RETURNS jsonb: what this backend has loaded.
 */
PG_FUNCTION_INFO_V1(sst2_model_info);
Datum
sst2_model_info(PG_FUNCTION_ARGS)
{
	sst2_model *m = sst2_get_model();
	const sst2_config *cfg = sst2_model_config(m);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"path\": ");
	escape_json(&buf, loaded_path);
	appendStringInfoString(&buf, ", \"weights_file\": ");
	escape_json(&buf, sst2_model_weights_path(m));
	appendStringInfoString(&buf, ", \"dtype\": ");
	escape_json(&buf, sst2_dtype_name(sst2_model_dtype(m)));
	appendStringInfo(&buf,
					 ", \"dim\": %d, \"layers\": %d, \"heads\": %d, \"hidden_dim\": %d"
					 ", \"vocab_size\": %d, \"max_position_embeddings\": %d"
					 ", \"max_length\": %d, \"activation\": ",
					 cfg->dim, cfg->n_layers, cfg->n_heads, cfg->hidden_dim,
					 cfg->vocab_size, cfg->max_pos, sst2_effective_max_length(m));
	escape_json(&buf, cfg->activation);
	appendStringInfoString(&buf, ", \"labels\": [");
	for (int i = 0; i < cfg->n_labels; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, cfg->labels[i]);
	}
	appendStringInfo(&buf, "], \"bytes_mapped\": %zu, \"load_ms\": %.3f}",
					 sst2_model_bytes_mapped(m), loaded_ms);

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/*
 * pg_model.c
 *	  The models a backend holds, and which statement uses which.
 *
 *	  The current model is the one sst2.model_path names, at sst2.precision.
 *	  It is opened at the first use, and opened again when one of those
 *	  settings or a file of the folder changed (inode, size, mtime) or its
 *	  mapping was found truncated.  That
 *	  check happens once per statement: a statement's first call resolves the
 *	  current model and pins it (in fn_extra, or in an aggregate's state), and
 *	  every later row of the statement uses the pinned model.  So one
 *	  statement never mixes two models, a result is always named with the
 *	  labels of the model that computed it, and a model replaced while a
 *	  statement (or an open cursor) still uses it stays alive until the
 *	  memory context holding the pin goes away.
 *
 *	  With shared_preload_libraries = 'sst2', the postmaster opens the current
 *	  model at start (sst2_preload_model) and every backend inherits it by
 *	  fork: the mapping, the tokenizer tables, the labels (converted again
 *	  for a database whose encoding differs).  The per-statement check runs
 *	  as always, so a changed setting or folder is still picked up.  The
 *	  postmaster moves the weights onto anonymous huge pages first
 *	  (sst2_model_to_anonymous), whose page tables fork copies: a backend's
 *	  first call then costs what its second does.
 */
#include "postgres.h"

#include <errno.h>

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/plancache.h"

#include "sst2_pg.h"

/* Workspace bytes a model keeps when a statement releases it. */
#define KEEP_WORKSPACE (64 * 1024 * 1024)

static Sst2Model *current = NULL;

/* A pin of a model, living in (and released with) a memory context. */
typedef struct Sst2Pin
{
	Sst2Model  *model;
	MemoryContextCallback cb;
} Sst2Pin;

/* Free a model nobody uses any more. */
static void
model_free(Sst2Model *h)
{
	sst2_batch_free(h->batch);
	sst2_model_free(h->core);
	for (int i = 0; i < h->n_labels; i++)
		free(h->labels[i]);
	free(h->labels);
	free(h->path);
	free(h->cache_dir);
	free(h);
}

/* Drop one reference; the last one frees the model. */
static void
model_release(Sst2Model *h)
{
	if (--h->refs == 0)
		model_free(h);
	else
		sst2_model_trim(h->core, KEEP_WORKSPACE);
}

/* Memory context callback: a statement (or aggregate state) is done with its model. */
static void
pin_release(void *arg)
{
	Sst2Pin    *pin = arg;

	if (pin->model)
		model_release(pin->model);
	pin->model = NULL;
}

/* The folder for converted weights: sst2.cache_dir or $PGDATA/sst2_cache. */
static char *
effective_cache_dir(void)
{
	if (sst2_cache_dir != NULL && sst2_cache_dir[0] != '\0')
		return pstrdup(sst2_cache_dir);
	return psprintf("%s/sst2_cache", DataDir);
}

/* malloc'd copy of s, or an out-of-memory ERROR. */
static char *
strdup_or_error(const char *s)
{
	char	   *p = strdup(s);

	if (!p)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	return p;
}

/*
 * The model's labels in the database encoding (an untranslatable label is
 * ERROR 22P05), replacing those converted for another encoding.
 */
static void
convert_labels(Sst2Model *h)
{
	const sst2_config *cfg = sst2_model_config(h->core);

	for (int i = 0; i < cfg->n_labels; i++)
	{
		const char *utf8 = cfg->labels[i];
		char	   *conv = pg_any_to_server(utf8, strlen(utf8), PG_UTF8);
		char	   *copy = strdup_or_error(conv);

		if (i < h->n_labels)
			free(h->labels[i]);
		h->labels[i] = copy;
		if (i >= h->n_labels)
			h->n_labels = i + 1;
	}
	h->labels_encoding = GetDatabaseEncoding();
}

/*
 * Open the model at path: core model, labels in the database encoding (an
 * untranslatable label is ERROR 22P05 here, at load), the batch object.
 */
static Sst2Model *
model_open(const char *path, const char *cache_dir, int precision)
{
	sst2_model *core;
	sst2_error	err;
	instr_time	start,
				duration;
	Sst2Model  *volatile h;
	const sst2_config *cfg;

	INSTR_TIME_SET_CURRENT(start);
	if (sst2_model_open_ex(&core, path, cache_dir, (sst2_precision) precision, &err) != SST2_OK)
		sst2_report_hint(&err, err.code == SST2_ERR_IO && err.sys_errno == ENOENT ?
						 "sst2.model_path must name a checkpoint folder (config.json, model.safetensors, vocab.txt). scripts/download_model.sh DIR in sst2's source downloads the real one; a superuser then sets sst2.model_path = 'DIR'." : NULL);
	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);

	h = calloc(1, sizeof(Sst2Model));
	if (!h)
	{
		sst2_model_free(core);
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	}
	h->core = core;
	h->precision = precision;
	h->load_ms = INSTR_TIME_GET_MILLISEC(duration);
	cfg = sst2_model_config(core);
	PG_TRY();
	{
		h->path = strdup_or_error(path);
		h->cache_dir = strdup_or_error(cache_dir);
		h->labels = calloc(cfg->n_labels, sizeof(char *));
		if (!h->labels)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
		convert_labels(h);
		if (sst2_batch_new(&h->batch, core, 2, 0, &err) != SST2_OK)
			sst2_report(&err);
	}
	PG_CATCH();
	{
		model_free(h);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (sst2_model_warnings(core) != NULL)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("sst2 model folder \"%s\" can be changed by other users", path),
				 errdetail("%s.", sst2_model_warnings(core)),
				 errhint("Whoever can write these files decides what sst2 computes: remove the write permission of group and others (chmod -R go-w).")));
	return h;
}

/*
 * The current model: sst2.model_path's, reopened when the setting or the
 * files changed.  The returned model is not pinned.
 */
static Sst2Model *
resolve_current(void)
{
	char	   *cache_dir;

	if (sst2_model_path == NULL || sst2_model_path[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sst2.model_path is not set"),
				 errhint("A superuser can point it at a checkpoint folder: LOAD 'sst2'; ALTER SYSTEM SET sst2.model_path = '/path/to/distilbert-base-uncased-finetuned-sst-2-english'; SELECT pg_reload_conf();")));

	cache_dir = effective_cache_dir();
	if (current != NULL &&
		(strcmp(current->path, sst2_model_path) != 0 ||
		 strcmp(current->cache_dir, cache_dir) != 0 ||
		 current->precision != sst2_precision_setting ||
		 sst2_model_changed(current->core)))
	{
		Sst2Model  *old = current;

		current = NULL;
		model_release(old);
	}
	if (current == NULL)
	{
		current = model_open(sst2_model_path, cache_dir, sst2_precision_setting);
		current->refs = 1;
		/* plans made before may hold the previous model's folded results */
		ResetPlanCache();
	}
	else if (current->labels_encoding != GetDatabaseEncoding())
		convert_labels(current);	/* opened by the postmaster */
	pfree(cache_dir);
	return current;
}

/*
 * From _PG_init in the postmaster (shared_preload_libraries): open the model
 * sst2.model_path names, for every backend to inherit.  A failure is a
 * WARNING in the server log, not a failed start: backends then open the
 * model at first use, reporting the error to the caller.
 */
void
sst2_preload_model(void)
{
	MemoryContext cxt = CurrentMemoryContext;

	if (sst2_model_path == NULL || sst2_model_path[0] == '\0')
		return;
	PG_TRY();
	{
		Sst2Model  *h = resolve_current();

		h->preloaded = true;
		/* so that backends do not fault the weights in again (weights_anon.c) */
		h->anon_bytes = sst2_model_to_anonymous(h->core);
		ereport(LOG,
				(errmsg("sst2 opened the model \"%s\" at server start in %.1f ms",
						h->path, h->load_ms),
				 errdetail("%.1f MB of weights on anonymous huge pages for backends to inherit%s.",
						   h->anon_bytes / 1048576.0,
						   h->anon_bytes ? "" : " (transparent huge pages are disabled: backends map the files)")));
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("sst2 could not open the model at server start: %s", edata->message),
				 edata->detail ? errdetail("%s", edata->detail) : 0,
				 errhint("Each backend will try again at first use.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

/*
 * sst2_prewarm() RETURNS void: open the current model now (if this backend
 * does not hold it yet) and run one forward pass of [CLS] [SEP], which
 * touches every weight, so the next call pays neither.  Not counted in
 * sst2_stats.
 */
PG_FUNCTION_INFO_V1(sst2_prewarm);
Datum
sst2_prewarm(PG_FUNCTION_ARGS)
{
	Sst2Model  *h = sst2_statement_model(fcinfo->flinfo);
	sst2_error	err;

	sst2_batch_reset(h->batch, 2, 0);
	if (sst2_batch_add(h->batch, "", 0) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	if (sst2_batch_run(h->batch, &err) != SST2_OK)
		sst2_report(&err);
	PG_RETURN_VOID();
}

/* Pin the current model in cxt: released when cxt is reset or deleted. */
static Sst2Pin *
pin_current(MemoryContext cxt)
{
	Sst2Pin    *pin = MemoryContextAllocZero(cxt, sizeof(Sst2Pin));
	Sst2Model  *h = resolve_current();

	h->refs++;
	pin->model = h;
	pin->cb.func = pin_release;
	pin->cb.arg = pin;
	MemoryContextRegisterResetCallback(cxt, &pin->cb);
	return pin;
}

/* See sst2_pg.h. */
Sst2Model *
sst2_pin_model(MemoryContext cxt)
{
	return pin_current(cxt)->model;
}

/* See sst2_pg.h. */
Sst2Model *
sst2_statement_model(FmgrInfo *flinfo)
{
	Sst2Pin    *pin = flinfo->fn_extra;

	if (pin == NULL || pin->model == NULL)
	{
		pin = pin_current(flinfo->fn_mcxt);
		flinfo->fn_extra = pin;
	}
	return pin->model;
}

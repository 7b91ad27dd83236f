/*
 * sst2_pg.h
 *	  The PostgreSQL layer's own declarations (sst2.c, pg_model.c, batch.c,
 *	  trigger.c).  Include after postgres.h.  Nothing here includes OpenBLAS:
 *	  all model work goes through the core API (sst2_core.h).
 */
#ifndef SST2_PG_H
#define SST2_PG_H

#include "access/tupdesc.h"
#include "utils/array.h"
#include "fmgr.h"
#include "sst2_core.h"
#include "pg_compat.h"

/* The sst2.* settings (settings.c) */
extern char *sst2_model_path;
extern char *sst2_cache_dir;
extern int	sst2_max_length;
extern int	sst2_batch_size;
extern int	sst2_batch_memory;	/* MB */
extern int	sst2_precision_setting;		/* an sst2_precision */
extern int	sst2_worker_rows_per_second;	/* 0 = as fast as possible */
extern int	sst2_max_workers;	/* most sst2 workers labelling at once */

/* Define them (from _PG_init). */
extern void sst2_settings_init(void);

/*
 * A model as this backend holds it: the core model, what it was opened
 * from, and its labels converted to the database encoding.  Statements pin
 * the one they started with (see pg_model.c), so a model replaced meanwhile
 * stays alive, unchanged, until the last statement using it ends.
 */
typedef struct Sst2Model
{
	sst2_model *core;
	sst2_batch *batch;			/* reused by every classification */
	char	   *path;			/* sst2.model_path it was opened from */
	char	   *cache_dir;
	int			precision;		/* sst2.precision it was opened at */
	double		load_ms;
	int			n_labels;
	char	  **labels;			/* [n_labels] in the database encoding */
	int			labels_encoding;	/* the encoding labels are in */
	bool		preloaded;		/* opened by the postmaster at start */
	size_t		anon_bytes;		/* weights the postmaster moved to anonymous huge pages */
	int			refs;			/* pins, plus one while it is the current model */
} Sst2Model;

/*
 * The model of the statement calling through flinfo: resolved (and the files
 * checked for changes) at the statement's first call, then pinned in
 * flinfo->fn_extra until the statement's memory goes away.
 */
extern Sst2Model *sst2_statement_model(FmgrInfo *flinfo);

/* In the postmaster at preload: open sst2.model_path's model for all backends. */
extern void sst2_preload_model(void);

/* Pin the current model until cxt is reset or deleted (aggregate states). */
extern Sst2Model *sst2_pin_model(MemoryContext cxt);

/* Raise a core error as an ERROR with a matching errcode (report.c). */
extern SST2_NORETURN void sst2_report(const sst2_error *err);
/* The same with a HINT (hint NULL: the default one of the error's kind). */
extern SST2_NORETURN void sst2_report_hint(const sst2_error *err, const char *hint);

/*
 * Text to the core and back (pg_classify.c).
 *
 * sst2.max_length; an ERROR when it is above the model's
 * max_position_embeddings.
 */
extern int	sst2_effective_max_length(const Sst2Model *h);

/* A text value's bytes in UTF-8 (*len set; palloc'd unless the value's own data). */
extern const char *sst2_text_utf8(text *t, int *len);

/* Tokenize one text value (database encoding) into at most max_ids ids. */
extern int	sst2_tokenize_text(const Sst2Model *h, text *t, int32 *ids, int max_ids);

/*
 * Classify the elements of a one-dimensional text[] argument of the function
 * called through flinfo (fname names it in the error for other shapes): *h
 * is the statement's model, *n the elements with their *nulls; returns the
 * logits of the non-NULL ones, in order, n_labels each.  Every function that
 * takes a text[] goes through here.
 */
extern float *sst2_classify_array(FmgrInfo *flinfo, ArrayType *arr, const char *fname,
								  Sst2Model **h, int *n, bool **nulls);

/* A one-dimensional array of n elements of elemtype (NULL where nulls[i]). */
extern ArrayType *sst2_make_array(Datum *elems, bool *nulls, int n, Oid elemtype);

/*
 * Classify the text argument 0 of a scalar function (not NULL: the functions
 * are STRICT) with the statement's model *h; returns its n_labels logits.
 */
extern float *sst2_classify_arg(FunctionCallInfo fcinfo, Sst2Model **h);

/* Classify n non-NULL texts; writes n * n_labels logits. */
extern void sst2_classify_texts(Sst2Model *h, text **texts, int n, float *logits);

/* An sst2_result datum of tupdesc: label number `label` of h, and score. */
extern Datum sst2_result_datum(const Sst2Model *h, TupleDesc tupdesc, int label, float score);

/* Usage statistics (stats.c): hooks at preload; add one batch run's work. */
extern void sst2_stats_init(void);
extern void sst2_stats_count(const sst2_batch *b);

#endif							/* SST2_PG_H */

/*
 * sst2_pg.h
 *	  Shared declarations of the PostgreSQL layer (sst2.c and the batched
 *	  surfaces).  Include after postgres.h.
 */
#ifndef SST2_PG_H
#define SST2_PG_H

#include "access/tupdesc.h"
#include "sst2_core.h"

extern int	sst2_max_length;
extern int	sst2_batch_size;

/* Raise a core error as an ERROR with a matching errcode. */
extern void sst2_report(const sst2_error *err) pg_attribute_noreturn();

/* The model named by sst2.model_path (loaded or reloaded as needed). */
extern sst2_model *sst2_get_model(void);

/* sst2.max_length capped at the model's max_position_embeddings. */
extern int	sst2_effective_max_length(const sst2_model *m);

/* Tokenize one text value (database encoding) into at most max_ids ids. */
extern int	sst2_tokenize_text(const sst2_model *m, text *t, int32 *ids, int max_ids);

/* Classify n non-NULL texts in batches of sst2.batch_size; n * n_labels logits. */
extern void sst2_classify_texts(sst2_model *m, text **texts, int n, float *logits);

/* An sst2_result datum of tupdesc from one row of logits. */
extern Datum sst2_result_datum(const sst2_model *m, TupleDesc tupdesc, const float *logits);

#endif							/* SST2_PG_H */

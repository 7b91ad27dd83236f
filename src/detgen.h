/*
 * detgen.h
 *	  The deterministic DistilBERT checkpoint generator (bin/sst2 --make-det):
 *	  a hub-layout folder whose every weight comes from a formula, so tests
 *	  and the benchmark get the real architecture without downloading
 *	  anything.  The formula and the file formats are described in detgen.c.
 */
#ifndef SST2_DETGEN_H
#define SST2_DETGEN_H

#include "sst2_core.h"

/* Sizes of the generated model; SST2_DET_DEFAULTS gives the real checkpoint's. */
typedef struct sst2_det_options
{
	int			dim;			/* hidden size (768) */
	int			layers;			/* transformer blocks (6) */
	int			heads;			/* attention heads (12), written to config.json */
	int			hidden;			/* FFN inner size (3072) */
	int			max_pos;		/* max_position_embeddings (512) */
	const char *vocab_file;		/* vocab.txt to copy; its line count is vocab_size.
								 * NULL: models/sst2-mini/vocab.txt of the
								 * repository the running program was built in
								 * (found as ../models/ beside its bin/) */
} sst2_det_options;

/* The sizes of distilbert-base-uncased-finetuned-sst-2-english. */
#define SST2_DET_DEFAULTS {768, 6, 12, 3072, 512, NULL}

/*
 * Write config.json, model.safetensors (F32), tokenizer_config.json and
 * vocab.txt into outdir (created, with its parents, when missing).  On
 * success *n_tensors and *n_params (either may be NULL) say what was written.
 */
sst2_status sst2_det_write(const char *outdir, const sst2_det_options *opt,
						   int *n_tensors, int64_t *n_params, sst2_error *err);

#endif							/* SST2_DETGEN_H */

/*
 * settings.c
 *	  Every sst2.* setting: the variables, their definitions and hooks.  The
 *	  rest of the glue reads the variables (declared in sst2_pg.h); nothing
 *	  here calls up into the glue.
 */
#include "postgres.h"

#include "utils/guc.h"
#include "utils/plancache.h"

#include "sst2_pg.h"

char	   *sst2_model_path = NULL;
char	   *sst2_cache_dir = NULL;
int			sst2_max_length = 512;
int			sst2_batch_size = 64;
int			sst2_batch_memory = 256;
int			sst2_precision_setting = SST2_PREC_FP32;
static int	sst2_threads = 1;

static const struct config_enum_entry precision_options[] = {
	{"fp32", SST2_PREC_FP32, false},
	{"bf16", SST2_PREC_BF16, false},
	{"int8", SST2_PREC_INT8, false},
	{NULL, 0, false}
};

/* Assign hook of sst2.threads: OpenBLAS threads used inside this backend. */
static void
assign_threads(int newval, void *extra)
{
	sst2_set_threads(newval);
}

/*
 * Assign hook of sst2.model_path and sst2.precision: they say which model
 * computes results, and a cached plan may hold a result of the previous one
 * (a constant call folded when it was planned), so every cached plan of this
 * backend is planned again before its next use.  ResetPlanCache only marks
 * plans invalid, which is safe in any state an assign hook runs in
 * (including the end of a transaction that rolls a SET back).
 */
static void
assign_model_string(const char *newval, void *extra)
{
	ResetPlanCache();
}

static void
assign_model_enum(int newval, void *extra)
{
	ResetPlanCache();
}

/*
 * Define the sst2.* settings (from _PG_init) and apply sst2.threads.
 */
void
sst2_settings_init(void)
{
	DefineCustomStringVariable("sst2.model_path",
							   "Folder of the Hugging Face checkpoint sst2 classifies with.",
							   "config.json, model.safetensors, vocab.txt and optionally tokenizer_config.json. Only superusers can set it.",
							   &sst2_model_path,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, assign_model_string, NULL);

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
							"Longer texts are truncated like truncation=True, max_length=N. At most the model's max_position_embeddings (512 for DistilBERT).",
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
							NULL, assign_threads, NULL);

	DefineCustomEnumVariable("sst2.precision",
							 "Arithmetic of the encoder's linear layers: fp32, bf16 or int8.",
							 "fp32 matches Hugging Face; bf16 and int8 are faster and change results slightly. Only superusers can set it.",
							 &sst2_precision_setting,
							 SST2_PREC_FP32,
							 precision_options,
							 PGC_SUSET,
							 0,
							 NULL, assign_model_enum, NULL);

	MarkGUCPrefixReserved("sst2");

	sst2_set_threads(sst2_threads);
}

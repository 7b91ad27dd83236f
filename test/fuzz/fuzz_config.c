/*
 * fuzz_config.c
 *	  libFuzzer target: arbitrary bytes as config.json through
 *	  sst2_config_load.  On success the values must respect the documented
 *	  limits (every size >= 1, n_heads divides dim, 1..SST2_MAX_LABELS
 *	  labels, each a NUL-free string, activation gelu or relu).
 */
#include "fuzz_common.h"

static char *path;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	path = fz_path("config.json");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sst2_config cfg;
	sst2_error	err;

	fz_write(path, data, size);
	err.msg[0] = '\0';
	if (sst2_config_load(&cfg, path, &err) != SST2_OK)
	{
		FZ_ASSERT(err.msg[0] != '\0', "failure without a message");
		FZ_ASSERT(cfg.labels == NULL && cfg.n_labels == 0, "labels left after a failure");
		sst2_config_free(&cfg);	/* must be harmless */
		return 0;
	}
	FZ_ASSERT(cfg.dim >= 1 && cfg.n_layers >= 1 && cfg.n_heads >= 1 && cfg.hidden_dim >= 1 &&
			  cfg.vocab_size >= 1 && cfg.max_pos >= 1, "a size below 1");
	FZ_ASSERT(cfg.dim % cfg.n_heads == 0, "n_heads %d, dim %d", cfg.n_heads, cfg.dim);
	FZ_ASSERT(cfg.n_labels >= 1 && cfg.n_labels <= SST2_MAX_LABELS, "n_labels %d", cfg.n_labels);
	for (int i = 0; i < cfg.n_labels; i++)
	{
		FZ_ASSERT(cfg.labels[i] != NULL, "label %d missing", i);
		fz_touch(cfg.labels[i], strlen(cfg.labels[i]) + 1);
	}
	FZ_ASSERT(cfg.activation == SST2_GELU || cfg.activation == SST2_RELU,
			  "activation %d", (int) cfg.activation);
	sst2_config_free(&cfg);
	FZ_ASSERT(cfg.labels == NULL && cfg.n_labels == 0, "free left labels");
	sst2_config_free(&cfg);
	return 0;
}

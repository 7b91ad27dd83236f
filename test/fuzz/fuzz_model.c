/*
 * fuzz_model.c
 *	  libFuzzer target, structured safetensors: a tiny DistilBERT folder
 *	  (config.json and vocab.txt written here; dim 4, 2 heads, FFN 8, 1
 *	  layer, 16 tokens, 8 positions, 2 labels) whose model.safetensors is the
 *	  input.  The seeds (test/fuzz/gen_corpus.py) are valid F32, F16, BF16,
 *	  mixed and unaligned checkpoints of that shape, so mutations exercise
 *	  sst2_model_open's checks of every tensor's name, dtype, shape and byte
 *	  range, the fp16/bf16 conversion and the in-place F32 mapping, and
 *	  whatever opens then runs a forward pass (single and batched).
 */
#include "fuzz_common.h"

#include <cblas.h>

/* keep in sync with gen_corpus.py */
static const char config_json[] =
	"{\"model_type\": \"distilbert\", \"dim\": 4, \"n_layers\": 1, \"n_heads\": 2,"
	" \"hidden_dim\": 8, \"vocab_size\": 16, \"max_position_embeddings\": 8,"
	" \"activation\": \"gelu\", \"id2label\": {\"0\": \"NEGATIVE\", \"1\": \"POSITIVE\"}}";
static const char vocab_txt[] =
	"[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\ngood\nbad\nmovie\nnot\n##s\n!\n.\na\n##a\nfun\n";

static const char *dir;
static char *weights;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	   *p;

	(void) argc;
	(void) argv;
	openblas_set_num_threads(1);
	dir = fz_tmpdir();
	p = fz_path("config.json");
	fz_write(p, config_json, sizeof(config_json) - 1);
	free(p);
	p = fz_path("vocab.txt");
	fz_write(p, vocab_txt, sizeof(vocab_txt) - 1);
	free(p);
	weights = fz_path("model.safetensors");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sst2_model *m = NULL;
	sst2_error	err;
	const sst2_config *c;

	fz_write(weights, data, size);
	err.msg[0] = '\0';
	if (sst2_model_open(&m, dir, NULL, &err) != SST2_OK)
	{
		FZ_ASSERT(m == NULL, "model returned on failure");
		FZ_ASSERT(err.msg[0] != '\0', "failure without a message");
		return 0;
	}
	c = sst2_model_config(m);
	FZ_ASSERT(c->dim == 4 && c->n_labels == 2 && c->vocab_size == 16, "config changed");
	FZ_ASSERT(sst2_model_bytes_mapped(m) <= size, "bytes mapped %zu",
			  sst2_model_bytes_mapped(m));
	{
		int32_t		ids[3 + 8 + 1] = {2, 6, 3, 2, 5, 7, 8, 10, 11, 12, 3, 15};
		int			lens[3] = {3, 8, 1};
		int32_t		bad[3] = {2, 16, 3};
		float		lg[3 * 2];

		FZ_ASSERT(sst2_model_forward(m, ids, lens, 1, lg, &err) == SST2_OK, "forward: %s", err.msg);
		FZ_ASSERT(sst2_model_forward(m, ids, lens, 3, lg, &err) == SST2_OK, "batch: %s", err.msg);
		fz_touch(lg, sizeof(lg));
		FZ_ASSERT(sst2_model_forward(m, bad, lens, 1, lg, &err) != SST2_OK, "id 16 accepted");
		lens[0] = 9;
		FZ_ASSERT(sst2_model_forward(m, ids, lens, 1, lg, &err) != SST2_OK, "9 positions accepted");
	}
	sst2_model_free(m);
	return 0;
}

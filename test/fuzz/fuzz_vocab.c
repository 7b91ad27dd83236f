/*
 * fuzz_vocab.c
 *	  libFuzzer target: vocab.txt (and tokenizer_config.json) parsing through
 *	  sst2_tokenizer_load, then tokenizing with whatever vocabulary loaded.
 *
 *	  Input: the vocabulary, optionally followed by SEP and the
 *	  tokenizer_config.json text (no SEP: no tokenizer_config.json at all).
 *
 *	  Checks on success: vocab_size is the number of lines; [CLS] and [SEP]
 *	  frame every output; ids are in range; a few fixed texts and the input
 *	  itself tokenize within max_ids.
 */
#include "fuzz_common.h"

#define SEP "\n--tokcfg--\n"

static char *vocab_path,
		   *cfg_path;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	vocab_path = fz_path("vocab.txt");
	cfg_path = fz_path("tokenizer_config.json");
	return 0;
}

static void
check_tokenize(const sst2_tokenizer *tok, const char *text, size_t len, int max_ids)
{
	int32_t    *ids = malloc(sizeof(int32_t) * (size_t) max_ids);
	int32_t		frame[2];
	int			vs = sst2_tokenizer_vocab_size(tok);
	int			n;
	char	   *copy = malloc(len ? len : 1);

	memcpy(copy, text, len);
	FZ_ASSERT(sst2_tokenize(tok, "", 0, frame, 2) == 2, "empty text");
	n = sst2_tokenize(tok, copy, len, ids, max_ids);
	FZ_ASSERT(n >= 2 && n <= max_ids, "%d ids for max_ids %d", n, max_ids);
	FZ_ASSERT(ids[0] == frame[0] && ids[n - 1] == frame[1], "not framed by [CLS] [SEP]");
	for (int i = 0; i < n; i++)
		FZ_ASSERT(ids[i] >= 0 && ids[i] < vs, "id %d out of range", ids[i]);
	free(copy);
	free(ids);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const texts[] = {
		"Hello, World! [CLS] un##able [SEP][MASK] caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 ##s",
		"A\xcc\x81\xcc\xa3 \xef\xbc\xa1 \xe1\x84\x80\xe1\x85\xa1 \xc4\xb0stanbul \xf0\x9f\x98\x80 \xc3\x28 x",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b",
	};
	const uint8_t *sep = memmem(data, size, SEP, strlen(SEP));
	size_t		vlen = sep ? (size_t) (sep - data) : size;
	sst2_tokenizer *tok = NULL;
	sst2_error	err;
	size_t		lines = 0;

	fz_write(vocab_path, data, vlen);
	if (sep)
	{
		size_t		off = vlen + strlen(SEP);

		fz_write(cfg_path, data + off, size - off);
	}
	else
		unlink(cfg_path);
	err.msg[0] = '\0';
	if (sst2_tokenizer_load(&tok, vocab_path, sep ? cfg_path : NULL, &err) != SST2_OK)
	{
		FZ_ASSERT(tok == NULL, "tokenizer returned on failure");
		FZ_ASSERT(err.msg[0] != '\0', "failure without a message");
		return 0;
	}
	for (size_t i = 0; i < vlen; i++)
		lines += data[i] == '\n';
	if (vlen > 0 && data[vlen - 1] != '\n')
		lines++;
	FZ_ASSERT((size_t) sst2_tokenizer_vocab_size(tok) == lines, "vocab_size %d, %zu lines",
			  sst2_tokenizer_vocab_size(tok), lines);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
	{
		check_tokenize(tok, texts[i], strlen(texts[i]), 64);
		check_tokenize(tok, texts[i], strlen(texts[i]), 3);
	}
	check_tokenize(tok, (const char *) data, vlen < 4096 ? vlen : 4096, 512);
	sst2_tokenizer_free(tok);
	return 0;
}

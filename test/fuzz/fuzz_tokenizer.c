/*
 * fuzz_tokenizer.c
 *	  libFuzzer target: sst2_tokenize on arbitrary bytes (valid and invalid
 *	  UTF-8) with the real vocabulary ($SST2_DATA/bert-base-uncased-vocab.txt,
 *	  default test/data of the repository; a small built-in vocabulary when
 *	  that is absent).
 *
 *	  Input: byte 0 picks one of four tokenizer_config.json variants
 *	  (lowercase / strip_accents / tokenize_chinese_chars), byte 1 max_ids
 *	  (0..239 as is, 240..255 -> 256..4096), the rest is the text.
 *
 *	  Checks: max_ids < 2 gives -1; otherwise 2 <= n <= max_ids, ids[0] is
 *	  [CLS], ids[n-1] is [SEP], every id is in the vocabulary, nothing is
 *	  written past max_ids (the buffer is exactly max_ids long, ASan watches);
 *	  and truncation is a prefix: the pieces for max_ids are the first
 *	  max_ids - 2 pieces of a run with a larger limit.  The debugging
 *	  pre-tokenizer runs too, and sst2_tokenize_words (same ids; word spans
 *	  and id ranges in order, inside the text).
 */
#include "fuzz_common.h"
#include "unicode_tables.h"

#define N_VARIANTS 4

static sst2_tokenizer *toks[N_VARIANTS];
static int32_t cls_id, sep_id;
static int	vocab_size;

static const char *const tokcfgs[N_VARIANTS] = {
	NULL,
	"{\"do_lower_case\": false}",
	"{\"do_lower_case\": true, \"strip_accents\": false}",
	"{\"do_lower_case\": false, \"strip_accents\": true, \"tokenize_chinese_chars\": false}",
};

/* Used when the fixture vocabulary is absent. */
static const char tiny_vocab[] =
	"[PAD]\n[unused0]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n!\n\"\n#\n'\n(\n)\n,\n-\n.\n/\n:\n?\n[\n]\n"
	"0\n1\n2\n9\na\nb\nc\nd\ne\ni\nn\no\ns\nt\nx\nz\n\xc3\xa9\n\xc3\x9f\n\xe4\xb8\xad\n\xe6\x96\x87\n"
	"\xe1\x84\x80\n\xce\xb1\n\xcf\x83\n\xcf\x82\n\xd0\xb0\n\xd8\xa7\n\xe3\x81\x82\n"
	"the\ngood\nmovie\nbad\nnot\nhello\nworld\nun\n##a\n##b\n##e\n##s\n##ing\n##ed\n##ly\n"
	"##n\n##o\n##t\n##\xc3\xa9\n##\xe1\x85\xa1\n##\xcc\x81\n\xcc\x81\n##x\n##1\n##0\n";

static void
pre_cb(void *arg, const char *word, size_t wlen, int special)
{
	(void) arg;
	FZ_ASSERT(word != NULL || special >= 0, "word NULL for a non-special");
	if (word)
	{
		FZ_ASSERT(wlen > 0 && wlen <= 100 * 4, "word of %zu bytes", wlen);
		fz_touch(word, wlen);
	}
	else
		FZ_ASSERT(special < vocab_size, "special id %d", special);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *fx = getenv("SST2_DATA");
	char		vocab[PATH_MAX];
	struct stat st;
	sst2_error	err;

	(void) argc;
	(void) argv;
	if (fx && *fx)
		snprintf(vocab, sizeof(vocab), "%s/bert-base-uncased-vocab.txt", fx);
	else
		snprintf(vocab, sizeof(vocab), "%s/test/data/bert-base-uncased-vocab.txt",
				 SST2_REPO_ROOT);
	if (stat(vocab, &st) != 0)
	{
		char	   *p = fz_path("vocab.txt");

		fprintf(stderr, "fuzz_tokenizer: %s is absent, using a built-in vocabulary\n", vocab);
		fz_write(p, tiny_vocab, sizeof(tiny_vocab) - 1);
		snprintf(vocab, sizeof(vocab), "%s", p);
		free(p);
	}
	for (int v = 0; v < N_VARIANTS; v++)
	{
		char	   *cfg = NULL;

		if (tokcfgs[v])
		{
			char		name[32];

			snprintf(name, sizeof(name), "tokcfg%d.json", v);
			cfg = fz_path(name);
			fz_write(cfg, tokcfgs[v], strlen(tokcfgs[v]));
		}
		if (sst2_tokenizer_load(&toks[v], vocab, cfg, &err) != SST2_OK)
		{
			fprintf(stderr, "fuzz_tokenizer: could not load %s: %s\n", vocab, err.msg);
			abort();
		}
		free(cfg);
	}
	vocab_size = sst2_tokenizer_vocab_size(toks[0]);
	{
		int32_t		ids[2];

		sst2_tokenize(toks[0], NULL, 0, ids, 2);
		cls_id = ids[0];
		sep_id = ids[1];
	}
	return 0;
}

/* Tokenize into a buffer of exactly max_ids ids; check the invariants. */
static int32_t *
run(const sst2_tokenizer *tok, const char *text, size_t len, int max_ids, int *n_out)
{
	int32_t    *ids = malloc(sizeof(int32_t) * (size_t) (max_ids > 0 ? max_ids : 1));
	int			n;

	n = sst2_tokenize(tok, text, len, max_ids > 0 ? ids : NULL, max_ids);
	if (max_ids < 2)
	{
		FZ_ASSERT(n == -1, "max_ids %d returned %d", max_ids, n);
		free(ids);
		*n_out = -1;
		return NULL;
	}
	FZ_ASSERT(n >= 2 && n <= max_ids, "returned %d ids for max_ids %d", n, max_ids);
	FZ_ASSERT(ids[0] == cls_id, "ids[0] = %d, not [CLS] %d", ids[0], cls_id);
	FZ_ASSERT(ids[n - 1] == sep_id, "ids[%d] = %d, not [SEP] %d", n - 1, ids[n - 1], sep_id);
	for (int i = 0; i < n; i++)
		FZ_ASSERT(ids[i] >= 0 && ids[i] < vocab_size, "ids[%d] = %d out of range", i, ids[i]);
	*n_out = n;
	return ids;
}

/*
 * sst2_tokenize_words: the same ids as sst2_tokenize (a, n); words in text
 * order, non-overlapping spans inside the text on UTF-8 boundaries, id ranges
 * covering ids 1 .. n-2 one after another.
 */
static void
check_words(const sst2_tokenizer *tok, const char *text, size_t len, int max_ids,
			const int32_t *a, int n)
{
	int32_t    *ids = malloc(sizeof(int32_t) * (size_t) max_ids);
	sst2_word  *w = malloc(sizeof(sst2_word) * (size_t) max_ids);
	int			nw = -1,
				m,
				next = 1;
	size_t		prev_end = 0;
	bool		valid = true;

	/* spans fall on UTF-8 boundaries when the text is valid UTF-8 */
	for (utf8proc_ssize_t off = 0, k; off < (utf8proc_ssize_t) len; off += k)
	{
		utf8proc_int32_t c;

		k = utf8proc_iterate((const utf8proc_uint8_t *) text + off,
							 (utf8proc_ssize_t) len - off, &c);
		if (k <= 0)
		{
			valid = false;
			break;
		}
	}
	m = sst2_tokenize_words(tok, text, len, ids, max_ids, w, &nw);
	FZ_ASSERT(m == n, "sst2_tokenize_words gave %d ids, sst2_tokenize %d", m, n);
	for (int i = 0; i < n && i < m; i++)
		FZ_ASSERT(ids[i] == a[i], "id %d differs with word spans: %d vs %d", i, ids[i], a[i]);
	FZ_ASSERT(nw >= 0 && nw <= max_ids - 2, "%d words for max_ids %d", nw, max_ids);
	for (int i = 0; i < nw; i++)
	{
		FZ_ASSERT(w[i].start < w[i].end && w[i].end <= len,
				  "word %d spans [%zu, %zu) of %zu bytes", i, w[i].start, w[i].end, len);
		FZ_ASSERT(w[i].start >= prev_end, "word %d starts at %zu before %zu", i, w[i].start, prev_end);
		FZ_ASSERT(w[i].first_id == next && w[i].n_ids >= 1,
				  "word %d has ids [%d, +%d), expected to start at %d", i, w[i].first_id, w[i].n_ids, next);
		FZ_ASSERT(!valid || (((unsigned char) text[w[i].start] & 0xC0) != 0x80 &&
				  (w[i].end == len || ((unsigned char) text[w[i].end] & 0xC0) != 0x80)),
				  "word %d [%zu, %zu) cuts a UTF-8 sequence", i, w[i].start, w[i].end);
		prev_end = w[i].end;
		next = w[i].first_id + w[i].n_ids;
	}
	FZ_ASSERT(next == m - 1, "words cover ids up to %d of %d", next, m - 1);
	free(ids);
	free(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const sst2_tokenizer *tok;
	int			max_ids,
				big,
				n1,
				n2;
	int32_t    *a,
			   *b;
	char	   *text;
	size_t		len;

	if (size < 2)
		return 0;
	tok = toks[data[0] % N_VARIANTS];
	max_ids = data[1] < 240 ? data[1] : (data[1] - 239) * 256;
	len = size - 2;
	/* an exact-size copy, so ASan sees any read past the end */
	text = malloc(len ? len : 1);
	memcpy(text, data + 2, len);

	a = run(tok, text, len, max_ids, &n1);
	if (a)
	{
		/* a larger limit: the smaller run must be its truncation */
		big = (int) (len * 3 + 8);
		if (big <= max_ids)
			big = max_ids + 64;
		b = run(tok, text, len, big, &n2);
		FZ_ASSERT(n1 - 2 == (n2 - 2 < max_ids - 2 ? n2 - 2 : max_ids - 2),
				  "max_ids %d gave %d pieces, max_ids %d gave %d", max_ids, n1 - 2, big, n2 - 2);
		for (int i = 1; i < n1 - 1; i++)
			FZ_ASSERT(a[i] == b[i], "piece %d differs with max_ids %d and %d: %d vs %d",
					  i - 1, max_ids, big, a[i], b[i]);
		free(b);
		check_words(tok, text, len, max_ids, a, n1);
		free(a);
	}
	sst2_tokenizer_pretokenize(tok, text, len, pre_cb, NULL);
	free(text);
	return 0;
}

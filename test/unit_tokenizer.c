/*
 * unit_tokenizer.c
 *	  Unit tests of the sst2 tokenizer: every line of the Hugging Face golden
 *	  file, truncation, tokenizer_config options, vocabulary errors, invalid
 *	  UTF-8 and the cost of huge inputs.
 *
 *	  Reads the test data from $SST2_DATA (default test/data); fails when
 *	  that folder is absent.
 */
#include "sst2_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

static int	n_pass,
			n_fail;
static char tmpdir[256];

static bool check(bool ok, const char *fmt,...) __attribute__((format(printf, 2, 3)));

/* Record one check; print a line when it fails. */
static bool
check(bool ok, const char *fmt,...)
{
	if (ok)
		n_pass++;
	else
	{
		va_list		ap;

		n_fail++;
		printf("FAIL: ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		putchar('\n');
	}
	return ok;
}

/* Seconds of monotonic clock. */
static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Tokenize a NUL-terminated string without truncation into a malloc'd array. */
static int32_t *
tok_all(const sst2_tokenizer *tok, const char *text, size_t len, int *n)
{
	int			max = (int) (len * 4 + 8);
	int32_t    *ids = malloc(sizeof(int32_t) * max);

	*n = sst2_tokenize(tok, text, len, ids, max);
	return ids;
}

/* Compare ids[0..n) with the expected array. */
static bool
same_ids(const int32_t *ids, int n, const int32_t *exp, int nexp)
{
	if (n != nexp)
		return false;
	for (int i = 0; i < n; i++)
		if (ids[i] != exp[i])
			return false;
	return true;
}

/* Write content to tmpdir/name; returns the path (static buffer rotation). */
static const char *
write_tmp(const char *name, const char *content, size_t len)
{
	static char paths[8][512];
	static int	k;
	char	   *p = paths[k++ % 8];
	FILE	   *f;

	snprintf(p, 512, "%s/%s", tmpdir, name);
	f = fopen(p, "wb");
	fwrite(content, 1, len, f);
	fclose(f);
	return p;
}

/*
 * Check the truncated output for max_ids against the untruncated one: the
 * first max_ids - 2 pieces, then [SEP].
 */
static void
check_truncation(const sst2_tokenizer *tok, const char *text, size_t len,
				 const int32_t *full, int nfull, int max_ids, const char *what)
{
	int32_t    *ids = malloc(sizeof(int32_t) * max_ids);
	int			n = sst2_tokenize(tok, text, len, ids, max_ids);
	int			keep = nfull - 2 < max_ids - 2 ? nfull - 2 : max_ids - 2;
	bool		ok = n == keep + 2 && ids[n - 1] == full[nfull - 1];

	for (int i = 0; ok && i < keep + 1; i++)
		ok = ids[i] == full[i];
	check(ok, "truncation max_ids=%d of %s: got %d ids", max_ids, what, n);
	free(ids);
}

/* Every line of golden/tokenizer.jsonl, plus truncations of each. */
static void
test_golden(const sst2_tokenizer *tok, const char *fixtures)
{
	char		path[1024];
	FILE	   *f;
	char	   *line = NULL;
	size_t		cap = 0;
	int			lineno = 0,
				lines_ok = 0;

	snprintf(path, sizeof(path), "%s/golden/tokenizer.jsonl", fixtures);
	f = fopen(path, "r");
	if (!check(f != NULL, "cannot open %s", path))
		return;
	while (getline(&line, &cap, f) > 0)
	{
		json_object *o = json_tokener_parse(line),
				   *jt,
				   *jids;
		const char *text;
		size_t		len;
		int			n,
					nexp;
		int32_t    *ids,
				   *exp;

		lineno++;
		if (!o || !json_object_object_get_ex(o, "text", &jt) ||
			!json_object_object_get_ex(o, "ids", &jids))
		{
			check(false, "golden line %d unreadable", lineno);
			json_object_put(o);
			continue;
		}
		text = json_object_get_string(jt);
		len = (size_t) json_object_get_string_len(jt);
		nexp = (int) json_object_array_length(jids);
		exp = malloc(sizeof(int32_t) * (nexp + 1));
		for (int i = 0; i < nexp; i++)
			exp[i] = json_object_get_int(json_object_array_get_idx(jids, i));
		ids = tok_all(tok, text, len, &n);
		if (same_ids(ids, n, exp, nexp))
			lines_ok++;
		else
		{
			check(false, "golden line %d: %d ids, expected %d: %.80s", lineno, n, nexp, text);
			continue;
		}
		if (lineno % 7 == 0 || nexp > 30)
		{
			static const int maxes[] = {2, 3, 4, 10, 16, 512};

			for (int k = 0; k < 6; k++)
				check_truncation(tok, text, len, exp, nexp, maxes[k], "golden line");
		}
		free(ids);
		free(exp);
		json_object_put(o);
	}
	free(line);
	fclose(f);
	check(lineno == 4947, "golden file has %d lines, expected 4947", lineno);
	printf("golden: %d of %d lines identical to Hugging Face\n", lines_ok, lineno);
	n_pass += lines_ok;
}

/* Truncation on long inputs, including the early stop inside a long word. */
static void
test_truncation(const sst2_tokenizer *tok, const char *fixtures)
{
	char		path[1024];
	FILE	   *f;
	char	   *buf = calloc(1, 1 << 20);
	size_t		len = 0;
	char	   *line = NULL;
	size_t		cap = 0;
	int			n;
	int32_t    *full;
	int32_t		ids[8];
	static const int maxes[] = {2, 3, 10, 512};

	snprintf(path, sizeof(path), "%s/sst2/dev.tsv", fixtures);
	f = fopen(path, "r");
	if (!check(f != NULL, "cannot open %s", path))
		return;
	while (getline(&line, &cap, f) > 0 && len < 60000)
	{
		size_t		l = strcspn(line, "\t");

		memcpy(buf + len, line, l);
		len += l;
		buf[len++] = ' ';
	}
	fclose(f);
	free(line);
	full = tok_all(tok, buf, len, &n);
	check(n > 1000, "long input gives %d ids", n);
	for (int k = 0; k < 4; k++)
		check_truncation(tok, buf, len, full, n, maxes[k], "dev sentences");
	free(full);

	/* a word of more than 100 chars at the truncation point */
	len = (size_t) snprintf(buf, 1 << 20, "hello %0250d world", 0);
	full = tok_all(tok, buf, len, &n);
	check(n == 5 && full[2] == 100, "long word is one [UNK] (%d ids)", n);
	for (int m = 2; m <= 6; m++)
		check_truncation(tok, buf, len, full, n, m, "long word");
	free(full);
	check(sst2_tokenize(tok, "a", 1, ids, 1) == -1, "max_ids 1 gives -1");
	check(sst2_tokenize(tok, "a", 1, ids, 0) == -1, "max_ids 0 gives -1");
	check(sst2_tokenize(tok, "", 0, ids, 2) == 2 && ids[0] == 101 && ids[1] == 102,
		  "empty text gives [CLS] [SEP]");
	check(sst2_tokenize(tok, NULL, 0, ids, 8) == 2, "NULL text gives [CLS] [SEP]");
	free(buf);
}

/* Special tokens are matched verbatim in the raw text. */
static void
test_special(const sst2_tokenizer *tok)
{
	static const struct
	{
		const char *text;
		int32_t		ids[8];
		int			n;
	}			cases[] = {
		{"a[MASK]b", {101, 1037, 103, 1038, 102}, 5},
		{"[mask]", {101, 1031, 7308, 1033, 102}, 5},
		{"[CLS][SEP]", {101, 101, 102, 102}, 4},
		{"[[MASK]]", {101, 1031, 103, 1033, 102}, 5},
		{"[MASK ]", {101, 1031, 7308, 1033, 102}, 5},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		int32_t		ids[64];
		int			n = sst2_tokenize(tok, cases[i].text, strlen(cases[i].text), ids, 64);

		check(same_ids(ids, n, cases[i].ids, cases[i].n), "special tokens in %s", cases[i].text);
	}
}

/* tokenizer_config.json options (expected ids from Hugging Face). */
static void
test_config(const char *vocab)
{
	static const char *text = "H\xc3\xa9llo hello WORLD na\xc3\xafve \xc4\xb0stanbul \xe4\xbd\xa0\xe5\xa5\xbd \xce\xa9mega \xcf\x89mega h\xc3\xa9llo";
	static const struct
	{
		const char *json;
		int32_t		ids[20];
		int			n;
	}			cases[] = {
		{"{\"do_lower_case\": true, \"model_max_length\": 512}",
		{101, 7592, 7592, 2088, 15743, 9960, 100, 100, 1179, 4168, 3654, 1179, 4168, 3654, 7592, 102}, 16},
		{"{\"do_lower_case\": false}",
		{101, 100, 7592, 100, 100, 100, 100, 100, 100, 1179, 4168, 3654, 100, 102}, 14},
		{"{\"do_lower_case\": true, \"strip_accents\": false}",
		{101, 100, 7592, 2088, 100, 100, 100, 100, 1179, 4168, 3654, 1179, 4168, 3654, 100, 102}, 16},
		{"{\"do_lower_case\": false, \"strip_accents\": true}",
		{101, 100, 7592, 100, 15743, 100, 100, 100, 100, 1179, 4168, 3654, 7592, 102}, 14},
		{"{\"tokenize_chinese_chars\": false, \"strip_accents\": null}",
		{101, 7592, 7592, 2088, 15743, 9960, 100, 1179, 4168, 3654, 1179, 4168, 3654, 7592, 102}, 15},
	};
	static const char *bad[] = {
		"{\"do_lower_case\": ", "[1, 2]", "{\"do_lower_case\": \"yes\"}",
		"{\"strip_accents\": 1}", "{} x", "",
	};
	sst2_tokenizer *tok;
	sst2_error	err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		const char *p = write_tmp("tokenizer_config.json", cases[i].json, strlen(cases[i].json));
		int32_t		ids[64];
		int			n;

		if (!check(sst2_tokenizer_load(&tok, vocab, p, &err) == SST2_OK,
				   "load with config %s: %s", cases[i].json, err.msg))
			continue;
		n = sst2_tokenize(tok, text, strlen(text), ids, 64);
		check(same_ids(ids, n, cases[i].ids, cases[i].n), "config %s: wrong ids", cases[i].json);
		sst2_tokenizer_free(tok);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		const char *p = write_tmp("bad_config.json", bad[i], strlen(bad[i]));
		sst2_status st = sst2_tokenizer_load(&tok, vocab, p, &err);

		if (check(st != SST2_OK, "bad config %s accepted", bad[i]))
			check(strstr(err.msg, p) != NULL, "bad config message does not name the file: %s", err.msg);
		else
			sst2_tokenizer_free(tok);
	}
	/* a missing config file means the defaults */
	{
		char		p[600];

		snprintf(p, sizeof(p), "%s/does_not_exist.json", tmpdir);
		if (check(sst2_tokenizer_load(&tok, vocab, p, &err) == SST2_OK,
				  "missing config should mean defaults: %s", err.msg))
			sst2_tokenizer_free(tok);
	}
}

/* Vocabulary files: errors, CRLF, missing final newline. */
static void
test_vocab(const char *vocab)
{
	static const char *base = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n";
	sst2_tokenizer *tok;
	sst2_error	err;
	const char *p;
	char		buf[600];
	int32_t		ids[16];
	int			n;

	/* duplicate token: named, with both line numbers */
	snprintf(buf, sizeof(buf), "%shello\n", base);
	p = write_tmp("dup.txt", buf, strlen(buf));
	if (check(sst2_tokenizer_load(&tok, p, NULL, &err) == SST2_ERR_FORMAT, "duplicate accepted"))
		check(strstr(err.msg, "\"hello\"") && strstr(err.msg, "6") && strstr(err.msg, "9") &&
			  strstr(err.msg, p), "duplicate message: %s", err.msg);
	/* missing [UNK] */
	p = write_tmp("nounk.txt", "[PAD]\n[CLS]\n[SEP]\nhello\n", 24);
	if (check(sst2_tokenizer_load(&tok, p, NULL, &err) == SST2_ERR_FORMAT, "missing [UNK] accepted"))
		check(strstr(err.msg, "[UNK]") && strstr(err.msg, p), "missing [UNK] message: %s", err.msg);
	/* empty file */
	p = write_tmp("empty.txt", "", 0);
	if (check(sst2_tokenizer_load(&tok, p, NULL, &err) == SST2_ERR_FORMAT, "empty vocabulary accepted"))
		check(strstr(err.msg, "empty") && strstr(err.msg, p), "empty message: %s", err.msg);
	/* missing file */
	snprintf(buf, sizeof(buf), "%s/nope.txt", tmpdir);
	if (check(sst2_tokenizer_load(&tok, buf, NULL, &err) == SST2_ERR_IO, "missing vocabulary accepted"))
		check(strstr(err.msg, buf) != NULL, "missing file message: %s", err.msg);
	/* CRLF and no final newline give the same tokenizer */
	{
		static const char *crlf = "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nhello\r\nworld\r\n##s";
		static const int32_t exp[] = {2, 5, 6, 7, 1, 4, 3};

		p = write_tmp("crlf.txt", crlf, strlen(crlf));
		if (check(sst2_tokenizer_load(&tok, p, NULL, &err) == SST2_OK, "CRLF vocabulary: %s", err.msg))
		{
			n = sst2_tokenize(tok, "Hello worlds x[MASK]", 20, ids, 16);
			check(same_ids(ids, n, exp, 7), "CRLF vocabulary tokenizes wrongly (%d ids)", n);
			check(sst2_tokenizer_vocab_size(tok) == 8, "CRLF vocabulary size %d", sst2_tokenizer_vocab_size(tok));
			sst2_tokenizer_free(tok);
		}
	}
	/* the real vocabulary */
	if (check(sst2_tokenizer_load(&tok, vocab, NULL, &err) == SST2_OK, "load %s: %s", vocab, err.msg))
	{
		check(sst2_tokenizer_vocab_size(tok) == 30522, "vocab size %d", sst2_tokenizer_vocab_size(tok));
		sst2_tokenizer_free(tok);
	}
}

/* Invalid UTF-8 is read as U+FFFD (dropped); random bytes never crash. */
static void
test_invalid_utf8(const sst2_tokenizer *tok)
{
	static const struct
	{
		const char *bytes;
		const char *same_as;
	}			cases[] = {
		{"a\xff" "b", "ab"},
		{"\xff\xfe hello", " hello"},
		{"a\xe2\x82" "b", "ab"},	/* truncated 3-byte */
		{"a\xc0\xaf" "b", "ab"},	/* overlong */
		{"a\xed\xa0\x80" "b", "ab"},	/* surrogate */
		{"a\xf4\x90\x80\x80" "b", "ab"},	/* > U+10FFFF */
		{"a\xf0\x9f\x98", "a"},	/* truncated at the end */
		{"x\x80\x80y z", "xy z"},
		{"caf\xc3", "caf"},
	};
	int32_t		a[64],
				b[64];
	unsigned	seed = 12345;
	char		buf[300];
	bool		ok = true;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		int			na = sst2_tokenize(tok, cases[i].bytes, strlen(cases[i].bytes), a, 64);
		int			nb = sst2_tokenize(tok, cases[i].same_as, strlen(cases[i].same_as), b, 64);

		check(same_ids(a, na, b, nb), "invalid UTF-8 case %zu", i);
	}
	for (int it = 0; it < 200000 && ok; it++)
	{
		int			len = (int) ((seed = seed * 1103515245u + 12345u) >> 16) % 300;
		int			max = 2 + (int) (seed >> 8) % 60;
		int			n;

		for (int i = 0; i < len; i++)
		{
			seed = seed * 1103515245u + 12345u;
			buf[i] = (char) (seed >> 16);
			if ((seed >> 28) < 4)
				buf[i] = "a [M]\xcc\x81"[(seed >> 20) % 7];
		}
		n = sst2_tokenize(tok, buf, (size_t) len, a, max);
		ok = n >= 2 && n <= max && a[0] == 101 && a[n - 1] == 102;
		for (int i = 1; ok && i < n - 1; i++)
			ok = a[i] >= 0 && a[i] < 30522;
	}
	check(ok, "random bytes give malformed output");
}

/* Huge inputs: truncated work must stop early. */
static void
test_huge(const sst2_tokenizer *tok)
{
	size_t		len = 10 << 20;
	char	   *buf = malloc(len);
	int32_t    *ids = malloc(sizeof(int32_t) * 512);
	double		t,
				best;
	int			n;
	/* SST2_UNIT_NO_TIMING=1: results only, no time limits (under valgrind) */
	bool		no_timing = getenv("SST2_UNIT_NO_TIMING") != NULL;

	for (size_t i = 0; i < len; i++)
		buf[i] = "the movie is great "[i % 19];
	best = 1e9;
	for (int r = 0; r < 5; r++)
	{
		t = now();
		n = sst2_tokenize(tok, buf, len, ids, 512);
		t = now() - t;
		best = t < best ? t : best;
	}
	check(n == 512 && (no_timing || best < 0.005), "10 MB of words, max_ids 512: %d ids in %.3f ms", n, best * 1e3);
	printf("10 MB text, max_ids 512: %.1f us\n", best * 1e6);

	memset(buf, 'a', len);
	t = now();
	n = sst2_tokenize(tok, buf, len, ids, 3);
	t = now() - t;
	check(n == 3 && ids[1] == 100 && (no_timing || t < 0.005), "10 MB single word, max_ids 3: %d ids in %.3f ms", n, t * 1e3);

	/* a 10 MB single word must be scanned to its end when more ids are wanted */
	t = now();
	n = sst2_tokenize(tok, buf, len, ids, 512);
	t = now() - t;
	check(n == 3 && ids[1] == 100 && (no_timing || t < 1.0), "10 MB single word, max_ids 512: %d ids in %.3f ms", n, t * 1e3);
	printf("10 MB single word, max_ids 512 (full scan): %.1f ms\n", t * 1e3);
	free(buf);
	free(ids);
}

/* Run every test group against the real vocabulary of the test data. */
int
main(void)
{
	const char *fixtures = getenv("SST2_DATA");
	char		vocab[1024];
	struct stat sb;
	sst2_tokenizer *tok;
	sst2_error	err;

	if (!fixtures || !*fixtures)
		fixtures = "test/data";
	if (stat(fixtures, &sb) != 0 || !S_ISDIR(sb.st_mode))
	{
		printf("FAIL: the test data folder %s is absent\n", fixtures);
		return 1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/unit_tokenizer.XXXXXX");
	if (!mkdtemp(tmpdir))
	{
		perror("mkdtemp");
		return 1;
	}
	snprintf(vocab, sizeof(vocab), "%s/bert-base-uncased-vocab.txt", fixtures);
	if (sst2_tokenizer_load(&tok, vocab, NULL, &err) != SST2_OK)
	{
		printf("FAIL: %s\n", err.msg);
		return 1;
	}
	test_golden(tok, fixtures);
	test_truncation(tok, fixtures);
	test_special(tok);
	test_invalid_utf8(tok);
	test_huge(tok);
	test_config(vocab);
	test_vocab(vocab);
	sst2_tokenizer_free(tok);

	{
		char		cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			printf("warning: could not remove %s\n", tmpdir);
	}
	printf("unit_tokenizer: %d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}

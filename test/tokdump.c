/*
 * tokdump.c
 *	  Tokenize texts with the sst2 tokenizer, for differential tests against
 *	  Hugging Face (test/tokenizer_diff.js) and for timing.
 *
 *	  Usage: tokdump [options] VOCAB [TOKENIZER_CONFIG|-] [MAX_IDS]
 *	    stdin: one text a line, as a JSON string or a JSON object with "text"
 *	    stdout: one JSON array of ids a line
 *	  Options:
 *	    --pretok     print the pre-tokenized words instead (JSON array; a
 *	                 special token is its id, a word of more than 100 chars is
 *	                 ["long", first 100 chars])
 *	    --words      print {"ids": [...], "words": [[start, end, first_id, n_ids], ...]}
 *	                 (sst2_tokenize_words: byte spans in the input, id ranges)
 *	    --tsv        input is a TSV file with a header line, text in column 1
 *	    --bench N    tokenize all input N times and print texts/s on stderr
 */
#include "sst2_core.h"
#include "unicode_tables.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

/* Print s (len bytes) as a JSON string. */
static void
print_json_string(FILE *out, const char *s, size_t len)
{
	putc('"', out);
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			putc(c, out);
	}
	putc('"', out);
}

typedef struct pretok_out
{
	FILE	   *out;
	int			n;
} pretok_out;

/* Callback of sst2_tokenizer_pretokenize: print one word. */
static void
print_word(void *arg, const char *word, size_t wlen, int special)
{
	pretok_out *po = arg;

	if (po->n++)
		putc(',', po->out);
	if (word == NULL)
		fprintf(po->out, "%d", special);
	else if (special == -2)
	{
		fputs("[\"long\",", po->out);
		print_json_string(po->out, word, wlen);
		putc(']', po->out);
	}
	else
		print_json_string(po->out, word, wlen);
}

/* Turn one input line into the text to tokenize (malloc'd); NULL if bad. */
static char *
parse_line(char *line, size_t len, bool tsv, size_t *tlen)
{
	json_object *o,
			   *t;
	char	   *res;

	if (tsv)
	{
		char	   *tab = memchr(line, '\t', len);

		*tlen = tab ? (size_t) (tab - line) : len;
		res = malloc(*tlen + 1);
		memcpy(res, line, *tlen);
		res[*tlen] = '\0';
		return res;
	}
	o = json_tokener_parse(line);
	if (!o)
		return NULL;
	t = o;
	if (json_object_is_type(o, json_type_object) &&
		!json_object_object_get_ex(o, "text", &t))
		t = NULL;
	if (!t || !json_object_is_type(t, json_type_string))
	{
		json_object_put(o);
		return NULL;
	}
	*tlen = (size_t) json_object_get_string_len(t);
	res = malloc(*tlen + 1);
	memcpy(res, json_object_get_string(t), *tlen);
	res[*tlen] = '\0';
	json_object_put(o);
	return res;
}

/* Parse arguments, load the tokenizer, then dump or time every input line. */
int
main(int argc, char **argv)
{
	const char *pos[3] = {NULL, NULL, NULL};
	int			npos = 0;
	bool		words = false;
	sst2_word  *w;
	bool		pretok = false,
				tsv = false;
	int			bench = 0;
	sst2_tokenizer *tok;
	sst2_error	err;
	int			max_ids = 1 << 24;
	int32_t    *ids;
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		n;
	char	  **texts = NULL;
	size_t	   *lens = NULL;
	size_t		ntexts = 0,
				tcap = 0;
	long		lineno = 0;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--pretok") == 0)
			pretok = true;
		else if (strcmp(argv[i], "--words") == 0)
			words = true;
		else if (strcmp(argv[i], "--tsv") == 0)
			tsv = true;
		else if (strcmp(argv[i], "--bench") == 0 && i + 1 < argc)
			bench = atoi(argv[++i]);
		else if (npos < 3)
			pos[npos++] = argv[i];
		else
		{
			fprintf(stderr, "usage: tokdump [--pretok|--words] [--tsv] [--bench N] VOCAB [TOKENIZER_CONFIG|-] [MAX_IDS]\n");
			return 2;
		}
	}
	if (npos < 1)
	{
		fprintf(stderr, "usage: tokdump [--pretok|--words] [--tsv] [--bench N] VOCAB [TOKENIZER_CONFIG|-] [MAX_IDS]\n");
		return 2;
	}
	if (npos >= 3)
		max_ids = atoi(pos[2]);
	if (sst2_tokenizer_load(&tok, pos[0],
							(npos >= 2 && strcmp(pos[1], "-") != 0) ? pos[1] : NULL,
							&err) != SST2_OK)
	{
		fprintf(stderr, "tokdump: %s\n", err.msg);
		return 1;
	}
	ids = malloc(sizeof(int32_t) * (size_t) (max_ids > 2 ? max_ids : 2));
	/* untouched pages cost nothing: room for max_ids words */
	w = words ? malloc(sizeof(sst2_word) * (size_t) (max_ids > 2 ? max_ids : 2)) : NULL;

	while ((n = getline(&line, &cap, stdin)) >= 0)
	{
		size_t		tlen;
		char	   *text;

		lineno++;
		if (tsv && lineno == 1)
			continue;
		while (n > 0 && (line[n - 1] == '\n' || (!tsv && line[n - 1] == '\r')))
			line[--n] = '\0';
		text = parse_line(line, (size_t) n, tsv, &tlen);
		if (!text)
		{
			fprintf(stderr, "tokdump: line %ld is not a JSON string or {\"text\": ...}\n", lineno);
			return 1;
		}
		if (bench)
		{
			if (ntexts == tcap)
			{
				tcap = tcap ? tcap * 2 : 1024;
				texts = realloc(texts, tcap * sizeof(char *));
				lens = realloc(lens, tcap * sizeof(size_t));
			}
			texts[ntexts] = text;
			lens[ntexts++] = tlen;
			continue;
		}
		if (pretok)
		{
			pretok_out po = {stdout, 0};

			putchar('[');
			sst2_tokenizer_pretokenize(tok, text, tlen, print_word, &po);
			puts("]");
		}
		else if (words)
		{
			int			nw = 0;
			int			k = sst2_tokenize_words(tok, text, tlen, ids, max_ids, w, &nw);

			printf("{\"ids\": [");
			for (int i = 0; i < k; i++)
				printf(i ? ",%d" : "%d", ids[i]);
			printf("], \"words\": [");
			for (int i = 0; i < nw; i++)
				printf("%s[%zu,%zu,%d,%d]", i ? "," : "", w[i].start, w[i].end,
					   w[i].first_id, w[i].n_ids);
			puts("]}");
		}
		else
		{
			int			k = sst2_tokenize(tok, text, tlen, ids, max_ids);

			putchar('[');
			for (int i = 0; i < k; i++)
				printf(i ? ",%d" : "%d", ids[i]);
			puts("]");
		}
		free(text);
	}
	if (bench)
	{
		struct timespec t0,
					t1;
		long		total = 0;
		double		secs;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int r = 0; r < bench; r++)
			for (size_t i = 0; i < ntexts; i++)
				total += sst2_tokenize(tok, texts[i], lens[i], ids, max_ids);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		fprintf(stderr, "tokdump: %zu texts x %d in %.3f s: %.0f texts/s, %.2f us/text (%ld ids)\n",
				ntexts, bench, secs, ntexts * (double) bench / secs,
				secs * 1e6 / (ntexts * (double) bench), total);
		for (size_t i = 0; i < ntexts; i++)
			free(texts[i]);
		free(texts);
		free(lens);
	}
	free(line);
	free(ids);
	free(w);
	sst2_tokenizer_free(tok);
	return 0;
}

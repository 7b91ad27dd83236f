/*
 * vocab.c
 *	  Load a WordPiece vocabulary (vocab.txt: one token a line, id = line
 *	  number from 0) into the tokenizer's hash tables, find the special
 *	  tokens, and read the tokenizer options (tokenizer_config.json, parsed in
 *	  config.c).  Tokenizing itself is tokenizer.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "vocab.h"

#define VOCAB_MAX_FILE	(64 * 1024 * 1024)	/* bert's is 232 KB */

/* Insert id under its key (token minus skip leading bytes); no duplicates. */
static void
table_insert(const sst2_tokenizer *tok, int32_t *tab, uint32_t mask, int skip,
			 int32_t id)
{
	const char *key = tok->pool + tok->tok_off[id] + skip;
	uint32_t	i = hash_bytes(key, tok->tok_len[id] - skip) & mask;

	while (tab[i] >= 0)
		i = (i + 1) & mask;
	tab[i] = id;
}

/* Smallest power of two >= 2 * n (at least 16), minus one. */
static uint32_t
table_mask_for(int n)
{
	uint32_t	size = 16;

	while (size < (uint32_t) n * 2)
		size <<= 1;
	return size - 1;
}


/* ---------------------------------------------------------------- loading */

/* Free a tokenizer (NULL is fine). */
void
sst2_tokenizer_free(sst2_tokenizer *tok)
{
	if (!tok)
		return;
	free(tok->pool);
	free(tok->tok_off);
	free(tok->tok_len);
	free(tok->main_tab);
	free(tok->cont_tab);
	free(tok);
}

/*
 * Split the vocabulary buffer into lines (in place), one token a line; a
 * trailing "\r" is dropped (CRLF files) and a missing final newline is fine.
 * Fills tok_off/tok_len and vocab_size.
 */
static sst2_status
split_vocab(sst2_tokenizer *tok, size_t len, const char *path, sst2_error *err)
{
	char	   *buf = tok->pool;
	size_t		n = 0,
				pos;

	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n')
			n++;
	if (len > 0 && buf[len - 1] != '\n')
		n++;
	if (n == 0)
		return sst2_set_error(err, SST2_ERR_FORMAT,
							  "vocabulary file \"%s\" is empty", path);
	if (n > (size_t) INT32_MAX / 2)
		return sst2_set_error(err, SST2_ERR_LIMIT,
							  "vocabulary file \"%s\" has too many lines", path);
	tok->tok_off = malloc(n * sizeof(uint32_t));
	tok->tok_len = malloc(n * sizeof(uint32_t));
	if (!tok->tok_off || !tok->tok_len)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	if (len > UINT32_MAX - 1)
		return sst2_set_error(err, SST2_ERR_LIMIT,
							  "vocabulary file \"%s\" is too large", path);

	pos = 0;
	for (size_t i = 0; i < n; i++)
	{
		char	   *nl = memchr(buf + pos, '\n', len - pos);
		size_t		e = nl ? (size_t) (nl - buf) : len;
		size_t		te = e;

		if (te > pos && buf[te - 1] == '\r')
			te--;
		buf[te] = '\0';
		tok->tok_off[i] = (uint32_t) pos;
		tok->tok_len[i] = (uint32_t) (te - pos);
		pos = e + 1;
	}
	tok->vocab_size = (int) n;
	return SST2_OK;
}

/*
 * Load vocab.txt and (optionally) tokenizer_config.json; see sst2_core.h.
 */
sst2_status
sst2_tokenizer_load(sst2_tokenizer **out, const char *vocab_path,
					const char *tokcfg_path, sst2_error *err)
{
	/* the special tokens matched in raw text, and the role of each */
	static const struct
	{
		const char *name;
		bool		required;
		size_t		role;		/* offset of its id field in sst2_tokenizer, or 0 */
	}			specials[] = {
		{"[PAD]", false, 0},
		{"[UNK]", true, offsetof(sst2_tokenizer, unk_id)},
		{"[CLS]", true, offsetof(sst2_tokenizer, cls_id)},
		{"[SEP]", true, offsetof(sst2_tokenizer, sep_id)},
		{"[MASK]", false, 0},
	};
	sst2_tokenizer *tok;
	size_t		len;
	sst2_status st;
	int			n_cont = 0;

	*out = NULL;
	tok = calloc(1, sizeof(*tok));
	if (!tok)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	if ((st = sst2_read_file(vocab_path, "vocabulary file", VOCAB_MAX_FILE,
							 &tok->pool, &len, err)) != SST2_OK)
		goto fail;
	if ((st = split_vocab(tok, len, vocab_path, err)) != SST2_OK)
		goto fail;

	/* hash tables; duplicates are an error */
	tok->main_mask = table_mask_for(tok->vocab_size);
	tok->main_tab = malloc(((size_t) tok->main_mask + 1) * sizeof(int32_t));
	if (!tok->main_tab)
	{
		st = sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
		goto fail;
	}
	memset(tok->main_tab, 0xff, ((size_t) tok->main_mask + 1) * sizeof(int32_t));
	for (int32_t id = 0; id < tok->vocab_size; id++)
	{
		const char *s = tok->pool + tok->tok_off[id];
		uint32_t	l = tok->tok_len[id];
		int32_t		prev = table_lookup(tok, tok->main_tab, tok->main_mask, 0, s, l);

		if (prev >= 0)
		{
			st = sst2_set_error(err, SST2_ERR_FORMAT,
								"duplicate token \"%s\" in vocabulary file \"%s\" at lines %d and %d",
								s, vocab_path, prev + 1, id + 1);
			goto fail;
		}
		table_insert(tok, tok->main_tab, tok->main_mask, 0, id);
		if (l > tok->max_main_len)
			tok->max_main_len = l;
		if (l > 2 && s[0] == '#' && s[1] == '#')
			n_cont++;
	}
	tok->cont_mask = table_mask_for(n_cont);
	tok->cont_tab = malloc(((size_t) tok->cont_mask + 1) * sizeof(int32_t));
	if (!tok->cont_tab)
	{
		st = sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
		goto fail;
	}
	memset(tok->cont_tab, 0xff, ((size_t) tok->cont_mask + 1) * sizeof(int32_t));
	for (int32_t id = 0; id < tok->vocab_size; id++)
	{
		const char *s = tok->pool + tok->tok_off[id];
		uint32_t	l = tok->tok_len[id];

		if (l > 2 && s[0] == '#' && s[1] == '#')
		{
			table_insert(tok, tok->cont_tab, tok->cont_mask, 2, id);
			if (l - 2 > tok->max_cont_len)
				tok->max_cont_len = l - 2;
		}
	}

	/* special tokens: [UNK], [CLS], [SEP] required */
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
	{
		const char *name = specials[i].name;
		int32_t		id = table_lookup(tok, tok->main_tab, tok->main_mask, 0,
									  name, strlen(name));

		if (id < 0)
		{
			if (!specials[i].required)
				continue;
			st = sst2_set_error(err, SST2_ERR_FORMAT,
								"vocabulary file \"%s\" has no \"%s\" token",
								vocab_path, name);
			goto fail;
		}
		if (specials[i].role)
			*(int32_t *) ((char *) tok + specials[i].role) = id;
		tok->special[tok->n_special].text = tok->pool + tok->tok_off[id];
		tok->special[tok->n_special].len = (int) tok->tok_len[id];
		tok->special[tok->n_special].id = id;
		tok->n_special++;
	}

	if ((st = sst2_tokenizer_config_load(&tok->opt, tokcfg_path, err)) != SST2_OK)
		goto fail;
	tok->strip = tok->opt.strip_accents < 0 ? tok->opt.lowercase
		: tok->opt.strip_accents > 0;

	*out = tok;
	return SST2_OK;

fail:
	sst2_tokenizer_free(tok);
	return st;
}

/* Number of tokens in the vocabulary. */
int
sst2_tokenizer_vocab_size(const sst2_tokenizer *tok)
{
	return tok->vocab_size;
}


/*
 * vocab.h
 *	  Internal to the sst2 core: the tokenizer object (sst2_tokenizer) shared
 *	  by vocab.c, which loads vocab.txt into it, and tokenizer.c, which
 *	  tokenizes with it; and the vocabulary lookup both use.
 */
#ifndef SST2_VOCAB_H
#define SST2_VOCAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sst2_core.h"

typedef struct special_token
{
	const char *text;
	int			len;
	int			id;
} special_token;

struct sst2_tokenizer
{
	int			vocab_size;
	char	   *pool;			/* vocab file contents, tokens NUL-terminated */
	uint32_t   *tok_off;		/* [vocab_size] offset of each token in pool */
	uint32_t   *tok_len;		/* [vocab_size] length in bytes */
	int32_t    *main_tab;		/* open addressing: token -> id, -1 empty */
	uint32_t	main_mask;
	int32_t    *cont_tab;		/* "##x" tokens keyed by x */
	uint32_t	cont_mask;
	uint32_t	max_main_len;	/* longest token, bytes */
	uint32_t	max_cont_len;	/* longest continuation key, bytes */
	int32_t		unk_id;
	int32_t		cls_id;
	int32_t		sep_id;
	int			n_special;
	special_token special[5];
	sst2_tokenizer_options opt;
	bool		strip;			/* strip_accents resolved against lowercase */
};


/* FNV-1a over a byte string. */
static inline uint32_t
hash_bytes(const char *s, size_t len)
{
	uint32_t	h = 2166136261u;

	for (size_t i = 0; i < len; i++)
	{
		h ^= (unsigned char) s[i];
		h *= 16777619u;
	}
	return h;
}

/*
 * Look up key (len bytes) in one of the tokenizer's tables; skip is the
 * number of leading bytes of each stored token that are not part of its key
 * (2 for the "##" continuation table).  Returns the id or -1.
 */
static inline int32_t
table_lookup(const sst2_tokenizer *tok, const int32_t *tab, uint32_t mask,
			 int skip, const char *key, size_t len)
{
	uint32_t	i = hash_bytes(key, len) & mask;

	for (;;)
	{
		int32_t		id = tab[i];

		if (id < 0)
			return -1;
		if (tok->tok_len[id] - skip == len &&
			memcmp(tok->pool + tok->tok_off[id] + skip, key, len) == 0)
			return id;
		i = (i + 1) & mask;
	}
}


#endif							/* SST2_VOCAB_H */

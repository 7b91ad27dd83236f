/*
 * unicode_tables.h
 *	  Internal to the tokenizer: per-code-point decisions of Hugging Face's
 *	  BERT normalizer and pre-tokenizer, generated into unicode_tables.c by
 *	  tools/gen_unicode_tables.js, plus a debugging entry point of the
 *	  tokenizer used by test/tokdump.
 */
#ifndef SST2_UNICODE_TABLES_H
#define SST2_UNICODE_TABLES_H

#include <stdint.h>
#include <stddef.h>

#define SST2_UC_REMOVE		0x01	/* clean_text drops it (control, format, ...) */
#define SST2_UC_CLEAN_WS	0x02	/* clean_text turns it into ' ' */
#define SST2_UC_CHINESE		0x04	/* handle_chinese_chars pads it with spaces */
#define SST2_UC_MN			0x08	/* strip_accents drops it (after NFD) */
#define SST2_UC_PUNCT		0x10	/* the pre-tokenizer isolates it */
#define SST2_UC_NFD			0x20	/* has a canonical decomposition */
#define SST2_UC_LOWER		0x40	/* to_lowercase is not the identity */
#define SST2_UC_CCC			0x80	/* nonzero canonical combining class */

typedef struct sst2_uc_map
{
	uint32_t	cp;
	uint16_t	off;			/* into the pool */
	uint16_t	len;
} sst2_uc_map;

extern const uint16_t sst2_uc_stage1[];
extern const uint8_t sst2_uc_stage2[][128];
extern const sst2_uc_map sst2_uc_nfd[];
extern const uint32_t sst2_uc_nfd_pool[];
extern const int sst2_uc_nfd_count;
extern const sst2_uc_map sst2_uc_lower[];
extern const uint32_t sst2_uc_lower_pool[];
extern const int sst2_uc_lower_count;

/* Flags of code point c (c < 0x110000). */
static inline unsigned
sst2_uc_flags(uint32_t c)
{
	return sst2_uc_stage2[sst2_uc_stage1[c >> 7]][c & 127];
}

struct sst2_tokenizer;

/*
 * Debugging/testing entry point: run the added-token split, normalizer and
 * pre-tokenizer (no WordPiece) and call cb once per word (UTF-8, not
 * NUL-terminated; special is the id of a matched special token, else -1).
 */
void		sst2_tokenizer_pretokenize(const struct sst2_tokenizer *tok,
									   const char *text, size_t len,
									   void (*cb) (void *arg, const char *word,
												   size_t wlen, int special),
									   void *arg);

#endif							/* SST2_UNICODE_TABLES_H */

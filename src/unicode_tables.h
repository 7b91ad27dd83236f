/*
 * unicode_tables.h
 *	  Internal to the tokenizer: the per-code-point decisions of Hugging Face's
 *	  BERT normalizer and pre-tokenizer.  They come from utf8proc (general
 *	  category, canonical combining class, canonical decomposition, simple
 *	  lowercase mapping), corrected by small exception tables where Hugging
 *	  Face disagrees; the exceptions are generated into unicode_tables.c by
 *	  tools/gen_unicode_tables.js, which probes the Hugging Face library and
 *	  utf8proc (through tools/uc_probe.c, which uses sst2_uc_base_flags below)
 *	  on every code point.  Also declares a debugging entry point of the
 *	  tokenizer used by test/tokdump.
 */
#ifndef SST2_UNICODE_TABLES_H
#define SST2_UNICODE_TABLES_H

#include <stdint.h>
#include <stddef.h>

#include <utf8proc.h>

#define SST2_UC_REMOVE		0x01	/* clean_text drops it (control, format, ...) */
#define SST2_UC_CLEAN_WS	0x02	/* clean_text turns it into ' ' */
#define SST2_UC_CHINESE		0x04	/* handle_chinese_chars pads it with spaces */
#define SST2_UC_MN			0x08	/* strip_accents drops it (after NFD) */
#define SST2_UC_PUNCT		0x10	/* the pre-tokenizer isolates it */
#define SST2_UC_NFD			0x20	/* has a canonical decomposition */
#define SST2_UC_LOWER		0x40	/* lowercase is in sst2_uc_lower, not
									 * utf8proc_tolower */
#define SST2_UC_CCC			0x80	/* nonzero canonical combining class */

/* code points lo..hi whose utf8proc-derived flags are XORed with flip */
typedef struct sst2_uc_range
{
	uint32_t	lo;
	uint32_t	hi;
	uint8_t		flip;
} sst2_uc_range;

/* a lowercase mapping: cp -> pool[off .. off + len - 1] */
typedef struct sst2_uc_map
{
	uint32_t	cp;
	uint16_t	off;
	uint16_t	len;
} sst2_uc_map;

extern const uint8_t sst2_uc_ascii[128];
extern const sst2_uc_range sst2_uc_except[];
extern const int sst2_uc_except_count;
extern const sst2_uc_map sst2_uc_lower[];
extern const uint32_t sst2_uc_lower_pool[];
extern const int sst2_uc_lower_count;

/*
 * What utf8proc alone says about code point c (< 0x110000): flags from its
 * general category (Cc/Cf/Cs/Co: REMOVE, except tab, newline and carriage
 * return, which are CLEAN_WS like Zs/Zl/Zp; Mn: MN; P*: PUNCT), its
 * canonical decomposition (NFD, Hangul syllables included) and combining
 * class (CCC).  Never CHINESE or LOWER.  sst2_uc_flags corrects this.
 */
static inline unsigned
sst2_uc_base_flags(uint32_t c)
{
	static const uint8_t cat_flags[32] = {
		[UTF8PROC_CATEGORY_MN] = SST2_UC_MN,
		[UTF8PROC_CATEGORY_PC] = SST2_UC_PUNCT,
		[UTF8PROC_CATEGORY_PD] = SST2_UC_PUNCT,
		[UTF8PROC_CATEGORY_PS] = SST2_UC_PUNCT,
		[UTF8PROC_CATEGORY_PE] = SST2_UC_PUNCT,
		[UTF8PROC_CATEGORY_PI] = SST2_UC_PUNCT,
		[UTF8PROC_CATEGORY_PF] = SST2_UC_PUNCT,
		[UTF8PROC_CATEGORY_PO] = SST2_UC_PUNCT,
		[UTF8PROC_CATEGORY_ZS] = SST2_UC_CLEAN_WS,
		[UTF8PROC_CATEGORY_ZL] = SST2_UC_CLEAN_WS,
		[UTF8PROC_CATEGORY_ZP] = SST2_UC_CLEAN_WS,
		[UTF8PROC_CATEGORY_CC] = SST2_UC_REMOVE,
		[UTF8PROC_CATEGORY_CF] = SST2_UC_REMOVE,
		[UTF8PROC_CATEGORY_CS] = SST2_UC_REMOVE,
		[UTF8PROC_CATEGORY_CO] = SST2_UC_REMOVE,
	};
	const utf8proc_property_t *p = utf8proc_get_property((utf8proc_int32_t) c);
	unsigned	f = cat_flags[p->category & 31];

	if (c == '\t' || c == '\n' || c == '\r')
		f = SST2_UC_CLEAN_WS;
	if ((p->decomp_seqindex != UINT16_MAX && p->decomp_type == 0) ||
		c - 0xAC00 < 11172)
		f |= SST2_UC_NFD;
	if (p->combining_class)
		f |= SST2_UC_CCC;
	return f;
}

/*
 * The exception flips for code point c: binary search of sst2_uc_except
 * (0 when c is in no range).
 */
static inline unsigned
sst2_uc_except_flip(uint32_t c)
{
	int			lo = 0,
				hi = sst2_uc_except_count - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) >> 1;
		const sst2_uc_range *r = &sst2_uc_except[mid];

		if (c < r->lo)
			hi = mid - 1;
		else if (c > r->hi)
			lo = mid + 1;
		else
			return r->flip;
	}
	return 0;
}

/* Hugging Face's flags of code point c (c < 0x110000). */
static inline unsigned
sst2_uc_flags(uint32_t c)
{
	return sst2_uc_base_flags(c) ^ sst2_uc_except_flip(c);
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

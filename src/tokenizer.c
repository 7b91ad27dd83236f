/*
 * tokenizer.c
 *	  BERT WordPiece tokenizer, identical in output to Hugging Face's
 *	  BertTokenizerFast (tokenizers' BertNormalizer + BertPreTokenizer +
 *	  WordPiece + [CLS]/[SEP] template, special tokens matched first).
 *
 *	  The text is processed as one stream, code point by code point, in the
 *	  order Hugging Face applies its steps to the whole string:
 *
 *	    special tokens ([CLS], [SEP], [UNK], [PAD], [MASK], matched verbatim in
 *	    the raw text) -> clean_text -> handle_chinese_chars -> NFD and
 *	    strip_accents (canonical reordering of surviving marks) -> lowercase
 *	    -> split on whitespace and punctuation -> WordPiece
 *
 *	  This is exact because NFD reorders only runs of combining marks, which
 *	  never span a space, a CJK ideograph or a special token, and because every
 *	  other step works one code point at a time.  Each per-code-point decision
 *	  (category, canonical decomposition and combining class, lowercase) comes
 *	  from utf8proc, corrected where Hugging Face disagrees (its categories and
 *	  NFD are older Unicode, its lowercase newer) by small exception tables
 *	  generated from the Hugging Face library itself (unicode_tables.c, see
 *	  tools/gen_unicode_tables.js).  ASCII takes a table-driven fast path.
 *
 *	  Streaming lets truncation stop the work once max_ids - 2 word pieces
 *	  exist, and keeps all per-call state in a small struct on the stack.
 */
#include "sst2_core.h"
#include "unicode_tables.h"
#include "vocab.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#define MAX_WORD_CHARS	100		/* max_input_chars_per_word */
#define WORD_BYTES		(MAX_WORD_CHARS * 4 + 8)
#define REORDER_MAX		128		/* buffered combining marks awaiting reordering */

/* ---------------------------------------------------------------- tokenizing */

/* Per-call state of the streaming pipeline (lives on the caller's stack). */
typedef struct tk_state
{
	const sst2_tokenizer *tok;
	int32_t    *ids;			/* word piece output */
	int			n;				/* pieces written */
	int			limit;			/* pieces wanted */
	bool		done;			/* limit reached: stop */
	/* debugging mode: words go to cb instead of WordPiece */
	void		(*cb) (void *arg, const char *word, size_t wlen, int special);
	void	   *cb_arg;
	/* current word */
	int			wchars;			/* code points so far */
	size_t		wbytes;
	bool		woverflow;		/* more than MAX_WORD_CHARS */
	/* combining marks awaiting canonical reordering (strip mode) */
	int			rn;
	uint32_t	rbuf[REORDER_MAX];
	char		word[WORD_BYTES];
} tk_state;

/* Append one id to the output; sets done once the limit is reached. */
static inline void
push_id(tk_state *st, int32_t id)
{
	if (st->n < st->limit)
		st->ids[st->n++] = id;
	if (st->n >= st->limit)
		st->done = true;
}

/*
 * WordPiece on the current word: greedy longest match from the left,
 * continuation pieces looked up without their "##"; any unmatchable rest
 * makes the whole word [UNK].
 */
static void
wordpiece(tk_state *st)
{
	const sst2_tokenizer *tok = st->tok;
	const char *w = st->word;
	size_t		wlen = st->wbytes;
	size_t		start = 0;
	int32_t		pieces[MAX_WORD_CHARS];
	int			np = 0;

	while (start < wlen)
	{
		size_t		maxb = start ? tok->max_cont_len : tok->max_main_len;
		size_t		end = (wlen - start > maxb) ? start + maxb : wlen;
		int32_t		id = -1;

		while (end > start && end < wlen && ((unsigned char) w[end] & 0xC0) == 0x80)
			end--;
		while (end > start)
		{
			id = start ?
				table_lookup(tok, tok->cont_tab, tok->cont_mask, 2, w + start, end - start) :
				table_lookup(tok, tok->main_tab, tok->main_mask, 0, w, end);
			if (id >= 0)
				break;
			end--;
			while (end > start && ((unsigned char) w[end] & 0xC0) == 0x80)
				end--;
		}
		if (id < 0)
		{
			push_id(st, tok->unk_id);
			return;
		}
		pieces[np++] = id;
		start = end;
	}
	for (int i = 0; i < np && !st->done; i++)
		push_id(st, pieces[i]);
}

/* End the current word (if any): WordPiece it, or hand it to the callback. */
static inline void
end_word(tk_state *st)
{
	if (st->wchars == 0)
		return;
	if (st->cb)
		st->cb(st->cb_arg, st->word, st->wbytes, st->woverflow ? -2 : -1);
	else if (st->woverflow)
		push_id(st, st->tok->unk_id);
	else
		wordpiece(st);
	st->wchars = 0;
	st->wbytes = 0;
	st->woverflow = false;
}

/* Append a code point to the current word. */
static inline void
word_append(tk_state *st, uint32_t c)
{
	char	   *p;

	if (st->woverflow)
		return;
	if (st->wchars == MAX_WORD_CHARS)
	{
		st->woverflow = true;
		/* the word will be one [UNK]: if that is the last piece wanted, stop */
		if (!st->cb && st->n == st->limit - 1)
		{
			push_id(st, st->tok->unk_id);
			st->wchars = 0;
			st->wbytes = 0;
			st->woverflow = false;
		}
		return;
	}
	p = st->word + st->wbytes;
	if (c < 0x80)
	{
		p[0] = (char) c;
		st->wbytes += 1;
	}
	else if (c < 0x800)
	{
		p[0] = (char) (0xC0 | (c >> 6));
		p[1] = (char) (0x80 | (c & 0x3F));
		st->wbytes += 2;
	}
	else if (c < 0x10000)
	{
		p[0] = (char) (0xE0 | (c >> 12));
		p[1] = (char) (0x80 | ((c >> 6) & 0x3F));
		p[2] = (char) (0x80 | (c & 0x3F));
		st->wbytes += 3;
	}
	else
	{
		p[0] = (char) (0xF0 | (c >> 18));
		p[1] = (char) (0x80 | ((c >> 12) & 0x3F));
		p[2] = (char) (0x80 | ((c >> 6) & 0x3F));
		p[3] = (char) (0x80 | (c & 0x3F));
		st->wbytes += 4;
	}
	st->wchars++;
}

/*
 * Pre-tokenizer on a fully normalized code point: punctuation is a word of
 * its own, everything else extends the current word.  (Whitespace never
 * reaches this point: clean_text already turned it into a word boundary, and
 * no decomposition or lowercase mapping of a kept character yields any.)
 */
static inline void
emit_char(tk_state *st, uint32_t c, unsigned f)
{
	if (f & SST2_UC_PUNCT)
	{
		end_word(st);
		if (st->done)
			return;
		word_append(st, c);
		end_word(st);
	}
	else
		word_append(st, c);
}

/* Binary search of a generated mapping table; NULL when c is absent. */
static const sst2_uc_map *
uc_map_find(const sst2_uc_map *tab, int n, uint32_t c)
{
	int			lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) >> 1;

		if (tab[mid].cp == c)
			return &tab[mid];
		if (tab[mid].cp < c)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/* Hugging Face's flags of code point c (see unicode_tables.h). */
static inline unsigned
uc_flags(uint32_t c)
{
	return c < 0x80 ? sst2_uc_ascii[c] : sst2_uc_flags(c);
}

/*
 * Lowercase stage (when enabled), then the pre-tokenizer.  Rust's
 * char::to_lowercase is utf8proc's simple mapping except for the code points
 * flagged LOWER, whose mappings are listed in sst2_uc_lower.
 */
static inline void
lower_char(tk_state *st, uint32_t c, unsigned f)
{
	if (!st->tok->opt.lowercase)
		emit_char(st, c, f);
	else if (c < 0x80)
	{
		if (c - 'A' < 26)
		{
			c += 32;
			f = sst2_uc_ascii[c];
		}
		emit_char(st, c, f);
	}
	else if (f & SST2_UC_LOWER)
	{
		const sst2_uc_map *m = uc_map_find(sst2_uc_lower, sst2_uc_lower_count, c);

		for (int i = 0; i < m->len; i++)
		{
			uint32_t	x = sst2_uc_lower_pool[m->off + i];

			emit_char(st, x, uc_flags(x));
		}
	}
	else
	{
		uint32_t	x = (uint32_t) utf8proc_tolower((utf8proc_int32_t) c);

		emit_char(st, x, x == c ? f : uc_flags(x));
	}
}

/* Send the buffered combining marks on, in canonical order (stable by ccc). */
static void
flush_marks(tk_state *st)
{
	uint8_t		ccc[REORDER_MAX];
	int			n = st->rn;

	if (n == 0)
		return;
	for (int i = 0; i < n; i++)
		ccc[i] = (uint8_t) utf8proc_get_property((utf8proc_int32_t) st->rbuf[i])->combining_class;
	for (int i = 1; i < n; i++)
	{
		uint32_t	c = st->rbuf[i];
		uint8_t		k = ccc[i];
		int			j = i - 1;

		while (j >= 0 && ccc[j] > k)
		{
			st->rbuf[j + 1] = st->rbuf[j];
			ccc[j + 1] = ccc[j];
			j--;
		}
		st->rbuf[j + 1] = c;
		ccc[j + 1] = k;
	}
	st->rn = 0;
	for (int i = 0; i < n; i++)
		lower_char(st, st->rbuf[i], uc_flags(st->rbuf[i]));
}

/*
 * One code point of a canonical decomposition, in strip_accents mode: marks
 * with a nonzero combining class wait in rbuf for canonical reordering, any
 * other code point (a starter) ends the run; nonspacing marks are dropped
 * then, which keeps a dropped starter between two runs a barrier to
 * reordering, as in Hugging Face (NFD of the whole text, then the filter).
 */
static inline void
strip_char(tk_state *st, uint32_t d, unsigned f)
{
	if (f & SST2_UC_CCC)
	{
		if (f & SST2_UC_MN)
			return;
		/* a run this long is inside a word of > 100 chars: order is moot */
		if (st->rn == REORDER_MAX)
			flush_marks(st);
		st->rbuf[st->rn++] = d;
		return;
	}
	if (st->rn)
		flush_marks(st);
	if (f & SST2_UC_MN)
		return;
	lower_char(st, d, f);
}

/* A code point that survived clean_text: NFD + strip_accents, lowercase, split. */
static void
normalize_char(tk_state *st, uint32_t c, unsigned f)
{
	if (!st->tok->strip)
	{
		lower_char(st, c, f);
		return;
	}
	if (!(f & SST2_UC_NFD))
		strip_char(st, c, f);
	else
	{
		/* full canonical decomposition (Hangul too), at most 4 code points */
		utf8proc_int32_t d[8];
		utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t) c, d, 8,
													 UTF8PROC_DECOMPOSE, NULL);

		for (utf8proc_ssize_t i = 0; i < n && i < 8; i++)
			strip_char(st, (uint32_t) d[i], uc_flags((uint32_t) d[i]));
	}
}

/* A word boundary in the raw text (space, CJK padding, special token). */
static inline void
boundary(tk_state *st)
{
	if (st->rn)
		flush_marks(st);
	if (!st->done)
		end_word(st);
}

/*
 * Decode one UTF-8 sequence at p (p < end).  Returns the number of bytes
 * consumed and stores the code point, or 0xFFFD for an ill-formed sequence
 * (its maximal valid prefix, at least one byte, is consumed).
 */
static inline int
utf8_decode(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
	unsigned	b = p[0];
	int			need;
	uint32_t	c;
	unsigned	lo = 0x80,
				hi = 0xBF;

	if (b < 0x80)
	{
		*cp = b;
		return 1;
	}
	if (b >= 0xC2 && b <= 0xDF)
	{
		need = 1;
		c = b & 0x1F;
	}
	else if (b >= 0xE0 && b <= 0xEF)
	{
		need = 2;
		c = b & 0x0F;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F;
	}
	else if (b >= 0xF0 && b <= 0xF4)
	{
		need = 3;
		c = b & 0x07;
		if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;
	}
	else
	{
		*cp = 0xFFFD;
		return 1;
	}
	for (int i = 1; i <= need; i++)
	{
		unsigned	x;

		if (p + i >= end)
		{
			*cp = 0xFFFD;
			return i;
		}
		x = p[i];
		if (x < lo || x > hi)
		{
			*cp = 0xFFFD;
			return i;
		}
		lo = 0x80;
		hi = 0xBF;
		c = (c << 6) | (x & 0x3F);
	}
	*cp = c;
	return need + 1;
}

/* Run the whole pipeline over text, feeding st (see the file header). */
static void
run_pipeline(tk_state *st, const char *text, size_t len)
{
	const sst2_tokenizer *tok = st->tok;
	const unsigned char *p = (const unsigned char *) text;
	const unsigned char *end = p + len;

	while (p < end && !st->done)
	{
		uint32_t	c = *p;
		unsigned	f;

		if (c < 0x80 && sst2_uc_ascii[c] == 0)
		{
			/*
			 * Fast path, ASCII letter or digit: kept, a starter (ends a run
			 * of marks), not decomposed, not isolated by the pre-tokenizer
			 */
			if (st->rn)
				flush_marks(st);
			if (tok->opt.lowercase && c - 'A' < 26)
				c += 32;
			word_append(st, c);
			p++;
			continue;
		}
		if (c == '[' && tok->n_special)
		{
			int			k;

			for (k = 0; k < tok->n_special; k++)
			{
				const special_token *s = &tok->special[k];

				if ((size_t) (end - p) >= (size_t) s->len &&
					memcmp(p, s->text, s->len) == 0)
					break;
			}
			if (k < tok->n_special)
			{
				boundary(st);
				if (st->done)
					break;
				if (st->cb)
					st->cb(st->cb_arg, NULL, 0, tok->special[k].id);
				else
					push_id(st, tok->special[k].id);
				p += tok->special[k].len;
				continue;
			}
		}
		p += utf8_decode(p, end, &c);
		f = uc_flags(c);
		if (f & SST2_UC_REMOVE)
			continue;			/* includes U+0000 and U+FFFD */
		if (f & SST2_UC_CLEAN_WS)
		{
			boundary(st);
			continue;
		}
		if ((f & SST2_UC_CHINESE) && tok->opt.chinese_chars)
		{
			boundary(st);
			if (st->done)
				break;
			normalize_char(st, c, f);
			boundary(st);
			continue;
		}
		normalize_char(st, c, f);
	}
	if (!st->done)
		boundary(st);
}

/*
 * Tokenize text into [CLS] pieces [SEP], keeping at most max_ids - 2 pieces;
 * see sst2_core.h.
 */
int
sst2_tokenize(const sst2_tokenizer *tok, const char *text, size_t len,
			  int32_t *ids, int max_ids)
{
	tk_state	st;

	if (max_ids < 2)
		return -1;
	st.tok = tok;
	st.ids = ids + 1;
	st.n = 0;
	st.limit = max_ids - 2;
	st.done = st.limit == 0;
	st.cb = NULL;
	st.cb_arg = NULL;
	st.wchars = 0;
	st.wbytes = 0;
	st.woverflow = false;
	st.rn = 0;
	ids[0] = tok->cls_id;
	if (text && len > 0)
		run_pipeline(&st, text, len);
	ids[st.n + 1] = tok->sep_id;
	return st.n + 2;
}

/* Debugging entry point: words of the pre-tokenizer (see unicode_tables.h). */
void
sst2_tokenizer_pretokenize(const sst2_tokenizer *tok, const char *text,
						   size_t len,
						   void (*cb) (void *arg, const char *word,
									   size_t wlen, int special),
						   void *arg)
{
	tk_state	st;

	st.tok = tok;
	st.ids = NULL;
	st.n = 0;
	st.limit = 1;
	st.done = false;
	st.cb = cb;
	st.cb_arg = arg;
	st.wchars = 0;
	st.wbytes = 0;
	st.woverflow = false;
	st.rn = 0;
	run_pipeline(&st, text, len);
}

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
	/* word spans (sst2_tokenize_words): NULL when not wanted */
	sst2_word  *words;
	int			nw;
	size_t		cs,
				ce;				/* byte span in the input of the code point being processed */
	size_t		ws,
				we;				/* byte span of the current word */
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
	bool		rmn[REORDER_MAX];	/* rbuf[i] is a nonspacing mark (to drop) */
	bool		rins[REORDER_MAX];	/* rbuf[i] is not the first of its decomposition */
	int			nq;				/* input spans of the marks that were first of theirs, */
	size_t		qstart[REORDER_MAX];	/* in input order */
	size_t		qend[REORDER_MAX];
	size_t		lstart,
				lend;			/* span of the run's first mark's source char */
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

/*
 * When word spans are wanted: the pieces pushed since n0 (if any) came from
 * one word, whose bytes in the input are [start, end).
 */
static inline void
record_word(tk_state *st, int n0, size_t start, size_t end)
{
	if (st->words && st->n > n0)
	{
		sst2_word  *w = &st->words[st->nw++];

		w->start = start;
		w->end = end;
		w->first_id = n0 + 1;	/* after [CLS] */
		w->n_ids = st->n - n0;
	}
}

/* End the current word (if any): WordPiece it, or hand it to the callback. */
static inline void
end_word(tk_state *st)
{
	int			n0;

	if (st->wchars == 0)
		return;
	n0 = st->n;
	if (st->cb)
		st->cb(st->cb_arg, st->word, st->wbytes, st->woverflow ? -2 : -1);
	else if (st->woverflow)
		push_id(st, st->tok->unk_id);
	else
		wordpiece(st);
	record_word(st, n0, st->ws, st->we);
	st->wchars = 0;
	st->wbytes = 0;
	st->woverflow = false;
}

/* Append a code point to the current word. */
static inline void
word_append(tk_state *st, uint32_t c)
{
	char	   *p;

	if (!st->words)
		;						/* spans not wanted */
	else if (st->wchars == 0 && !st->woverflow)
	{
		st->ws = st->cs;
		st->we = st->ce;
	}
	else
	{
		if (st->cs < st->ws)
			st->ws = st->cs;
		if (st->ce > st->we)
			st->we = st->ce;
	}
	if (st->woverflow)
		return;
	if (st->wchars == MAX_WORD_CHARS)
	{
		st->woverflow = true;
		/* the word will be one [UNK]: if that is the last piece wanted, stop */
		if (!st->cb && !st->words && st->n == st->limit - 1)
		{
			int			n0 = st->n;

			push_id(st, st->tok->unk_id);
			record_word(st, n0, st->ws, st->we);
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

/*
 * Send the buffered combining marks on, in canonical order (stable by ccc),
 * dropping the nonspacing ones.  Spans follow Hugging Face's alignments
 * through NFD: in sorted order, a mark that was the first code point of its
 * decomposition takes the next input span of the run (in input order), one
 * that was not (an insertion) repeats the span taken last.
 */
static void
flush_marks(tk_state *st)
{
	uint8_t		ccc[REORDER_MAX];
	int			n = st->rn;
	int			q = 0;
	size_t		cs = st->cs,
				ce = st->ce;

	if (n == 0)
		return;
	for (int i = 0; i < n; i++)
		ccc[i] = (uint8_t) utf8proc_get_property((utf8proc_int32_t) st->rbuf[i])->combining_class;
	for (int i = 1; i < n; i++)
	{
		uint32_t	c = st->rbuf[i];
		bool		mn = st->rmn[i],
					ins = st->rins[i];
		uint8_t		k = ccc[i];
		int			j = i - 1;

		while (j >= 0 && ccc[j] > k)
		{
			st->rbuf[j + 1] = st->rbuf[j];
			st->rmn[j + 1] = st->rmn[j];
			st->rins[j + 1] = st->rins[j];
			ccc[j + 1] = ccc[j];
			j--;
		}
		st->rbuf[j + 1] = c;
		st->rmn[j + 1] = mn;
		st->rins[j + 1] = ins;
		ccc[j + 1] = k;
	}
	st->rn = 0;
	st->cs = st->lstart;
	st->ce = st->lend;
	for (int i = 0; i < n; i++)
	{
		if (!st->rins[i] && q < st->nq)
		{
			st->cs = st->qstart[q];
			st->ce = st->qend[q];
			q++;
		}
		if (!st->rmn[i])
			lower_char(st, st->rbuf[i], uc_flags(st->rbuf[i]));
	}
	st->nq = 0;
	st->cs = cs;
	st->ce = ce;
}

/*
 * One code point of a canonical decomposition, in strip_accents mode (ins:
 * not the first code point of its decomposition): marks with a nonzero
 * combining class wait in rbuf for canonical reordering (the nonspacing ones
 * too, for the spans: see flush_marks), any other code point (a starter)
 * ends the run; nonspacing marks are dropped then, which keeps a dropped
 * starter between two runs a barrier to reordering, as in Hugging Face (NFD
 * of the whole text, then the filter).
 */
static inline void
strip_char(tk_state *st, uint32_t d, unsigned f, bool ins)
{
	if (f & SST2_UC_CCC)
	{
		if (st->rn == REORDER_MAX)
		{
			/*
			 * A run this long: first make room by forgetting the nonspacing
			 * marks (the kept marks' order is unchanged; only spans in such a
			 * run may differ); a buffer full of kept marks is inside a word
			 * of > 100 chars, where order is moot.
			 */
			int			k = 0;

			for (int i = 0; i < st->rn; i++)
				if (!st->rmn[i])
				{
					st->rbuf[k] = st->rbuf[i];
					st->rmn[k] = false;
					st->rins[k] = true;
					k++;
				}
			st->rn = k;
			if (st->rn == REORDER_MAX)
				flush_marks(st);
		}
		if (st->rn == 0)
		{
			st->nq = 0;
			st->lstart = st->cs;
			st->lend = st->ce;
		}
		if (!ins && st->nq < REORDER_MAX)
		{
			st->qstart[st->nq] = st->cs;
			st->qend[st->nq] = st->ce;
			st->nq++;
		}
		st->rbuf[st->rn] = d;
		st->rmn[st->rn] = (f & SST2_UC_MN) != 0;
		st->rins[st->rn] = ins;
		st->rn++;
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
		strip_char(st, c, f, false);
	else
	{
		/* full canonical decomposition (Hangul too), at most 4 code points */
		utf8proc_int32_t d[8];
		utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t) c, d, 8,
													 UTF8PROC_DECOMPOSE, NULL);

		for (utf8proc_ssize_t i = 0; i < n && i < 8; i++)
			strip_char(st, (uint32_t) d[i], uc_flags((uint32_t) d[i]), i > 0);
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
			if (st->words)
			{
				st->cs = (size_t) (p - (const unsigned char *) text);
				st->ce = st->cs + 1;
			}
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
				{
					int			n0 = st->n;
					size_t		at = (size_t) (p - (const unsigned char *) text);

					push_id(st, tok->special[k].id);
					record_word(st, n0, at, at + tok->special[k].len);
				}
				p += tok->special[k].len;
				continue;
			}
		}
		st->cs = (size_t) (p - (const unsigned char *) text);
		p += utf8_decode(p, end, &c);
		st->ce = (size_t) (p - (const unsigned char *) text);
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

/* Start a call's state: no pieces yet, room for limit pieces at ids. */
static void
tk_init(tk_state *st, const sst2_tokenizer *tok, int32_t *ids, int limit)
{
	memset(st, 0, offsetof(tk_state, rbuf));
	st->tok = tok;
	st->ids = ids;
	st->limit = limit;
	st->done = limit == 0;
}

/* [CLS] pieces [SEP] into ids (see sst2_tokenize), word spans into words when not NULL. */
static int
tokenize_into(const sst2_tokenizer *tok, const char *text, size_t len,
			  int32_t *ids, int max_ids, sst2_word *words, int *n_words)
{
	tk_state	st;

	if (max_ids < 2)
		return -1;
	tk_init(&st, tok, ids + 1, max_ids - 2);
	st.words = words;
	ids[0] = tok->cls_id;
	if (text && len > 0)
		run_pipeline(&st, text, len);
	ids[st.n + 1] = tok->sep_id;
	if (n_words)
		*n_words = st.nw;
	return st.n + 2;
}

/*
 * Tokenize text into [CLS] pieces [SEP], keeping at most max_ids - 2 pieces;
 * see sst2_core.h.
 */
int
sst2_tokenize(const sst2_tokenizer *tok, const char *text, size_t len,
			  int32_t *ids, int max_ids)
{
	return tokenize_into(tok, text, len, ids, max_ids, NULL, NULL);
}

/* sst2_tokenize, plus the pre-tokenizer's words behind the pieces; see sst2_core.h. */
int
sst2_tokenize_words(const sst2_tokenizer *tok, const char *text, size_t len,
					int32_t *ids, int max_ids, sst2_word *words, int *n_words)
{
	return tokenize_into(tok, text, len, ids, max_ids, words, n_words);
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

	tk_init(&st, tok, NULL, 1);
	st.cb = cb;
	st.cb_arg = arg;
	run_pipeline(&st, text, len);
}

/*
 * uc_probe.c
 *	  Print what utf8proc says about every Unicode scalar value, for
 *	  tools/gen_unicode_tables.js (which compiles and runs this program).
 *
 *	  One line per code point (surrogates skipped), hexadecimal fields:
 *	    CP BASEFLAGS CCC TOLOWER DECOMPOSITION...
 *	  BASEFLAGS is sst2_uc_base_flags (src/unicode_tables.h), the flags the
 *	  tokenizer derives from utf8proc before applying the exception tables;
 *	  DECOMPOSITION is utf8proc_decompose_char with UTF8PROC_DECOMPOSE (the
 *	  full canonical decomposition, not yet canonically ordered), exactly
 *	  what the tokenizer uses.  With --version, print utf8proc's version and
 *	  Unicode version instead.
 */
#include "unicode_tables.h"

#include <stdio.h>
#include <string.h>

/* Probe every code point; see the file header. */
int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0)
	{
		printf("%s (Unicode %s)\n", utf8proc_version(),
			   utf8proc_unicode_version());
		return 0;
	}
	for (uint32_t c = 0; c < 0x110000; c++)
	{
		utf8proc_int32_t d[16];
		utf8proc_ssize_t n;

		if (c >= 0xD800 && c < 0xE000)
			continue;
		n = utf8proc_decompose_char((utf8proc_int32_t) c, d, 16,
									UTF8PROC_DECOMPOSE, NULL);
		if (n < 1 || n > 16)
		{
			fprintf(stderr, "uc_probe: decomposition of U+%04X failed\n", c);
			return 1;
		}
		printf("%x %x %x %x", c, sst2_uc_base_flags(c),
			   utf8proc_get_property((utf8proc_int32_t) c)->combining_class,
			   (unsigned) utf8proc_tolower((utf8proc_int32_t) c));
		for (utf8proc_ssize_t i = 0; i < n; i++)
			printf(" %x", (unsigned) d[i]);
		putchar('\n');
	}
	return 0;
}

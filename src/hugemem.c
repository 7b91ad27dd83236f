/*
 * hugemem.c
 *	  Private anonymous memory placed where transparent huge pages can back
 *	  it: the kernel gives a huge page only to a 2 MB-aligned 2 MB range of
 *	  a region that asked for it (MADV_HUGEPAGE), and mmap aligns to 4 KB.
 *	  So map 2 MB more than asked, keep the part that starts at the wanted
 *	  offset within a huge page, and give the rest back.
 *
 *	  Two users: a preloading postmaster's copy of the weights
 *	  (weights_anon.c: fork copies one page-table entry per huge page) and
 *	  the forward pass's workspace (forward.c: a new backend's first pass
 *	  writes hundreds of fresh pages; on huge pages that is one fault per
 *	  2 MB instead of one per 4 KB).
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hugemem.h"

/* scripts/valgrind.sh builds with SST2_MEMCHECK: memcheck then knows what is unset */
#ifdef SST2_MEMCHECK
#include <valgrind/memcheck.h>
#endif

/* See hugemem.h. */
bool
sst2_thp_available(void)
{
	static int	known = -1;
	char		buf[128] = "";
	FILE	   *f;

	if (known >= 0)
		return known;
	f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f)
	{
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	known = strstr(buf, "[always]") != NULL || strstr(buf, "[madvise]") != NULL;
	return known;
}

/* See hugemem.h. */
size_t
sst2_page_round(size_t len)
{
	size_t		page = (size_t) sysconf(_SC_PAGESIZE);

	return (len + page - 1) & ~(page - 1);
}

/*
 * See hugemem.h.  A region that starts on a huge-page boundary is mapped in
 * whole huge pages: a partial one at its end would stay in 4 KB pages, and
 * in a virtual machine that builds a new process's page tables itself, a
 * forked backend pays for each 4 KB page on first touch about what it pays
 * for a whole huge page (1.4 MB of 4 KB pages at the end of a preloaded
 * model's gathered tensors cost a new backend's first call about 4 ms).
 */
size_t
sst2_huge_len(size_t len, uintptr_t phase)
{
	size_t		plen = sst2_page_round(len);

	if (plen < len)
		return SIZE_MAX;
	if ((phase & (SST2_HUGE_PAGE - 1)) == 0 && sst2_thp_available() &&
		plen <= SIZE_MAX - SST2_HUGE_PAGE)
		plen = (plen + SST2_HUGE_PAGE - 1) & ~(size_t) (SST2_HUGE_PAGE - 1);
	return plen;
}

/* See hugemem.h. */
void *
sst2_huge_map(size_t len, uintptr_t phase)
{
	size_t		plen = sst2_huge_len(len, phase),
				span;
	uintptr_t	r,
				b;

	if (len == 0 || plen == SIZE_MAX || plen > SIZE_MAX - 2 * SST2_HUGE_PAGE)
		return NULL;
	span = plen + 2 * SST2_HUGE_PAGE;
	r = (uintptr_t) mmap(NULL, span, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if ((void *) r == MAP_FAILED)
		return NULL;
	b = ((r + SST2_HUGE_PAGE - 1) & ~(SST2_HUGE_PAGE - 1)) + (phase & (SST2_HUGE_PAGE - 1));
	if (b > r)
		munmap((void *) r, b - r);
	if (r + span > b + plen)
		munmap((void *) (b + plen), r + span - (b + plen));
	(void) madvise((void *) b, plen, MADV_HUGEPAGE);
#ifdef SST2_MEMCHECK
	/* it reads as zeros, but no caller may count on that (malloc's rule) */
	VALGRIND_MAKE_MEM_UNDEFINED((void *) b, plen);
#endif
	return (void *) b;
}

/* See hugemem.h. */
void
sst2_huge_unmap(void *p, size_t len)
{
	if (p)
		munmap(p, sst2_huge_len(len, (uintptr_t) p));
}

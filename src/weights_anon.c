/*
 * weights_anon.c
 *	  A model's weights moved out of their file mappings into private
 *	  anonymous memory on transparent huge pages, at the same addresses, for
 *	  a process that forks workers which read the model (PostgreSQL's
 *	  postmaster with shared_preload_libraries).
 *
 *	  fork() does not copy the page tables of shared file mappings: every
 *	  child faults the whole model in again, 4 KB (or one fault-around
 *	  window) at a time, on its first forward pass.  fork() does copy the
 *	  page tables of private anonymous memory, and on huge pages that is one
 *	  entry per 2 MB: the child reads the weights at once.  The copy is
 *	  read-only and shared copy-on-write by the postmaster and all its
 *	  children, so it costs the model's size once (the file's page cache
 *	  stays reclaimable beside it).  Without transparent huge pages
 *	  (/sys/kernel/mm/transparent_hugepage/enabled = never) nothing is moved:
 *	  a 4 KB copy would make every fork copy one page-table entry per 4 KB.
 *
 *	  The addresses do not change (mremap over the file mapping), so every
 *	  weight pointer of the model stays valid and the fault guard's ranges
 *	  simply never fault again.
 */
/* mremap and MREMAP_FIXED are Linux's: ask for them whatever the build's flags */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model.h"

#define HUGE_PAGE ((uintptr_t) 2 << 20)

/* Whether a region that asks (MADV_HUGEPAGE) can get transparent huge pages. */
static bool
thp_available(void)
{
	char		buf[128] = "";
	FILE	   *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strstr(buf, "[always]") != NULL || strstr(buf, "[madvise]") != NULL;
}

/*
 * Replace the read-only file mapping [addr, addr + len) by a read-only
 * anonymous copy on huge pages at the same address.  False (the file
 * mapping left as it was) when memory or the kernel says no.
 */
static bool
move_to_anon(void *addr, size_t len)
{
	uintptr_t	page = (uintptr_t) sysconf(_SC_PAGESIZE);
	size_t		plen = (len + page - 1) & ~(page - 1);
	size_t		span = plen + 2 * HUGE_PAGE;
	uintptr_t	r,
				b;

	r = (uintptr_t) mmap(NULL, span, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if ((void *) r == MAP_FAILED)
		return false;

	/*
	 * b: the same offset within a huge page as addr, so the huge pages are
	 * where they must be for mremap to move them whole
	 */
	b = ((r + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1)) + ((uintptr_t) addr & (HUGE_PAGE - 1));
	if (b > r)
		munmap((void *) r, b - r);
	if (r + span > b + plen)
		munmap((void *) (b + plen), r + span - (b + plen));
	(void) madvise((void *) b, plen, MADV_HUGEPAGE);
	memcpy((void *) b, addr, len);
	if (mprotect((void *) b, plen, PROT_READ) != 0 ||
		mremap((void *) b, plen, plen, MREMAP_MAYMOVE | MREMAP_FIXED, addr) == MAP_FAILED)
	{
		munmap((void *) b, plen);
		return false;
	}
	return true;
}

/* See sst2_core.h. */
size_t
sst2_model_to_anonymous(sst2_model *m)
{
	size_t		moved = 0;

	if (!thp_available())
		return 0;
	if (m->weights_file.map && move_to_anon((void *) m->weights_file.map, m->weights_file.map_size))
		moved += m->weights_file.map_size;
	if (m->conv.map && move_to_anon(m->conv.map, m->conv.map_size))
		moved += m->conv.map_size;
	if (m->qconv.map && move_to_anon(m->qconv.map, m->qconv.map_size))
		moved += m->qconv.map_size;
	return moved;
}

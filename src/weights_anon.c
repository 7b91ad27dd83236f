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
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hugemem.h"
#include "model.h"

/*
 * Replace the read-only file mapping [addr, addr + len) by a read-only
 * anonymous copy on huge pages at the same address.  False (the file
 * mapping left as it was) when memory or the kernel says no.
 */
static bool
move_to_anon(void *addr, size_t len)
{
	/*
	 * the copy at the same offset within a huge page as addr, so the huge
	 * pages are where they must be for mremap to move them whole
	 */
	void	   *b = sst2_huge_map(len, (uintptr_t) addr);
	const size_t page = (size_t) sysconf(_SC_PAGESIZE);
	const size_t plen = (len + page - 1) & ~(page - 1);

	if (!b)
		return false;
	memcpy(b, addr, len);
	if (mprotect(b, plen, PROT_READ) != 0 ||
		mremap(b, plen, plen, MREMAP_MAYMOVE | MREMAP_FIXED, addr) == MAP_FAILED)
	{
		sst2_huge_unmap(b, len);
		return false;
	}
	return true;
}

/* See sst2_core.h. */
size_t
sst2_model_to_anonymous(sst2_model *m)
{
	size_t		moved = 0;

	if (!sst2_thp_available())
		return 0;
	if (m->weights_file.map && move_to_anon((void *) m->weights_file.map, m->weights_file.map_size))
		moved += m->weights_file.map_size;
	if (m->conv.map && move_to_anon(m->conv.map, m->conv.map_size))
		moved += m->conv.map_size;
	if (m->qconv.map && move_to_anon(m->qconv.map, m->qconv.map_size))
		moved += m->qconv.map_size;
	return moved;
}

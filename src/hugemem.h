/*
 * hugemem.h
 *	  Internal to the sst2 core: private anonymous memory placed so that it
 *	  can sit on transparent huge pages (hugemem.c).
 */
#ifndef SST2_HUGEMEM_H
#define SST2_HUGEMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SST2_HUGE_PAGE ((uintptr_t) 2 << 20)

/* Whether a region that asks (MADV_HUGEPAGE) can get transparent huge pages. */
bool		sst2_thp_available(void);

/*
 * Map sst2_huge_len(len, phase) bytes of private anonymous read-write
 * memory starting at phase bytes past a huge-page boundary (phase <
 * SST2_HUGE_PAGE), and ask for huge pages.  NULL when the kernel says no.
 */
void	   *sst2_huge_map(size_t len, uintptr_t phase);

/* len rounded up to whole pages (less than len on overflow). */
size_t		sst2_page_round(size_t len);

/*
 * What sst2_huge_map(len, phase) maps: len rounded up to whole pages, and
 * to whole huge pages when phase is 0 and the kernel has them (SIZE_MAX on
 * overflow).
 */
size_t		sst2_huge_len(size_t len, uintptr_t phase);

/* Unmap what sst2_huge_map(len, ...) returned. */
void		sst2_huge_unmap(void *p, size_t len);

#endif							/* SST2_HUGEMEM_H */

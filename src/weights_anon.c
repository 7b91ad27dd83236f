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
 *	  What moves: the packed linear layers (the bf16/int8 or fp32-panel
 *	  cache) move whole, at the same addresses (mremap over the file
 *	  mapping), so the pointers into them stay valid.  When the six linear
 *	  layers of every block are read from that packing, the rest of what
 *	  the forward pass reads is gathered into one new region and the source
 *	  file is unmapped (gather_unpacked); otherwise (fp32 without AVX-512,
 *	  which reads the linear weights where they lie) the source file and its
 *	  fp32 conversion move whole, at the same addresses, too.
 */
/* mremap and MREMAP_FIXED are Linux's: ask for them whatever the build's flags */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hugemem.h"
#include "model.h"

/*
 * Claim [addr, addr + len) if nothing is mapped there: true when it is ours
 * (an inaccessible placeholder), or len is 0.
 */
static bool
claim_free(uintptr_t addr, size_t len)
{
	void	   *p;

	if (len == 0)
		return true;
	p = mmap((void *) addr, len, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return false;
	if (p != (void *) addr)
	{
		/* a kernel older than 4.17 takes the flag as a hint */
		munmap(p, len);
		return false;
	}
	return true;
}

/*
 * Replace the read-only file mapping [addr, addr + len) by a read-only
 * anonymous copy on huge pages at the same address.  False (the file
 * mapping left as it was) when memory or the kernel says no.
 *
 * With whole (not NULL), the copy also takes in the free address space
 * around the mapping up to the huge-page boundaries on either side, so that
 * its first and last huge pages are whole ones too (a partial one stays in
 * 4 KB pages, and in a virtual machine that builds a new process's page
 * tables itself each of those costs a forked backend's first pass about as
 * much as a whole huge page); *whole and *whole_size then say what to unmap.
 */
static bool
move_to_anon(void *addr, size_t len, void **whole, size_t *whole_size)
{
	const uintptr_t a = (uintptr_t) addr,
				end = a + sst2_page_round(len);
	uintptr_t	lo = a,
				hi = end;
	size_t		span,
				mapped;
	uint8_t    *b;

	if (whole)
	{
		lo = a & ~(SST2_HUGE_PAGE - 1);
		hi = (end + SST2_HUGE_PAGE - 1) & ~(SST2_HUGE_PAGE - 1);
		if (!claim_free(lo, a - lo))
			lo = a;
		if (!claim_free(end, hi - end))
			hi = end;
	}
	span = hi - lo;
	mapped = sst2_huge_len(span, lo);

	/*
	 * the copy at the same offset within a huge page as lo, so the huge
	 * pages are where they must be for mremap to move them whole
	 */
	b = sst2_huge_map(span, lo);
	if (b)
	{
		memcpy(b + (a - lo), addr, len);
		if (mprotect(b, span, PROT_READ) == 0 &&
			mremap(b, span, span, MREMAP_MAYMOVE | MREMAP_FIXED, (void *) lo) != MAP_FAILED)
		{
			/* only [lo, hi) moves; the rest of a whole huge page stays behind */
			if (mapped > span)
				munmap(b + span, mapped - span);
			if (whole)
			{
				*whole = (void *) lo;
				*whole_size = span;
			}
			return true;
		}
		sst2_huge_unmap(b, span);
	}
	/* give the claimed address space back */
	if (lo < a)
		munmap((void *) lo, a - lo);
	if (hi > end)
		munmap((void *) end, hi - end);
	return false;
}

/*
 * Whether the forward pass reads the six linear layers of every block from
 * their packing in m->qconv (bf16/int8 always; fp32 on AVX-512, fpack.c)
 * rather than from their source tensors.
 */
static bool
linear_layers_packed(const sst2_model *m)
{
	if (!m->qconv.data)
		return false;
	if (m->precision != SST2_PREC_FP32)
		return true;
	for (int l = 0; l < m->cfg.n_layers; l++)
		for (int q = 0; q < N_QL; q++)
			if (!m->layers[l].fpk[q])
				return false;
	return true;
}

/* Whether dst is the pointer of one of the six packed linear weights of a block. */
static bool
is_linear_weight(const sst2_model *m, const float *const *dst)
{
	for (int l = 0; l < m->cfg.n_layers; l++)
	{
		const layer_weights *w = &m->layers[l];

		if (dst == &w->q_w || dst == &w->k_w || dst == &w->v_w ||
			dst == &w->o_w || dst == &w->ff1_w || dst == &w->ff2_w)
			return true;
	}
	return false;
}

/* Bytes of one planned tensor's data. */
static size_t
spec_bytes(const tensor_spec *s)
{
	return (size_t) s->shape[0] * (size_t) (s->ndim == 2 ? s->shape[1] : 1) * sizeof(float);
}

/* The same, rounded up to a cache line: each copy starts on one. */
static size_t
spec_span(const tensor_spec *s)
{
	return (spec_bytes(s) + 63) & ~(size_t) 63;
}

/*
 * With the linear layers packed, the rest of what the forward pass reads
 * (embeddings, biases, LayerNorms, the head: about a third of the file, most
 * of it the word embeddings) is copied, tensor after tensor, into one
 * read-only region on huge pages and the model's pointers moved there; the
 * source file and its fp32 conversion are then unmapped, and the linear
 * weights' source pointers cleared (nothing reads them after packing).
 *
 * Besides not keeping the unread linear weights a second time, this packs
 * the small tensors, which lie between the large ones all through the file,
 * into a few pages: a new process pays for the first touch of every page it
 * reads (a page fault, or in a virtual machine possibly the hypervisor's own
 * work), so a first forward pass touching a few pages instead of one per
 * block of the file is faster.  False (nothing changed) when memory says no.
 */
static bool
gather_unpacked(sst2_model *m)
{
	int			n = sst2_model_n_specs(m);
	tensor_spec *specs = calloc((size_t) n, sizeof(tensor_spec));
	size_t		total = 0,
				off = 0;
	uint8_t    *arena;

	if (!specs)
		return false;
	n = sst2_model_specs(m, specs);
	for (int i = 0; i < n; i++)
		if (!is_linear_weight(m, specs[i].dst))
			total += spec_span(&specs[i]);
	arena = sst2_huge_map(total, 0);
	if (!arena)
	{
		free(specs);
		return false;
	}
	for (int i = 0; i < n; i++)
	{
		const float **dst = specs[i].dst;

		if (is_linear_weight(m, dst))
		{
			*dst = NULL;
			continue;
		}
		memcpy(arena + off, *dst, spec_bytes(&specs[i]));
		*dst = (const float *) (arena + off);
		off += spec_span(&specs[i]);
	}
	free(specs);
	/* bf16/int8: the packed layers keep their own bias pointers (qgemm_kernel.h) */
	for (int l = 0; l < m->cfg.n_layers; l++)
	{
		layer_weights *w = &m->layers[l];
		const float *bias[N_QL] = {w->q_b, w->k_b, w->v_b, w->o_b, w->ff1_b, w->ff2_b};

		for (int q = 0; q < N_QL; q++)
			if (w->ql[q].bias)
				w->ql[q].bias = bias[q];
	}
	/* all of it, so that its last huge page stays one mapping (sst2_huge_len) */
	(void) mprotect(arena, sst2_huge_len(total, 0), PROT_READ);
	m->arena = arena;
	m->arena_size = total;

	/* nothing reads the source or its conversion any more */
	sst2_guard_remove(m);
	st_unmap(&m->weights_file);
	if (m->conv.map)
		munmap(m->conv.map, m->conv.map_size);
	free(m->conv.heap);
	m->conv.map = NULL;
	m->conv.heap = NULL;
	m->conv.map_size = 0;
	m->conv.bytes = NULL;
	m->conv.data = NULL;
	if (m->qconv.map)
		sst2_guard_add(m, m->qconv.map, m->qconv.map_size);
	return true;
}

/* See sst2_core.h. */
size_t
sst2_model_to_anonymous(sst2_model *m)
{
	size_t		moved = 0;

	if (!sst2_thp_available())
		return 0;
	if (linear_layers_packed(m) && gather_unpacked(m))
		moved += m->arena_size;
	else
	{
		if (m->weights_file.map &&
			move_to_anon((void *) m->weights_file.map, m->weights_file.map_size, NULL, NULL))
			moved += m->weights_file.map_size;
		if (m->conv.map && move_to_anon(m->conv.map, m->conv.map_size, &m->conv.anon, &m->conv.anon_size))
			moved += m->conv.map_size;
	}
	if (m->qconv.map && move_to_anon(m->qconv.map, m->qconv.map_size, &m->qconv.anon, &m->qconv.anon_size))
		moved += m->qconv.map_size;
	return moved;
}

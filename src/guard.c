/*
 * guard.c
 *	  The fault guard for mapped weights.  Weights are read straight from
 *	  shared file mappings; if someone truncates such a file in place, reading
 *	  a page past the new end raises SIGBUS, in whichever thread touches it
 *	  (the caller's or an OpenBLAS worker's), and by default the process dies.
 *
 *	  Instead, the handler looks the faulting address up among the guarded
 *	  mappings, maps anonymous zero pages over the rest of that mapping
 *	  (mmap MAP_FIXED: one system call, allowed in a signal handler, the same
 *	  in every thread), marks the model broken and returns: the instruction is
 *	  retried, reads zeros, and the computation finishes.  The forward pass then
 *	  sees the mark and reports an error instead of the garbage result, and
 *	  sst2_model_changed() says the model must be opened again.  No thread
 *	  ever jumps out of code it does not own.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model.h"

#define MAX_GUARDED 64

typedef struct guarded
{
	uintptr_t	begin;
	uintptr_t	end;
	sst2_model *model;			/* NULL = free slot */
} guarded;

static guarded ranges[MAX_GUARDED];
static struct sigaction prev_sigbus;
static bool installed = false;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* SIGBUS: zero-fill the rest of a guarded mapping, or pass the signal on. */
static void
on_sigbus(int signo, siginfo_t *info, void *context)
{
	uintptr_t	a = (uintptr_t) info->si_addr;
	long		page = sysconf(_SC_PAGESIZE);

	for (int i = 0; i < MAX_GUARDED; i++)
	{
		guarded    *g = &ranges[i];

		if (g->model != NULL && a >= g->begin && a < g->end)
		{
			uintptr_t	from = a & ~((uintptr_t) page - 1);

			if (mmap((void *) from, g->end - from, PROT_READ,
					 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
				break;
			g->model->broken = 1;
			return;
		}
	}
	/* not ours: let the previous disposition have it */
	sigaction(SIGBUS, &prev_sigbus, NULL);
	raise(SIGBUS);
}

/* See model.h. */
void
sst2_guard_add(sst2_model *m, const void *addr, size_t len)
{
	pthread_mutex_lock(&lock);
	if (!installed)
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_sigbus;
		sa.sa_flags = SA_SIGINFO;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGBUS, &sa, &prev_sigbus) == 0)
			installed = true;
	}
	for (int i = 0; i < MAX_GUARDED; i++)
		if (ranges[i].model == NULL)
		{
			ranges[i].begin = (uintptr_t) addr;
			ranges[i].end = (uintptr_t) addr + len;
			__atomic_store_n(&ranges[i].model, m, __ATOMIC_RELEASE);
			break;
		}
	pthread_mutex_unlock(&lock);
}

/* See model.h. */
void
sst2_guard_remove(sst2_model *m)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_GUARDED; i++)
		if (ranges[i].model == m)
			__atomic_store_n(&ranges[i].model, NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lock);
}

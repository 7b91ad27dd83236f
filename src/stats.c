/*
 * stats.c
 *	  Usage statistics in shared memory (sst2_stats view): texts classified,
 *	  their tokens, texts truncated by sst2.max_length, batches, forward
 *	  passes, time in the tokenizer and in the model.  Atomic counters, no
 *	  lock: every backend and parallel worker adds to them after each batch.
 *	  Only with shared_preload_libraries = 'sst2' (the postmaster reserves the
 *	  memory); without it the view is an ERROR saying so.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "sst2_pg.h"

typedef struct Sst2Stats
{
	pg_atomic_uint64 texts;
	pg_atomic_uint64 tokens;
	pg_atomic_uint64 truncated;
	pg_atomic_uint64 batches;
	pg_atomic_uint64 forward_passes;
	pg_atomic_uint64 tokenize_ns;
	pg_atomic_uint64 forward_ns;
	pg_atomic_uint64 reset_at;	/* TimestampTz of the last reset */
} Sst2Stats;

static Sst2Stats *stats = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* shmem_request_hook: reserve the counters (postmaster, at start). */
static void
sst2_stats_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(Sst2Stats)));
}

/* shmem_startup_hook: create the counters, or attach to them. */
static void
sst2_stats_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	stats = ShmemInitStruct("sst2 usage statistics", sizeof(Sst2Stats), &found);
	if (!found)
	{
		pg_atomic_init_u64(&stats->texts, 0);
		pg_atomic_init_u64(&stats->tokens, 0);
		pg_atomic_init_u64(&stats->truncated, 0);
		pg_atomic_init_u64(&stats->batches, 0);
		pg_atomic_init_u64(&stats->forward_passes, 0);
		pg_atomic_init_u64(&stats->tokenize_ns, 0);
		pg_atomic_init_u64(&stats->forward_ns, 0);
		pg_atomic_init_u64(&stats->reset_at, (uint64) GetCurrentTimestamp());
	}
	LWLockRelease(AddinShmemInitLock);
}

/* From _PG_init while shared_preload_libraries is processed: install the hooks. */
void
sst2_stats_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = sst2_stats_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = sst2_stats_shmem_startup;
}

/* Add the work of one batch run (since its last reset); no-op without preload. */
void
sst2_stats_count(const sst2_batch *b)
{
	const sst2_batch_counts *c;

	if (!stats)
		return;
	c = sst2_batch_counters(b);
	pg_atomic_fetch_add_u64(&stats->texts, c->texts);
	pg_atomic_fetch_add_u64(&stats->tokens, c->tokens);
	pg_atomic_fetch_add_u64(&stats->truncated, c->truncated);
	pg_atomic_fetch_add_u64(&stats->batches, c->runs);
	pg_atomic_fetch_add_u64(&stats->forward_passes, c->forward_passes);
	pg_atomic_fetch_add_u64(&stats->tokenize_ns, c->tokenize_ns);
	pg_atomic_fetch_add_u64(&stats->forward_ns, c->forward_ns);
}

/* ERROR unless the counters exist. */
static void
require_stats(void)
{
	if (!stats)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sst2 usage statistics are not being collected"),
				 errdetail("The sst2 library was not loaded by the server at start."),
				 errhint("Add sst2 to shared_preload_libraries in postgresql.conf and restart the server.")));
}

/*
 * sst2_stats() RETURNS one row: the counters, times in milliseconds, and
 * when they were last reset.
 */
PG_FUNCTION_INFO_V1(sst2_stats);
Datum
sst2_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[8];
	bool		nulls[8] = {0};

	require_stats();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Int64GetDatum((int64) pg_atomic_read_u64(&stats->texts));
	values[1] = Int64GetDatum((int64) pg_atomic_read_u64(&stats->tokens));
	values[2] = Int64GetDatum((int64) pg_atomic_read_u64(&stats->truncated));
	values[3] = Int64GetDatum((int64) pg_atomic_read_u64(&stats->batches));
	values[4] = Int64GetDatum((int64) pg_atomic_read_u64(&stats->forward_passes));
	values[5] = Float8GetDatum(pg_atomic_read_u64(&stats->tokenize_ns) / 1e6);
	values[6] = Float8GetDatum(pg_atomic_read_u64(&stats->forward_ns) / 1e6);
	values[7] = TimestampTzGetDatum((TimestampTz) pg_atomic_read_u64(&stats->reset_at));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* sst2_stats_reset() RETURNS void: every counter back to zero. */
PG_FUNCTION_INFO_V1(sst2_stats_reset);
Datum
sst2_stats_reset(PG_FUNCTION_ARGS)
{
	require_stats();
	pg_atomic_write_u64(&stats->texts, 0);
	pg_atomic_write_u64(&stats->tokens, 0);
	pg_atomic_write_u64(&stats->truncated, 0);
	pg_atomic_write_u64(&stats->batches, 0);
	pg_atomic_write_u64(&stats->forward_passes, 0);
	pg_atomic_write_u64(&stats->tokenize_ns, 0);
	pg_atomic_write_u64(&stats->forward_ns, 0);
	pg_atomic_write_u64(&stats->reset_at, (uint64) GetCurrentTimestamp());
	PG_RETURN_VOID();
}

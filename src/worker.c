/*
 * worker.c
 *	  The background processes that label watched tables (sst2_watch).
 *
 *	  One worker per database: it reads the jobs in sst2_watched and labels
 *	  each table in batches of sst2.batch_size rows, each batch its own short
 *	  transaction: lock pending rows FOR UPDATE SKIP LOCKED (a writer never
 *	  waits on more than one batch, the worker never on a writer), classify
 *	  them through the batched path (sst2_classify_texts), write label and
 *	  score where the source is still the one classified, commit.  The work
 *	  is done as the role that called sst2_watch, checked every batch.
 *
 *	  A table is scanned in physical order from a remembered position; once a
 *	  full pass finds nothing, the table is scanned again only when the
 *	  sequence sst2_watch_changes moved (a writer's statement trigger) or a
 *	  transaction that was running at that pass has ended since.
 *
 *	  With shared_preload_libraries = 'sst2' a launcher starts each
 *	  database's worker when the server starts (none during recovery: a hot
 *	  standby runs none); otherwise sst2_watch, sst2_wait and the sst2_jobs
 *	  view start it.  A session advisory lock keeps one worker per database;
 *	  sst2.max_workers places (cluster-wide advisory locks) limit how many
 *	  label at once: a worker holds one for a round (up to a second per
 *	  table), and waiting workers queue for it.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"

#include "sst2_pg.h"
#include "sst2_watch.h"

PGDLLEXPORT void sst2_launcher_main(Datum arg);
PGDLLEXPORT void sst2_worker_main(Datum arg);

/* Advisory lock keys (field4 = 3: no SQL-level advisory lock uses it). */
#define SST2_LOCK_KEY	0x73737432	/* "sst2" */
#define SST2_LOCK_KIND	3

/* Seconds before the server restarts a worker that stopped on an error. */
#define WORKER_RESTART_S 10
/* Idle poll interval, and the most time one table gets before the next. */
#define NAP_MS			500
#define SLICE_MS		1000
/* In-progress transactions remembered per clean pass (more: scan again). */
#define MAX_XIDS		64

/* A job: its row in sst2_watched, and how far the scan of its table got. */
typedef struct Job
{
	Oid			relid;
	char		source[NAMEDATALEN];
	char		label[NAMEDATALEN];
	char		score[NAMEDATALEN]; /* "" = no score column */
	Oid			owner;
	bool		following;		/* a full pass has found nothing pending */
	bool		ready;			/* not paused, or its retry time has come */
	bool		failed;
	/* in memory only */
	ItemPointerData pos;		/* scan resumes after this ctid */
	int64		pass_seq;		/* sst2_watch_changes when this pass began */
	int			pass_nxids;		/* -1: too many to remember */
	TransactionId pass_xids[MAX_XIDS];
	bool		clean;			/* the last full pass found nothing */
	double		rate;			/* rows per second, smoothed */
} Job;

static MemoryContext worker_cxt;
static Job *jobs;
static int	n_jobs;
static char *ext_nsp;			/* quoted schema of the extension */
static int	slot_held = -1;		/* sst2.max_workers place held, or -1 */

/* ---------------------------------------------------------------- locks */

/* The lock a database's worker holds while it runs (slot < 0), or place slot. */
static void
sst2_locktag(LOCKTAG *tag, Oid dboid, int slot)
{
	SET_LOCKTAG_ADVISORY(*tag, slot < 0 ? dboid : InvalidOid, SST2_LOCK_KEY,
						 (uint32) (slot + 1), SST2_LOCK_KIND);
}

/* Take a session lock without waiting; false when someone holds it. */
static bool
try_session_lock(Oid dboid, int slot)
{
	LOCKTAG		tag;

	sst2_locktag(&tag, dboid, slot);
	return LockAcquire(&tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL;
}

static void
release_session_lock(Oid dboid, int slot)
{
	LOCKTAG		tag;

	sst2_locktag(&tag, dboid, slot);
	LockRelease(&tag, ExclusiveLock, true);
}

/*
 * Hold one of the sst2.max_workers places: a free one, or else wait in the
 * lock queue of one (FIFO: workers of several databases take turns, one
 * round each, see sst2_worker_main).
 */
static void
take_place(void)
{
	LOCKTAG		tag;
	int			slot;

	if (slot_held >= sst2_max_workers)
	{
		/* sst2.max_workers was lowered */
		release_session_lock(InvalidOid, slot_held);
		slot_held = -1;
	}
	for (int i = 0; slot_held < 0 && i < sst2_max_workers; i++)
		if (try_session_lock(InvalidOid, i))
			slot_held = i;
	if (slot_held >= 0)
		return;
	slot = MyDatabaseId % sst2_max_workers;
	sst2_locktag(&tag, InvalidOid, slot);
	pgstat_report_activity(STATE_RUNNING, "sst2: waiting for a place (sst2.max_workers)");
	StartTransactionCommand();
	(void) LockAcquire(&tag, ExclusiveLock, true, false);
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	slot_held = slot;
}

/* Give the place up while there is nothing to label. */
static void
leave_place(void)
{
	if (slot_held >= 0)
		release_session_lock(InvalidOid, slot_held);
	slot_held = -1;
}

/* See sst2_watch.h. */
bool
sst2_worker_running(void)
{
	LOCKTAG		tag;

	sst2_locktag(&tag, MyDatabaseId, -1);
	if (LockAcquire(&tag, ExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		return true;
	LockRelease(&tag, ExclusiveLock, false);
	return false;
}

/* ------------------------------------------------------ starting workers */

/* Register the worker of database dboid (notify_pid: who hears of its start). */
static bool
start_worker(Oid dboid, pid_t notify_pid, BackgroundWorkerHandle **handle)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	snprintf(w.bgw_name, BGW_MAXLEN, "sst2 worker for database %u", dboid);
	snprintf(w.bgw_type, BGW_MAXLEN, "sst2 worker");
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = WORKER_RESTART_S;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "sst2");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "sst2_worker_main");
	w.bgw_main_arg = ObjectIdGetDatum(dboid);
	w.bgw_notify_pid = notify_pid;
	return RegisterDynamicBackgroundWorker(&w, handle);
}

static bool kick_at_commit = false;
static bool kick_callback_registered = false;

/* At commit: start the worker a function of this transaction asked for. */
static void
kick_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && kick_at_commit)
	{
		kick_at_commit = false;
		if (!start_worker(MyDatabaseId, 0, NULL))
			ereport(WARNING,
					(errmsg("could not start the sst2 worker of this database: no background worker slot is free"),
					 errhint("Raise max_worker_processes; reading sst2_jobs or calling sst2_wait tries again.")));
	}
	else if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
			 event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		kick_at_commit = false;
}

/* See sst2_watch.h. */
void
sst2_worker_kick(bool probe)
{
	if (RecoveryInProgress())
		return;
	if (probe)
	{
		/* the jobs the caller sees are committed: start the worker now */
		if (!sst2_worker_running() && !start_worker(MyDatabaseId, 0, NULL))
			ereport(WARNING,
					(errmsg("could not start the sst2 worker of this database: no background worker slot is free"),
					 errhint("Raise max_worker_processes.")));
		return;
	}
	if (!kick_callback_registered)
	{
		RegisterXactCallback(kick_xact_callback, NULL);
		kick_callback_registered = true;
	}
	kick_at_commit = true;
}

/*
 * The launcher (shared_preload_libraries only): once recovery is over, start
 * the worker of every database that accepts connections; a worker whose
 * database has no job exits at once.  Started one after another, so a
 * cluster of many databases does not fill max_worker_processes at once.
 */
void
sst2_launcher_main(Datum arg)
{
	List	   *dbs = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	ListCell   *lc;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		if (db->datallowconn && !db->datistemplate)
			dbs = lappend_oid(dbs, db->oid);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();

	foreach(lc, dbs)
	{
		BackgroundWorkerHandle *handle;
		pid_t		pid;

		while (!start_worker(lfirst_oid(lc), MyProcPid, &handle))
		{
			/* no slot free: try again in a while */
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 5000L, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
		(void) WaitForBackgroundWorkerStartup(handle, &pid);
		/* give a worker without jobs time to exit before starting the next */
		for (int i = 0; i < 20 && GetBackgroundWorkerPid(handle, &pid) == BGWH_STARTED; i++)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 50L, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}
	proc_exit(0);
}

/* See sst2_watch.h. */
void
sst2_launcher_register(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	snprintf(w.bgw_name, BGW_MAXLEN, "sst2 launcher");
	snprintf(w.bgw_type, BGW_MAXLEN, "sst2 launcher");
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = WORKER_RESTART_S;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "sst2");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "sst2_launcher_main");
	RegisterBackgroundWorker(&w);
}

/* -------------------------------------------------------------- the jobs */

/* An int8 or oid column of the current SPI result row. */
static int64
spi_int(int row, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);

	if (isnull)
		return 0;
	switch (SPI_gettypeid(SPI_tuptable->tupdesc, col))
	{
		case INT8OID:
			return DatumGetInt64(d);
		case INT4OID:
			return DatumGetInt32(d);
		case OIDOID:
			return DatumGetObjectId(d);
		case BOOLOID:
			return DatumGetBool(d);
		default:
			elog(ERROR, "sst2: unexpected column type");
	}
	return 0;
}

/*
 * The current value of sst2_watch_changes (SPI connected): 0 until the first
 * nextval, which leaves last_value at 1 as it was before (only is_called
 * changes), so last_value alone would miss the first write.
 */
static int64
changes_now(void)
{
	if (SPI_execute(psprintf("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM %s.sst2_watch_changes", ext_nsp),
					true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "sst2: could not read sst2_watch_changes");
	return spi_int(0, 1);
}

/*
 * Read the jobs that are not failed, keeping what memory knows of those seen
 * before.  Returns false when this database has no sst2 1.1 (the worker
 * then exits).  *changes: the sequence's value now.
 */
static bool
load_jobs(int64 *changes)
{
	Job		   *fresh = NULL;
	int			n = 0;
	bool		ok = false;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "sst2: reading jobs");
	if (SPI_execute("SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n"
					" ON n.oid = e.extnamespace WHERE e.extname = 'sst2'"
					" AND to_regclass(quote_ident(n.nspname) || '.sst2_watched') IS NOT NULL",
					true, 0) == SPI_OK_SELECT && SPI_processed == 1)
	{
		char	   *nsp = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (ext_nsp)
			pfree(ext_nsp);
		ext_nsp = MemoryContextStrdup(worker_cxt, nsp);
		ok = true;
	}
	if (ok)
	{
		*changes = changes_now();
		if (SPI_execute(psprintf("SELECT tbl::oid, source::text, label::text, coalesce(score::text, ''),"
								 " owner::oid, state = 'following', coalesce(retry_at <= now(), true)"
								 " FROM %s.sst2_watched WHERE state <> 'failed' ORDER BY tbl::oid",
								 ext_nsp), true, 0) != SPI_OK_SELECT)
			elog(ERROR, "sst2: could not read sst2_watched");
		n = SPI_processed;
		fresh = MemoryContextAllocZero(worker_cxt, sizeof(Job) * Max(n, 1));
		for (int i = 0; i < n; i++)
		{
			Job		   *j = &fresh[i];
			TupleDesc	td = SPI_tuptable->tupdesc;
			HeapTuple	t = SPI_tuptable->vals[i];

			j->relid = (Oid) spi_int(i, 1);
			for (int k = 0; k < n_jobs; k++)
				if (jobs[k].relid == j->relid)
					*j = jobs[k];	/* keep the scan position */
			strlcpy(j->source, SPI_getvalue(t, td, 2), NAMEDATALEN);
			strlcpy(j->label, SPI_getvalue(t, td, 3), NAMEDATALEN);
			strlcpy(j->score, SPI_getvalue(t, td, 4), NAMEDATALEN);
			j->owner = (Oid) spi_int(i, 5);
			j->following = spi_int(i, 6) != 0;
			j->ready = spi_int(i, 7) != 0;
			j->failed = false;
		}
	}
	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	if (jobs)
		pfree(jobs);
	jobs = fresh;
	n_jobs = n;
	return ok;
}

/*
 * Record in the job's row the outcome of a batch that labelled `rows` rows
 * (SPI connected, as the worker's own role).
 */
static void
record_progress(Job *job, int64 rows)
{
	Oid			types[4] = {OIDOID, INT8OID, FLOAT4OID, TEXTOID};
	Datum		values[4];

	values[0] = ObjectIdGetDatum(job->relid);
	values[1] = Int64GetDatum(rows);
	values[2] = Float4GetDatum((float4) job->rate);
	values[3] = CStringGetTextDatum(job->following ? "following" : "backfill");
	if (SPI_execute_with_args(psprintf("UPDATE %s.sst2_watched SET rows_done = rows_done + $2,"
									   " rows_per_second = $3, state = $4, last_activity = now(),"
									   " errors = 0, retry_at = NULL, last_error = NULL"
									   " WHERE tbl = $1::oid::regclass", ext_nsp),
							  4, types, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "sst2: could not update sst2_watched");
}

/*
 * Record an error in its own transaction: failed (the job stops until
 * sst2_unwatch and sst2_watch again) or paused with a retry time that
 * doubles with each error in a row, up to five minutes.
 */
static void
record_error(Job *job, const char *message, bool fatal)
{
	Oid			types[3] = {OIDOID, TEXTOID, BOOLOID};
	Datum		values[3];

	ereport(fatal ? WARNING : LOG,
			(errmsg("sst2 worker: %s labelling of table %u: %s",
					fatal ? "stopped the" : "paused the", job->relid, message)));
	values[0] = ObjectIdGetDatum(job->relid);
	values[1] = CStringGetTextDatum(message);
	values[2] = BoolGetDatum(fatal);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_execute_with_args(psprintf("UPDATE %s.sst2_watched SET"
									   " state = CASE WHEN $3 THEN 'failed' ELSE 'paused' END,"
									   " errors = errors + 1, last_error = $2, last_activity = now(),"
									   " retry_at = now() + make_interval(secs => least(300, 2 ^ least(errors, 9)))"
									   " WHERE tbl = $1::oid::regclass", ext_nsp),
							  3, types, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "sst2: could not update sst2_watched");
	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	job->ready = false;
	job->failed = fatal;
}

/*
 * Why the job cannot go on (table or column gone, its role no longer owns
 * the table), or NULL; in a transaction.
 */
static char *
job_broken(const Job *job)
{
	char	   *rel = get_rel_name(job->relid);

	if (rel == NULL)
		return psprintf("table %u was dropped", job->relid);
	if (!sst2_class_ownercheck(job->relid, job->owner))
	{
		char	   *role = GetUserNameFromId(job->owner, true);

		return psprintf("role %s no longer owns table \"%s\"",
						role ? role : "(dropped)", rel);
	}
	if (get_attnum(job->relid, job->source) == InvalidAttrNumber)
		return psprintf("source column \"%s\" of table \"%s\" no longer exists", job->source, rel);
	if (get_attnum(job->relid, job->label) == InvalidAttrNumber)
		return psprintf("label column \"%s\" of table \"%s\" no longer exists", job->label, rel);
	if (job->score[0] && get_attnum(job->relid, job->score) == InvalidAttrNumber)
		return psprintf("score column \"%s\" of table \"%s\" no longer exists", job->score, rel);
	return NULL;
}

/* Remember the transactions running now (a pass's start). */
static void
remember_running(Job *job)
{
	Snapshot	snap = GetLatestSnapshot();

	if (snap->xcnt > MAX_XIDS || snap->suboverflowed)
		job->pass_nxids = -1;
	else
	{
		job->pass_nxids = snap->xcnt;
		memcpy(job->pass_xids, snap->xip, sizeof(TransactionId) * snap->xcnt);
	}
}

/* Whether a clean table must be scanned again. */
static bool
needs_scan(const Job *job, int64 changes)
{
	if (!job->clean || job->pass_nxids < 0 || changes != job->pass_seq)
		return true;
	for (int i = 0; i < job->pass_nxids; i++)
		if (!TransactionIdIsInProgress(job->pass_xids[i]))
			return true;
	return false;
}

/*
 * One batch of one job, inside the caller's transaction: returns the number
 * of rows it locked (and labelled), or -1 when the job is broken (*broken
 * says why).
 */
static int
batch_in_xact(Job *job, char **broken)
{
	int			limit = sst2_batch_size;
	bool		pass_start = !ItemPointerIsValid(&job->pos);
	char	   *qrel;
	char	   *qsrc = pstrdup(quote_identifier(job->source));
	char	   *qlabel = pstrdup(quote_identifier(job->label));
	Oid			save_userid;
	int			save_sec;
	uint64		n;
	SPITupleTable *rows;
	text	  **texts;
	ItemPointerData *tids;
	ItemPointerData last;
	Sst2Model  *h;
	float	   *logits;
	SPIPlanPtr	plan;
	Oid			types[4] = {TIDOID, TEXTOID, FLOAT4OID, TEXTOID};
	int64		labelled = 0;

	if ((*broken = job_broken(job)) != NULL)
		return -1;
	qrel = quote_qualified_identifier(get_namespace_name(get_rel_namespace(job->relid)),
									  get_rel_name(job->relid));
	pgstat_report_activity(STATE_RUNNING, psprintf("sst2: labelling %s", qrel));
	if (pass_start)
	{
		/* read the sequence first, then who runs: see needs_scan */
		job->pass_seq = changes_now();
		remember_running(job);
	}

	/* the job's work with the rights of whoever asked for it */
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(job->owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);

	if (SPI_execute(psprintf("SELECT ctid, %s::text FROM ONLY %s WHERE ctid > '(%u,%u)'"
							 " AND %s IS NOT NULL AND %s IS NULL LIMIT %d FOR UPDATE SKIP LOCKED",
							 qsrc, qrel,
							 pass_start ? 0 : ItemPointerGetBlockNumberNoCheck(&job->pos),
							 pass_start ? 0 : ItemPointerGetOffsetNumberNoCheck(&job->pos),
							 qsrc, qlabel, limit),
					false, 0) != SPI_OK_SELECT)
		elog(ERROR, "sst2: could not read the pending rows of %s", qrel);
	n = SPI_processed;
	rows = SPI_tuptable;
	texts = palloc(sizeof(text *) * Max(n, 1));
	tids = palloc(sizeof(ItemPointerData) * Max(n, 1));
	ItemPointerSetInvalid(&last);
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;

		tids[i] = *(ItemPointer) DatumGetPointer(SPI_getbinval(rows->vals[i], rows->tupdesc, 1, &isnull));
		texts[i] = DatumGetTextPP(SPI_getbinval(rows->vals[i], rows->tupdesc, 2, &isnull));
		if (!ItemPointerIsValid(&last) || ItemPointerCompare(&tids[i], &last) > 0)
			last = tids[i];
	}

	if (n > 0)
	{
		h = sst2_pin_model(CurTransactionContext);
		logits = palloc(sizeof(float) * h->n_labels * n);
		sst2_classify_texts(h, texts, (int) n, logits);
		plan = SPI_prepare(psprintf("UPDATE ONLY %s SET %s = $2%s%s%s WHERE ctid = $1"
									" AND %s IS NULL AND %s::text = $4",
									qrel, qlabel,
									job->score[0] ? ", " : "",
									job->score[0] ? quote_identifier(job->score) : "",
									job->score[0] ? " = $3" : "",
									qlabel, qsrc),
						   4, types);
		if (plan == NULL)
			elog(ERROR, "sst2: could not plan the update of %s: %s", qrel,
				 SPI_result_code_string(SPI_result));
		for (uint64 i = 0; i < n; i++)
		{
			float		score;
			int			top = sst2_top_label(logits + (size_t) i * h->n_labels,
											 h->n_labels, &score);
			Datum		values[4];

			values[0] = PointerGetDatum(&tids[i]);
			values[1] = CStringGetTextDatum(h->labels[top]);
			values[2] = Float4GetDatum(score);
			values[3] = PointerGetDatum(texts[i]);
			if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_UPDATE)
				elog(ERROR, "sst2: could not write the labels of %s", qrel);
			labelled += SPI_processed;
		}
	}
	SetUserIdAndSecContext(save_userid, save_sec);

	if (n < (uint64) limit)
	{
		/* the end of the table: the next batch starts a new pass */
		if (pass_start && n == 0)
		{
			job->clean = true;
			job->following = true;
		}
		ItemPointerSetInvalid(&job->pos);
	}
	else
		job->pos = last;
	if (labelled > 0 || pass_start)
		record_progress(job, labelled);
	return (int) n;
}

/*
 * Run one batch of job in its own transaction.  Returns rows done, or -1
 * after an error (recorded in the job; a cancel stops the worker, which the
 * server restarts).
 */
static int
run_batch(Job *job)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile int n = -1;
	char	   *volatile broken = NULL;
	instr_time	t0,
				t1;

	INSTR_TIME_SET_CURRENT(t0);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		char	   *why = NULL;

		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		n = batch_in_xact(job, &why);
		if (why)
			broken = MemoryContextStrdup(cxt, why);
		PopActiveSnapshot();
		SPI_finish();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			PG_RE_THROW();
		FlushErrorState();
		AbortCurrentTransaction();
		ItemPointerSetInvalid(&job->pos);
		record_error(job, edata->message, false);
		FreeErrorData(edata);
		n = -1;
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);

	if (broken)
	{
		record_error(job, broken, true);
		return -1;
	}
	if (n > 0)
	{
		double		s;

		/* throttle: n rows take at least n / sst2.worker_rows_per_second seconds */
		INSTR_TIME_SET_CURRENT(t1);
		INSTR_TIME_SUBTRACT(t1, t0);
		s = INSTR_TIME_GET_DOUBLE(t1);
		if (sst2_worker_rows_per_second > 0 && s < (double) n / sst2_worker_rows_per_second)
		{
			long		ms = (long) (1000.0 * ((double) n / sst2_worker_rows_per_second - s));

			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 Max(ms, 1), PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
			s = (double) n / sst2_worker_rows_per_second;
		}
		if (s > 0)
			job->rate = job->rate > 0 ? 0.8 * job->rate + 0.2 * n / s : n / s;
	}
	return n;
}

/* Apply a changed configuration file (SIGHUP). */
static void
reload_config(void)
{
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
}

/*
 * A database's worker: serve the jobs of database main_arg until none is
 * left (exit 0: not restarted).  A second worker of the same database, or
 * one of a database without sst2 1.1, exits at once.
 */
void
sst2_worker_main(Datum arg)
{
	Oid			dboid = DatumGetObjectId(arg);

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("sst2 worker");
	if (!try_session_lock(dboid, -1))
		proc_exit(0);
	/* scans return rows in physical order: the position logic needs it */
	SetConfigOption("synchronize_seqscans", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("max_parallel_workers_per_gather", "0", PGC_SUSET, PGC_S_OVERRIDE);
	worker_cxt = AllocSetContextCreate(TopMemoryContext, "sst2 worker",
									   ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		int64		changes = 0;
		bool		busy = false;
		MemoryContext round_cxt;

		CHECK_FOR_INTERRUPTS();
		reload_config();
		if (!load_jobs(&changes) || n_jobs == 0)
			break;
		round_cxt = AllocSetContextCreate(worker_cxt, "sst2 round", ALLOCSET_DEFAULT_SIZES);
		MemoryContextSwitchTo(round_cxt);
		for (int i = 0; i < n_jobs; i++)
		{
			Job		   *job = &jobs[i];
			instr_time	t0,
						t;
			int			n;

			if (!job->ready)
				continue;
			if (!needs_scan(job, changes))
				continue;
			take_place();
			job->clean = false;
			INSTR_TIME_SET_CURRENT(t0);
			do
			{
				CHECK_FOR_INTERRUPTS();
				reload_config();
				n = run_batch(job);
				MemoryContextReset(round_cxt);
				INSTR_TIME_SET_CURRENT(t);
				INSTR_TIME_SUBTRACT(t, t0);
			} while (n > 0 && INSTR_TIME_GET_MILLISEC(t) < SLICE_MS);
			if (n != 0)
				busy = true;
		}
		MemoryContextSwitchTo(worker_cxt);
		MemoryContextDelete(round_cxt);
		/* let a worker waiting for the place have its turn */
		leave_place();
		if (busy)
			continue;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 NAP_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	proc_exit(0);
}

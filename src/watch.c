/*
 * watch.c
 *	  The SQL side of background labelling: sst2_watch, sst2_unwatch,
 *	  sst2_wait, sst2_pending (behind the sst2_jobs view) and the two
 *	  triggers sst2_watch installs.  The writer's transaction never runs the
 *	  model: sst2_watch_clear only empties the label when the source changes,
 *	  sst2_watch_wake only bumps a sequence the worker (worker.c) polls.
 *
 *	  A row is pending when its source is not NULL and its label is NULL.
 *	  The job rows live in the extension's table sst2_watched, which only the
 *	  extension's owner can write: these functions check the caller's rights
 *	  first, then write it as that owner.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "sst2_pg.h"
#include "sst2_watch.h"

/* One job as sst2_watched holds it. */
typedef struct WatchJob
{
	bool		found;
	char	   *source;
	char	   *label;
	char	   *score;			/* NULL: no score column */
	Oid			owner;
	char	   *state;
	char	   *last_error;
} WatchJob;

/* The schema the extension's objects live in: that of the called function. */
static Oid
ext_namespace(FunctionCallInfo fcinfo)
{
	return get_func_namespace(fcinfo->flinfo->fn_oid);
}

/* "schema.name" of an extension object, quoted. */
static char *
ext_object(Oid nsp, const char *name)
{
	return quote_qualified_identifier(get_namespace_name(nsp), name);
}

/* The role owning the extension's table sst2_watched (who may write it). */
static Oid
ext_owner(Oid nsp)
{
	Oid			relid = get_relname_relid("sst2_watched", nsp);
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sst2 is not updated to version 1.1 in this database"),
				 errhint("Run ALTER EXTENSION sst2 UPDATE.")));
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * Run one SPI command as the extension's owner (the job table is not the
 * caller's to write).  Returns SPI_processed.
 */
static uint64
exec_as_owner(Oid nsp, const char *sql, int nargs, Oid *types, Datum *values,
			  const char *nulls, int expect)
{
	Oid			save_userid;
	int			save_sec;
	int			rc;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(ext_owner(nsp), save_sec | SECURITY_LOCAL_USERID_CHANGE);
	rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
	SetUserIdAndSecContext(save_userid, save_sec);
	if (rc != expect)
		elog(ERROR, "sst2: SPI failed (%d) on: %s", rc, sql);
	return SPI_processed;
}

/* The job of relid (found = false when the table is not watched); SPI connected. */
static WatchJob
load_job(Oid nsp, Oid relid)
{
	WatchJob	job = {0};
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	char	   *sql = psprintf("SELECT source::text, label::text, score::text, owner::oid, state, last_error"
							   " FROM %s WHERE tbl = $1::oid::regclass",
							   ext_object(nsp, "sst2_watched"));

	if (exec_as_owner(nsp, sql, 1, types, values, NULL, SPI_OK_SELECT) == 1)
	{
		TupleDesc	td = SPI_tuptable->tupdesc;
		HeapTuple	t = SPI_tuptable->vals[0];
		bool		isnull;

		job.found = true;
		job.source = SPI_getvalue(t, td, 1);
		job.label = SPI_getvalue(t, td, 2);
		job.score = SPI_getvalue(t, td, 3);
		job.owner = DatumGetObjectId(SPI_getbinval(t, td, 4, &isnull));
		job.state = SPI_getvalue(t, td, 5);
		job.last_error = SPI_getvalue(t, td, 6);
	}
	return job;
}

/*
 * Check that column `name` of relation rel exists, is a stored column and has
 * one of types[]; what names its role in the error ("source", "label", ...).
 */
static void
check_column(Relation rel, const char *name, const Oid *types, int ntypes,
			 const char *what, bool writable)
{
	TupleDesc	td = RelationGetDescr(rel);

	for (int i = 0; i < td->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(td, i);

		if (att->attisdropped || strcmp(NameStr(att->attname), name) != 0)
			continue;
		if (writable && att->attgenerated)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("%s column \"%s\" of table \"%s\" is a generated column",
							what, name, RelationGetRelationName(rel))));
		for (int t = 0; t < ntypes; t++)
			if (att->atttypid == types[t])
				return;
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s column \"%s\" of table \"%s\" has type %s",
						what, name, RelationGetRelationName(rel),
						format_type_be(att->atttypid)),
				 errhint("The source and label columns must be text or varchar, the score column real, double precision or numeric.")));
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("column \"%s\" of table \"%s\" does not exist",
					name, RelationGetRelationName(rel))));
}

/* ERROR 42501 unless the current user owns relid. */
static void
check_owner(Oid relid)
{
	if (!sst2_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
}

/*
 * sst2_watch(tbl regclass, source name, label name, score name DEFAULT NULL):
 * install the triggers, record the job and start the database's worker.
 */
PG_FUNCTION_INFO_V1(sst2_watch);
Datum
sst2_watch(PG_FUNCTION_ARGS)
{
	static const Oid text_types[] = {TEXTOID, VARCHAROID};
	static const Oid score_types[] = {FLOAT4OID, FLOAT8OID, NUMERICOID};
	Oid			nsp = ext_namespace(fcinfo);
	Oid			relid;
	const char *source,
			   *label,
			   *score = NULL;
	Relation	rel;
	char	   *qrel;
	char	   *qfunc;
	StringInfoData sql;
	Oid			types[5] = {OIDOID, NAMEOID, NAMEOID, NAMEOID, OIDOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("sst2_watch needs a table, a source column and a label column")));
	relid = PG_GETARG_OID(0);
	source = NameStr(*PG_GETARG_NAME(1));
	label = NameStr(*PG_GETARG_NAME(2));
	if (!PG_ARGISNULL(3))
		score = NameStr(*PG_GETARG_NAME(3));

	/* the lock CREATE TRIGGER takes anyway: no concurrent DDL from here on */
	rel = table_open(relid, ShareRowExclusiveLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an ordinary table", RelationGetRelationName(rel)),
				 errhint("sst2_watch labels ordinary tables; watch each partition of a partitioned table.")));
	check_owner(relid);
	check_column(rel, source, text_types, 2, "source", false);
	check_column(rel, label, text_types, 2, "label", true);
	if (score)
		check_column(rel, score, score_types, 3, "score", true);
	if (strcmp(source, label) == 0 || (score && (strcmp(score, label) == 0 || strcmp(score, source) == 0)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the source, label and score columns must be different columns")));

	SPI_connect();
	if (load_job(nsp, relid).found)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("table \"%s\" is already watched", RelationGetRelationName(rel)),
				 errhint("Call sst2_unwatch('%s') first to change what is labelled.",
						 RelationGetRelationName(rel))));

	/* the triggers, created as the caller (who owns the table) */
	qrel = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
									  RelationGetRelationName(rel));
	initStringInfo(&sql);
	qfunc = ext_object(nsp, "sst2_watch_clear");
	appendStringInfo(&sql, "CREATE TRIGGER sst2_watch_clear BEFORE UPDATE OF %s ON %s"
					 " FOR EACH ROW EXECUTE FUNCTION %s(%s, %s",
					 quote_identifier(source), qrel, qfunc,
					 quote_literal_cstr(source), quote_literal_cstr(label));
	if (score)
		appendStringInfo(&sql, ", %s", quote_literal_cstr(score));
	appendStringInfoString(&sql, ")");
	if (SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "sst2: could not create trigger: %s", sql.data);
	resetStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TRIGGER sst2_watch_wake AFTER INSERT OR UPDATE OF %s ON %s"
					 " FOR EACH STATEMENT EXECUTE FUNCTION %s()",
					 quote_identifier(source), qrel, ext_object(nsp, "sst2_watch_wake"));
	if (SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "sst2: could not create trigger: %s", sql.data);

	/* the job, written as the extension's owner */
	values[0] = ObjectIdGetDatum(relid);
	values[1] = PG_GETARG_DATUM(1);
	values[2] = PG_GETARG_DATUM(2);
	values[3] = score ? PG_GETARG_DATUM(3) : (Datum) 0;
	nulls[3] = score ? ' ' : 'n';
	values[4] = ObjectIdGetDatum(GetUserId());
	resetStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s (tbl, source, label, score, owner, last_activity)"
					 " VALUES ($1::regclass, $2, $3, $4, $5::regrole, now())",
					 ext_object(nsp, "sst2_watched"));
	exec_as_owner(nsp, sql.data, 5, types, values, nulls, SPI_OK_INSERT);
	SPI_finish();
	table_close(rel, NoLock);

	sst2_worker_kick(false);
	PG_RETURN_VOID();
}

/*
 * sst2_unwatch(tbl regclass): remove the triggers and the job.  A job whose
 * table was dropped (tbl given as its old oid) can be removed by a member of
 * the role that watched it.
 */
PG_FUNCTION_INFO_V1(sst2_unwatch);
Datum
sst2_unwatch(PG_FUNCTION_ARGS)
{
	Oid			nsp = ext_namespace(fcinfo);
	Oid			relid = PG_GETARG_OID(0);
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	Relation	rel;
	WatchJob	job;

	rel = try_table_open(relid, ShareRowExclusiveLock);
	SPI_connect();
	job = load_job(nsp, relid);
	if (!job.found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table \"%s\" is not watched",
						rel ? RelationGetRelationName(rel) : psprintf("%u", relid))));
	if (rel)
	{
		char	   *qrel = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
													  RelationGetRelationName(rel));

		check_owner(relid);
		if (SPI_execute(psprintf("DROP TRIGGER IF EXISTS sst2_watch_clear ON %s", qrel), false, 0) != SPI_OK_UTILITY ||
			SPI_execute(psprintf("DROP TRIGGER IF EXISTS sst2_watch_wake ON %s", qrel), false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "sst2: could not drop the triggers of %s", qrel);
	}
	else if (!has_privs_of_role(GetUserId(), job.owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be a member of the role that watched table %u to unwatch it", relid)));
	exec_as_owner(nsp, psprintf("DELETE FROM %s WHERE tbl = $1::oid::regclass",
								ext_object(nsp, "sst2_watched")),
				  1, types, values, NULL, SPI_OK_DELETE);
	SPI_finish();
	if (rel)
		table_close(rel, NoLock);
	PG_RETURN_VOID();
}

/*
 * The number of pending rows of a watched table (SPI connected), counted
 * as the caller; -1 when the caller may not read the table, the table or
 * a column is gone.
 */
static int64
count_pending(Oid relid, const WatchJob *job)
{
	char	   *relname = get_rel_name(relid);
	char	   *sql;
	bool		isnull;

	if (relname == NULL ||
		get_attnum(relid, job->source) == InvalidAttrNumber ||
		get_attnum(relid, job->label) == InvalidAttrNumber ||
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return -1;
	sql = psprintf("SELECT count(*) FROM ONLY %s WHERE %s IS NOT NULL AND %s IS NULL",
				   quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), relname),
				   quote_identifier(job->source), quote_identifier(job->label));
	if (SPI_execute(sql, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "sst2: could not count the pending rows of %s", relname);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * sst2_pending(tbl regclass) RETURNS bigint: rows of the watched table that
 * wait for a label, or NULL (not watched, not readable by the caller, table
 * or column gone).  Starts the database's worker if none runs.
 */
PG_FUNCTION_INFO_V1(sst2_pending);
Datum
sst2_pending(PG_FUNCTION_ARGS)
{
	Oid			nsp = ext_namespace(fcinfo);
	WatchJob	job;
	int64		n = -1;

	SPI_connect();
	job = load_job(nsp, PG_GETARG_OID(0));
	if (job.found)
		n = count_pending(PG_GETARG_OID(0), &job);
	SPI_finish();
	if (job.found && strcmp(job.state, "failed") != 0)
		sst2_worker_kick(true);
	if (n < 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(n);
}

/*
 * sst2_wait(tbl regclass, timeout interval): poll until no row of the
 * watched table is pending (true) or the timeout passes (false).  A failed
 * job is an ERROR carrying its last_error: waiting would not end it.
 */
PG_FUNCTION_INFO_V1(sst2_wait);
Datum
sst2_wait(PG_FUNCTION_ARGS)
{
	Oid			nsp = ext_namespace(fcinfo);
	Oid			relid = PG_GETARG_OID(0);
	Interval   *timeout = PG_GETARG_INTERVAL_P(1);
	TimestampTz deadline;
	long		nap_ms = 20;
	TimestampTz next_kick = 0;

	deadline = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
													   TimestampTzGetDatum(GetCurrentTimestamp()),
													   IntervalPGetDatum(timeout)));
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, get_rel_name(relid));
	for (;;)
	{
		WatchJob	job;
		int64		n;

		SPI_connect();
		job = load_job(nsp, relid);
		if (!job.found)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("table \"%s\" is not watched", get_rel_name(relid)),
					 errhint("Call sst2_watch first.")));
		if (strcmp(job.state, "failed") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("sst2 stopped labelling table \"%s\": %s",
							get_rel_name(relid), job.last_error ? job.last_error : "failed")));
		n = count_pending(relid, &job);
		SPI_finish();
		if (n == 0)
			PG_RETURN_BOOL(true);
		if (n < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("a watched column of table \"%s\" no longer exists", get_rel_name(relid))));
		if (GetCurrentTimestamp() >= next_kick)
		{
			/* a server restarted without preload has no worker yet */
			sst2_worker_kick(true);
			next_kick = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 5000);
		}
		if (GetCurrentTimestamp() >= deadline)
			PG_RETURN_BOOL(false);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 nap_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		nap_ms = Min(nap_ms * 2, 500);
	}
}

/*
 * BEFORE UPDATE OF source row trigger (arguments: source, label[, score]):
 * a row whose source changed gets a NULL label and score, which makes it
 * pending for the worker.  No model runs here.
 */
PG_FUNCTION_INFO_V1(sst2_watch_clear);
Datum
sst2_watch_clear(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Trigger    *trigger;
	TupleDesc	tupdesc;
	HeapTuple	newtup;
	int			src_col;
	int			cols[2];
	Datum		values[2] = {0, 0};
	bool		nulls[2] = {true, true};
	int			ncols = 1;
	Datum		oldv,
				newv;
	bool		oldnull,
				newnull;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_UPDATE(td->tg_event) ||
		!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("sst2_watch_clear must be fired BEFORE UPDATE ... FOR EACH ROW")));
	trigger = td->tg_trigger;
	if (trigger->tgnargs != 2 && trigger->tgnargs != 3)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("sst2_watch_clear needs the source, label and optionally score column names")));
	tupdesc = RelationGetDescr(td->tg_relation);
	newtup = td->tg_newtuple;
	src_col = SPI_fnumber(tupdesc, trigger->tgargs[0]);
	cols[0] = SPI_fnumber(tupdesc, trigger->tgargs[1]);
	if (trigger->tgnargs == 3)
	{
		cols[1] = SPI_fnumber(tupdesc, trigger->tgargs[2]);
		ncols = 2;
	}
	/* a watched column dropped under the trigger: leave the row alone (the job fails) */
	if (src_col <= 0 || cols[0] <= 0 || (ncols == 2 && cols[1] <= 0))
		return PointerGetDatum(newtup);

	oldv = heap_getattr(td->tg_trigtuple, src_col, tupdesc, &oldnull);
	newv = heap_getattr(newtup, src_col, tupdesc, &newnull);
	if (oldnull == newnull && (newnull || datum_image_eq(oldv, newv, false, -1)))
		return PointerGetDatum(newtup);
	return PointerGetDatum(heap_modify_tuple_by_cols(newtup, tupdesc, ncols, cols,
													 values, nulls));
}

/*
 * AFTER INSERT OR UPDATE OF source statement trigger: advance the
 * sequence sst2_watch_changes, which tells the worker that a watched table
 * may have new pending rows.  Non-transactional, no lock: writers never
 * wait on each other or on the worker here.
 */
PG_FUNCTION_INFO_V1(sst2_watch_wake);
Datum
sst2_watch_wake(PG_FUNCTION_ARGS)
{
	Oid			seq;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("sst2_watch_wake: not called by trigger manager")));
	seq = get_relname_relid("sst2_watch_changes", ext_namespace(fcinfo));
	if (OidIsValid(seq))
		(void) nextval_internal(seq, false);
	return PointerGetDatum(NULL);
}

/*
 * trigger.c
 *	  sst2_tag(source, label_column [, score_column]): a BEFORE INSERT OR
 *	  UPDATE ... FOR EACH ROW trigger that fills a label (and score) column
 *	  from a text column.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/rel.h"

#include "sst2_pg.h"

/*
 * Column number of name in rel, checked to be of one of the given types;
 * an ERROR naming the column otherwise.
 */
static int
tag_column(Relation rel, const char *name, const Oid *types, int ntypes,
		   const char *what)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			attnum = SPI_fnumber(tupdesc, name);
	Oid			typid;

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						name, RelationGetRelationName(rel))));
	typid = SPI_gettypeid(tupdesc, attnum);
	for (int i = 0; i < ntypes; i++)
		if (typid == types[i])
			return attnum;
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("column \"%s\" of relation \"%s\" has type %s, but sst2_tag needs %s for the %s",
					name, RelationGetRelationName(rel), format_type_be(typid),
					types[0] == TEXTOID ? "text or varchar" : "real, double precision or numeric",
					what)));
	return 0;					/* not reached */
}

/*
 * The label as a datum of the label column: text, or varchar coerced to the
 * column's length as an INSERT would (ERROR 22001 when it does not fit).
 */
static Datum
label_datum(const char *label, Oid typid, int32 typmod)
{
	Datum		d = CStringGetTextDatum(label);

	if (typid == VARCHAROID && typmod >= 0)
		d = DirectFunctionCall3(varchar, d, Int32GetDatum(typmod),
								BoolGetDatum(false));
	return d;
}

/*
 * The score as a datum of the score column's type; a numeric(p,s) column
 * gets the value rounded to its scale as an INSERT would (ERROR 22003 when it
 * does not fit).
 */
static Datum
score_datum(float4 score, Oid typid, int32 typmod)
{
	Datum		d;

	switch (typid)
	{
		case FLOAT4OID:
			return Float4GetDatum(score);
		case FLOAT8OID:
			return Float8GetDatum((float8) score);
		default:
			d = DirectFunctionCall1(float4_numeric, Float4GetDatum(score));
			if (typmod >= 0)
				d = DirectFunctionCall2(numeric, d, Int32GetDatum(typmod));
			return d;
	}
}

/*
 * sst2_tag(): trigger function.  Arguments: the source text column, the label
 * column (text or varchar) and optionally the score column (real, double
 * precision or numeric).  NULL text gives NULL label and score.  On UPDATE,
 * when the source value did not change, the row is left as it is and no
 * inference runs.
 */
PG_FUNCTION_INFO_V1(sst2_tag);
Datum
sst2_tag(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	static const Oid text_types[] = {TEXTOID, VARCHAROID};
	static const Oid score_types[] = {FLOAT4OID, FLOAT8OID, NUMERICOID};
	Trigger    *trigger;
	Relation	rel;
	TupleDesc	tupdesc;
	HeapTuple	tuple;
	int			src_col,
				label_col,
				score_col = 0;
	Datum		src;
	bool		src_null;
	int			cols[2];
	Datum		values[2];
	bool		nulls[2];
	int			ncols;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("sst2_tag: not called by trigger manager")));
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ||
		  TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("sst2_tag must be fired BEFORE INSERT OR UPDATE ... FOR EACH ROW")));

	trigger = trigdata->tg_trigger;
	rel = trigdata->tg_relation;
	tupdesc = RelationGetDescr(rel);
	if (trigger->tgnargs != 2 && trigger->tgnargs != 3)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg_plural("trigger \"%s\" passes %d argument to sst2_tag, which needs 2 or 3",
							   "trigger \"%s\" passes %d arguments to sst2_tag, which needs 2 or 3",
							   trigger->tgnargs, trigger->tgname, trigger->tgnargs),
				 errhint("EXECUTE FUNCTION sst2_tag('text_column', 'label_column', 'score_column')")));

	src_col = tag_column(rel, trigger->tgargs[0], text_types, 2, "source text");
	label_col = tag_column(rel, trigger->tgargs[1], text_types, 2, "label");
	if (trigger->tgnargs == 3)
		score_col = tag_column(rel, trigger->tgargs[2], score_types, 3, "score");

	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	src = heap_getattr(tuple, src_col, tupdesc, &src_null);

	/* UPDATE that leaves the source as it was: nothing to do */
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		bool		old_null;
		Datum		old = heap_getattr(trigdata->tg_trigtuple, src_col, tupdesc, &old_null);

		if (old_null == src_null &&
			(src_null || datum_image_eq(old, src, false, -1)))
			return PointerGetDatum(tuple);
	}

	cols[0] = label_col;
	cols[1] = score_col;
	ncols = score_col ? 2 : 1;
	if (src_null)
	{
		nulls[0] = nulls[1] = true;
		values[0] = values[1] = (Datum) 0;
	}
	else
	{
		Sst2Model  *h = sst2_statement_model(fcinfo->flinfo);
		text	   *t = DatumGetTextPP(src);
		float	   *logits = palloc(sizeof(float) * h->n_labels);
		float		score;
		int			top;

		sst2_classify_texts(h, &t, 1, logits);
		top = sst2_top_label(logits, h->n_labels, &score);
		nulls[0] = nulls[1] = false;
		values[0] = label_datum(h->labels[top],
								SPI_gettypeid(tupdesc, label_col),
								TupleDescAttr(tupdesc, label_col - 1)->atttypmod);
		if (score_col)
			values[1] = score_datum(score, SPI_gettypeid(tupdesc, score_col),
									TupleDescAttr(tupdesc, score_col - 1)->atttypmod);
	}
	return PointerGetDatum(heap_modify_tuple_by_cols(tuple, tupdesc, ncols,
													 cols, values, nulls));
}

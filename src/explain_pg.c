/*
 * explain_pg.c
 *	  sst2_explain(text) RETURNS TABLE (ord int, word text, attribution real):
 *	  the occlusion attribution of each word the model read (explain.c), the
 *	  word as the original substring of the text in the database encoding.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "sst2_pg.h"

/*
 * One row per word, in text order: ord (from 1), word, attribution towards
 * the whole text's top label.
 */
PG_FUNCTION_INFO_V1(sst2_explain_sql);
Datum
sst2_explain_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *t = PG_GETARG_TEXT_PP(0);
	Sst2Model  *h = sst2_statement_model(fcinfo->flinfo);
	int			max_ids = sst2_effective_max_length(h);
	size_t		limit = (size_t) sst2_batch_memory * 1024 * 1024;
	int			len;
	const char *utf8 = sst2_text_utf8(t, &len);
	int32	   *ids = palloc(sizeof(int32) * max_ids);
	int32	   *scratch = palloc(sizeof(int32) * max_ids);
	sst2_word  *words = palloc(sizeof(sst2_word) * max_ids);
	double	   *attr = palloc(sizeof(double) * max_ids);
	int			n_words,
				label;
	double		p_label;
	sst2_error	err;

	InitMaterializedSRF(fcinfo, 0);
	if (sst2_explain(h->core, h->batch, utf8, len, max_ids, limit, ids, scratch,
					 words, attr, &n_words, &label, &p_label, &err) != SST2_OK)
		sst2_report(&err);

	for (int w = 0; w < n_words; w++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		char	   *word = pg_any_to_server(utf8 + words[w].start,
											words[w].end - words[w].start, PG_UTF8);

		if (word == utf8 + words[w].start)
			word = pnstrdup(word, words[w].end - words[w].start);
		values[0] = Int32GetDatum(w + 1);
		values[1] = CStringGetTextDatum(word);
		values[2] = Float4GetDatum((float4) attr[w]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

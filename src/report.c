/*
 * report.c
 *	  Core errors (sst2_error) as PostgreSQL ERRORs with a matching errcode.
 */
#include "postgres.h"

#include <errno.h>

#include "sst2_pg.h"

/*
 * Raise a core error as a PostgreSQL ERROR: I/O errors get the errcode of
 * their errno (as PostgreSQL's own file errors do), the others one per kind;
 * the core's detail line becomes the DETAIL, hint (or NULL) the HINT.
 */
void
sst2_report_hint(const sst2_error *err, const char *hint)
{
	int			code;

	switch (err->code)
	{
		case SST2_ERR_IO:
			code = ERRCODE_UNDEFINED_FILE;
			break;
		case SST2_ERR_FILETYPE:
			code = ERRCODE_WRONG_OBJECT_TYPE;
			break;
		case SST2_ERR_FORMAT:
			code = ERRCODE_DATA_CORRUPTED;
			break;
		case SST2_ERR_CONFIG:
			code = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
		case SST2_ERR_NOMEM:
			code = ERRCODE_OUT_OF_MEMORY;
			break;
		case SST2_ERR_LIMIT:
			code = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			break;
		case SST2_ERR_UNSAFE:
			code = ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
			break;
		default:
			code = ERRCODE_INTERNAL_ERROR;
			break;
	}
	/* errcode_for_file_access() reads the errno saved by errstart */
	errno = err->sys_errno;
	ereport(ERROR,
			(err->code == SST2_ERR_IO && err->sys_errno != 0 ?
			 errcode_for_file_access() : errcode(code),
			 errmsg("%s", err->msg),
			 err->detail[0] ? errdetail("%s", err->detail) : 0,
			 hint ? errhint("%s", hint) :
			 err->code == SST2_ERR_UNSAFE ?
			 errhint("sst2 maps what it finds there as model weights: make it owned by the server's operating system user and writable by that user only (chmod 700).") : 0));
}

/* sst2_report_hint without a hint of the caller's. */
void
sst2_report(const sst2_error *err)
{
	sst2_report_hint(err, NULL);
}

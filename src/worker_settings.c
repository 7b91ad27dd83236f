/*
 * worker_settings.c
 *	  The settings of the background labelling worker (worker.c).
 */
#include "postgres.h"

#include "utils/guc.h"

#include "sst2_watch.h"

int			sst2_worker_rows_per_second = 0;
int			sst2_max_workers = 1;

/* Define sst2.worker_rows_per_second and sst2.max_workers. */
void
sst2_worker_settings_init(void)
{
	DefineCustomIntVariable("sst2.worker_rows_per_second",
							"Most rows per second one sst2 worker labels (0: as fast as it can).",
							"Throttles the background labelling of watched tables (sst2_watch), to spare CPU and WAL.",
							&sst2_worker_rows_per_second,
							0, 0, 1000000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("sst2.max_workers",
							"Most sst2 worker processes labelling at the same time, in all databases.",
							"Each runs the model on one core. A database's worker waits for a free place while others label; an idle worker gives its place up.",
							&sst2_max_workers,
							1, 1, 64,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);
}

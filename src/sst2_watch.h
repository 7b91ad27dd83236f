/*
 * sst2_watch.h
 *	  Background labelling of watched tables: what watch.c (the SQL
 *	  functions and triggers) and worker.c (the processes) share; their
 *	  settings are settings.c's.  Include after postgres.h.
 */
#ifndef SST2_WATCH_H
#define SST2_WATCH_H

/*
 * In the postmaster (shared_preload_libraries): register the launcher that
 * starts each database's worker when the server starts (worker.c).
 */
extern void sst2_launcher_register(void);

/*
 * Make sure the current database's worker runs.  probe: now, if no worker
 * holds the database's lock (for callers that see committed jobs);
 * otherwise when this transaction commits, without a check (for the one
 * that creates a job; a second worker exits at once).
 */
extern void sst2_worker_kick(bool probe);

/* Whether a worker process currently serves the current database. */
extern bool sst2_worker_running(void);

#endif							/* SST2_WATCH_H */

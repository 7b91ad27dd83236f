/*
 * sst2_watch.h
 *	  Background labelling of watched tables: what watch.c (the SQL
 *	  functions and triggers), worker.c (the processes) and
 *	  worker_settings.c (their settings) share.  Include after postgres.h.
 */
#ifndef SST2_WATCH_H
#define SST2_WATCH_H

/* Settings (worker_settings.c) */
extern int	sst2_worker_rows_per_second;	/* 0 = as fast as possible */
extern int	sst2_max_workers;	/* most worker processes labelling at once */

/* Define the worker's settings (worker_settings.c). */
extern void sst2_worker_settings_init(void);

/*
 * Module load: the settings, and with shared_preload_libraries the launcher
 * that starts each database's worker when the server starts (worker.c).
 */
extern void sst2_worker_init(void);

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

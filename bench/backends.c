/*
 * backends.c
 *	  Per-backend costs of sst2, measured with libpq (connection settings from
 *	  the usual PG* environment variables).
 *
 *	  backends first N
 *	    N times: open a new connection and run the first
 *	    SELECT sst2_classify(...) in it, then the same statement again; report
 *	    connect+first-call time, the first call alone, the second call, the
 *	    backend's CPU time (/proc/PID/schedstat: steadier than wall time on a
 *	    busy machine) and minor page faults (/proc/PID/stat) during each (-1
 *	    when this user cannot read them), plus connect + SELECT 1 for
 *	    reference.
 *
 *	  backends memory N
 *	    Hold N connections open; sum Pss and Rss of their backends
 *	    (/proc/PID/smaps_rollup) after connecting, then again after each has
 *	    classified one text.  Must run as a user that can read the backends'
 *	    /proc entries (root or the server's OS user).
 *
 *	  One JSON object per measurement on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define MAX_CONN 64
#define CLASSIFY "SELECT sst2_classify('a first call in a new backend')"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static PGconn *
connect_or_die(void)
{
	PGconn	   *c = PQconnectdb("");

	if (PQstatus(c) != CONNECTION_OK)
	{
		fprintf(stderr, "backends: connect: %s", PQerrorMessage(c));
		exit(1);
	}
	return c;
}

static void
exec_or_die(PGconn *c, const char *sql)
{
	PGresult   *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
	{
		fprintf(stderr, "backends: %s: %s", sql, PQerrorMessage(c));
		exit(1);
	}
	PQclear(r);
}

static void
print_list(const char *name, const double *v, int n)
{
	printf("\"%s\":[", name);
	for (int i = 0; i < n; i++)
		printf("%s%.3f", i ? "," : "", v[i] * 1000.0);
	printf("]");
}

/* Minor page faults of process pid so far (field 10 of /proc/PID/stat), or -1. */
static long
minor_faults(int pid)
{
	char		path[64],
				buf[1024];
	FILE	   *f;
	size_t		n;
	char	   *p;
	long		v = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after "pid (comm) ": state ppid pgrp session tty tpgid flags minflt */
	if ((p = strrchr(buf, ')')) != NULL &&
		sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %ld", &v) != 1)
		v = -1;
	return v;
}

/* CPU time of process pid so far in seconds (/proc/PID/schedstat), or -1. */
static double
cpu_seconds(int pid)
{
	char		path[64];
	FILE	   *f;
	unsigned long long ns;
	double		v = -1;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	if (fscanf(f, "%llu", &ns) == 1)
		v = ns * 1e-9;
	fclose(f);
	return v;
}

static void
print_longs(const char *name, const long *v, int n)
{
	printf("\"%s\":[", name);
	for (int i = 0; i < n; i++)
		printf("%s%ld", i ? "," : "", v[i]);
	printf("]");
}

static int
first_call(int n)
{
	double		total[MAX_CONN],
				call[MAX_CONN],
				second[MAX_CONN],
				connect_only[MAX_CONN];
	double		cpu1[MAX_CONN],
				cpu2[MAX_CONN];
	long		flt1[MAX_CONN],
				flt2[MAX_CONN];

	for (int i = 0; i < n; i++)
	{
		double		t0 = now(),
					t1;
		PGconn	   *c = connect_or_die();

		exec_or_die(c, "SELECT 1");
		connect_only[i] = now() - t0;
		PQfinish(c);

		t0 = now();
		c = connect_or_die();
		t1 = now();
		{
			int			pid = PQbackendPID(c);
			long		f0 = minor_faults(pid),
						f1,
						f2;
			double		c0 = cpu_seconds(pid),
						c1,
						c2;

			t1 = now();
			exec_or_die(c, CLASSIFY);
			total[i] = now() - t0;
			call[i] = now() - t1;
			f1 = minor_faults(pid);
			c1 = cpu_seconds(pid);
			t1 = now();
			exec_or_die(c, CLASSIFY);
			second[i] = now() - t1;
			f2 = minor_faults(pid);
			c2 = cpu_seconds(pid);
			cpu1[i] = c0 < 0 || c1 < 0 ? -1e-3 : c1 - c0;
			cpu2[i] = c1 < 0 || c2 < 0 ? -1e-3 : c2 - c1;
			flt1[i] = f0 < 0 || f1 < 0 ? -1 : f1 - f0;
			flt2[i] = f1 < 0 || f2 < 0 ? -1 : f2 - f1;
		}
		PQfinish(c);
	}
	printf("{\"kind\":\"first_call\",\"n\":%d,", n);
	print_list("connect_first_call_ms", total, n);
	printf(",");
	print_list("first_call_ms", call, n);
	printf(",");
	print_list("second_call_ms", second, n);
	printf(",");
	print_list("first_call_cpu_ms", cpu1, n);
	printf(",");
	print_list("second_call_cpu_ms", cpu2, n);
	printf(",");
	print_longs("first_call_minflt", flt1, n);
	printf(",");
	print_longs("second_call_minflt", flt2, n);
	printf(",");
	print_list("connect_select1_ms", connect_only, n);
	printf("}\n");
	return 0;
}

/* Sum Pss and Rss (kB) of the given pids from /proc/PID/smaps_rollup. */
static void
sum_mem(const int *pids, int n, long *pss, long *rss)
{
	*pss = *rss = 0;
	for (int i = 0; i < n; i++)
	{
		char		path[64],
					line[256];
		FILE	   *f;
		long		v;

		snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pids[i]);
		f = fopen(path, "r");
		if (!f)
		{
			perror(path);
			exit(1);
		}
		while (fgets(line, sizeof(line), f))
		{
			if (sscanf(line, "Pss: %ld kB", &v) == 1)
				*pss += v;
			else if (sscanf(line, "Rss: %ld kB", &v) == 1)
				*rss += v;
		}
		fclose(f);
	}
}

static int
memory(int n)
{
	PGconn	   *conns[MAX_CONN];
	int			pids[MAX_CONN] = {0};
	long		pss0,
				rss0,
				pss1,
				rss1;

	for (int i = 0; i < n; i++)
	{
		conns[i] = connect_or_die();
		exec_or_die(conns[i], "SELECT 1");
		pids[i] = PQbackendPID(conns[i]);
	}
	sum_mem(pids, n, &pss0, &rss0);
	for (int i = 0; i < n; i++)
		exec_or_die(conns[i], CLASSIFY);
	sum_mem(pids, n, &pss1, &rss1);
	printf("{\"kind\":\"memory\",\"backends\":%d,\"pss_before_kb\":%ld,\"pss_after_kb\":%ld,"
		   "\"rss_before_kb\":%ld,\"rss_after_kb\":%ld}\n", n, pss0, pss1, rss0, rss1);
	for (int i = 0; i < n; i++)
		PQfinish(conns[i]);
	return 0;
}

int
main(int argc, char **argv)
{
	int			n;

	if (argc != 3 || (n = atoi(argv[2])) < 1 || n > MAX_CONN)
	{
		fprintf(stderr, "usage: backends first|memory N (1..%d)\n", MAX_CONN);
		return 2;
	}
	if (strcmp(argv[1], "first") == 0)
		return first_call(n);
	if (strcmp(argv[1], "memory") == 0)
		return memory(n);
	fprintf(stderr, "usage: backends first|memory N\n");
	return 2;
}

/*
 * fuzz_common.h
 *	  Helpers shared by the libFuzzer targets of the sst2 core: a private
 *	  scratch directory per process (the loaders read files, so each input is
 *	  written to a file there, on tmpfs when scripts/fuzz.sh runs us), and the
 *	  location of the repository's fixtures.
 *
 *	  Scratch directory: $SST2_FUZZ_TMP, else $TMPDIR, else /tmp; removed at
 *	  exit.
 */
#ifndef SST2_FUZZ_COMMON_H
#define SST2_FUZZ_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE				/* memmem */
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sst2_core.h"

#ifndef SST2_REPO_ROOT
#define SST2_REPO_ROOT "."
#endif

static char fz_dir[PATH_MAX];

static void
fz_die(const char *what)
{
	fprintf(stderr, "fuzz setup: %s: %s\n", what, strerror(errno));
	abort();
}

static void
fz_cleanup(void)
{
	DIR		   *d;
	struct dirent *e;
	char		p[PATH_MAX + 256];

	if (!fz_dir[0] || !(d = opendir(fz_dir)))
		return;
	while ((e = readdir(d)) != NULL)
	{
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", fz_dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(fz_dir);
	fz_dir[0] = '\0';
}

/* Create the scratch directory once; returns its path. */
static const char *
fz_tmpdir(void)
{
	const char *base;

	if (fz_dir[0])
		return fz_dir;
	base = getenv("SST2_FUZZ_TMP");
	if (!base || !*base)
		base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	snprintf(fz_dir, sizeof(fz_dir), "%s/sst2fuzz.XXXXXX", base);
	if (!mkdtemp(fz_dir))
		fz_die("mkdtemp");
	atexit(fz_cleanup);
	return fz_dir;
}

/* malloc'd path of name inside the scratch directory. */
static char *
fz_path(const char *name)
{
	const char *d = fz_tmpdir();
	char	   *p = malloc(strlen(d) + strlen(name) + 2);

	if (!p)
		fz_die("malloc");
	sprintf(p, "%s/%s", d, name);
	return p;
}

/* (Re)write a file with exactly these bytes. */
static void
fz_write(const char *path, const void *data, size_t len)
{
	int			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *p = data;

	if (fd < 0)
		fz_die(path);
	while (len > 0)
	{
		ssize_t		w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			fz_die(path);
		p += w;
		len -= (size_t) w;
	}
	close(fd);
}

/* A failed invariant: print and abort, so libFuzzer saves the input. */
#define FZ_ASSERT(cond, ...) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "fuzz invariant failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__); \
			fprintf(stderr, "\n"); \
			abort(); \
		} \
	} while (0)

/* Touch every byte of a range (ASan checks it); the result is unused. */
static volatile unsigned fz_sink;

static void __attribute__((unused))
fz_touch(const void *p, size_t n)
{
	const unsigned char *b = p;
	unsigned	s = 0;

	for (size_t i = 0; i < n; i++)
		s += b[i];
	fz_sink += s;
}

#endif							/* SST2_FUZZ_COMMON_H */

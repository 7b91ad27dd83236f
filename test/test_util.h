/*
 * test_util.h
 *	  What the C unit tests share: the CHECK counter, path formatting, writing
 *	  and copying files, removing a temp tree.  Header-only (static functions),
 *	  included by one test program each.
 */
#ifndef SST2_TEST_UTIL_H
#define SST2_TEST_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int	n_pass,
			n_fail;

#define CHECK(cond, ...) \
	do { \
		if (cond) n_pass++; \
		else { n_fail++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } \
	} while (0)

static char *pathf(const char *fmt,...) __attribute__((format(printf, 1, 2), unused));

/* malloc'd printf-formatted path. */
static char *
pathf(const char *fmt,...)
{
	va_list		ap;
	char	   *p = malloc(4096);

	va_start(ap, fmt);
	vsnprintf(p, 4096, fmt, ap);
	va_end(ap);
	return p;
}

/* Write len bytes to dir/name, or exit. */
static void __attribute__((unused))
write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char	   *p = pathf("%s/%s", dir, name);
	FILE	   *f = fopen(p, "wb");

	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
	{
		printf("FAIL: could not write %s\n", p);
		exit(2);
	}
	free(p);
}

/* Copy file src to dst, or exit. */
static void __attribute__((unused))
copy_file(const char *src, const char *dst)
{
	FILE	   *in = fopen(src, "rb"),
			   *out = fopen(dst, "wb");
	char		buf[1 << 16];
	size_t		n;

	if (!in || !out)
	{
		printf("FAIL: could not copy %s to %s\n", src, dst);
		exit(2);
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
		{
			printf("FAIL: could not write %s\n", dst);
			exit(2);
		}
	fclose(in);
	if (fclose(out) != 0)
		exit(2);
}

/* rm -rf dir. */
static void __attribute__((unused))
remove_tree(const char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL)
	{
		char	   *p;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = pathf("%s/%s", dir, e->d_name);
		if (unlink(p) != 0 && (errno == EISDIR || errno == EPERM))
			remove_tree(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

#endif							/* SST2_TEST_UTIL_H */

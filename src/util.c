/*
 * util.c
 *	  The core's shared helpers (see util.h): errors, non-blocking capped file
 *	  reads, one JSON parse rule, paths, hashing, precision names.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

void		(*sst2_interrupt_hook) (void) = NULL;

/* Fill err (when not NULL) with code, errno e, the formatted message and no detail. */
static sst2_status set_error_v(sst2_error *err, sst2_status code, int e, const char *fmt,
							   va_list ap) __attribute__((format(printf, 4, 0)));

static sst2_status
set_error_v(sst2_error *err, sst2_status code, int e, const char *fmt, va_list ap)
{
	if (err)
	{
		err->code = code;
		err->sys_errno = e;
		err->detail[0] = '\0';
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	}
	return code;
}

/* Fill err with printf-style text and no detail; returns code. */
sst2_status
sst2_set_error(sst2_error *err, sst2_status code, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	set_error_v(err, code, 0, fmt, ap);
	va_end(ap);
	return code;
}

/* sst2_set_error that also records the errno value e. */
sst2_status
sst2_set_error_errno(sst2_error *err, sst2_status code, int e, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	set_error_v(err, code, e, fmt, ap);
	va_end(ap);
	return code;
}

/* Set the detail line of an error already set; returns its code. */
sst2_status
sst2_set_detail(sst2_error *err, const char *fmt,...)
{
	va_list		ap;

	if (!err)
		return SST2_OK;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	return err->code;
}

/*
 * Open a file for reading without blocking and make sure it is a regular
 * file.  O_NONBLOCK makes open() of a FIFO return at once (instead of waiting
 * for a writer nothing can interrupt); the fstat then refuses it, and refuses
 * devices such as /dev/zero, which would otherwise be read forever.
 */
sst2_status
sst2_open_regular(const char *path, const char *what, int *fd, struct stat *st,
				  sst2_error *err)
{
	int			f;

	*fd = -1;
	f = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (f < 0)
		return sst2_set_error_errno(err, SST2_ERR_IO, errno,
									"could not open %s \"%s\": %s", what, path, strerror(errno));
	if (fstat(f, st) != 0)
	{
		int			e = errno;

		close(f);
		return sst2_set_error_errno(err, SST2_ERR_IO, e,
									"could not stat %s \"%s\": %s", what, path, strerror(e));
	}
	if (!S_ISREG(st->st_mode))
	{
		close(f);
		return sst2_set_error(err, SST2_ERR_FILETYPE,
							  "%s \"%s\" is not a regular file", what, path);
	}
	*fd = f;
	return SST2_OK;
}

/* Read a whole regular file (at most max_size bytes) into a malloc'd string. */
sst2_status
sst2_read_file(const char *path, const char *what, size_t max_size, char **out,
			   size_t *len, sst2_error *err)
{
	int			fd;
	struct stat st;
	char	   *buf;
	size_t		got = 0;
	sst2_status rc;

	*out = NULL;
	rc = sst2_open_regular(path, what, &fd, &st, err);
	if (rc != SST2_OK)
		return rc;
	if ((uint64_t) st.st_size > max_size)
	{
		close(fd);
		return sst2_set_error(err, SST2_ERR_LIMIT,
							  "%s \"%s\" is too large (%lld bytes, at most %zu)",
							  what, path, (long long) st.st_size, max_size);
	}
	buf = malloc((size_t) st.st_size + 1);
	if (!buf)
	{
		close(fd);
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory reading \"%s\"", path);
	}
	while (got < (size_t) st.st_size)
	{
		ssize_t		r = read(fd, buf + got, (size_t) st.st_size - got);

		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
		{
			int			e = r < 0 ? errno : EIO;

			free(buf);
			close(fd);
			return sst2_set_error_errno(err, SST2_ERR_IO, e, "could not read %s \"%s\": %s",
										what, path, r < 0 ? strerror(e) : "unexpected end of file");
		}
		got += (size_t) r;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	if (len)
		*len = got;
	return SST2_OK;
}

/* Write all of buf at off, retrying short writes and EINTR. */
int
sst2_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len > 0)
	{
		ssize_t		w = pwrite(fd, p, len, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
		{
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		len -= (size_t) w;
		off += w;
	}
	return 0;
}

/* mkdir -p with mode 0700 for the directories it creates. */
int
sst2_mkdir_p(const char *dir)
{
	char	   *p = sst2_strdup(dir);
	int			rc = 0;
	struct stat st;

	if (!p)
		return -1;
	for (char *s = p + 1; rc == 0; s++)
	{
		if (*s == '/' || *s == '\0')
		{
			char		c = *s;

			*s = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST)
				rc = -1;
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	if (rc != 0)
		return rc;
	if (stat(dir, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
	{
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* JSON's own whitespace: space, tab, line feed, carriage return. */
static int
json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parse the whole of text as one JSON object (see util.h). */
sst2_status
sst2_json_parse_object(const char *text, size_t len, const char *path,
					   const char *what, json_object **root, sst2_error *err)
{
	json_tokener *tok;
	json_object *r;
	enum json_tokener_error jerr;
	size_t		end;

	*root = NULL;
	if (len == 0)
		return sst2_set_error(err, SST2_ERR_FORMAT, "%s \"%s\" is empty", what, path);
	if (len > (size_t) INT32_MAX)
		return sst2_set_error(err, SST2_ERR_LIMIT, "%s \"%s\" is too large", what, path);
	tok = json_tokener_new_ex(64);
	if (!tok)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	r = json_tokener_parse_ex(tok, text, (int) len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (r == NULL || jerr != json_tokener_success)
	{
		json_object_put(r);
		return sst2_set_error(err, SST2_ERR_FORMAT, "could not parse %s \"%s\" as JSON: %s",
							  what, path,
							  jerr == json_tokener_continue || jerr == json_tokener_success ?
							  "unexpected end of data" : json_tokener_error_desc(jerr));
	}
	for (size_t i = end; i < len; i++)
		if (!json_space(text[i]))
		{
			json_object_put(r);
			return sst2_set_error(err, SST2_ERR_FORMAT,
								  "could not parse %s \"%s\" as JSON: trailing data after the value",
								  what, path);
		}
	if (!json_object_is_type(r, json_type_object))
	{
		json_object_put(r);
		return sst2_set_error(err, SST2_ERR_FORMAT, "%s \"%s\" is not a JSON object",
							  what, path);
	}
	*root = r;
	return SST2_OK;
}

/* Read and parse a small JSON file holding one object. */
sst2_status
sst2_json_read_object(const char *path, const char *what, size_t max_size,
					  json_object **root, sst2_error *err)
{
	char	   *text;
	size_t		len;
	sst2_status rc;

	*root = NULL;
	rc = sst2_read_file(path, what, max_size, &text, &len, err);
	if (rc != SST2_OK)
		return rc;
	rc = sst2_json_parse_object(text, len, path, what, root, err);
	free(text);
	return rc;
}

/* malloc'd copy of s (NULL when out of memory). */
char *
sst2_strdup(const char *s)
{
	size_t		n = strlen(s) + 1;
	char	   *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

/* malloc'd a + "/" + b (no doubled slash). */
char *
sst2_path_join(const char *a, const char *b)
{
	size_t		la = strlen(a),
				lb = strlen(b);
	char	   *p = malloc(la + lb + 2);

	if (!p)
		return NULL;
	memcpy(p, a, la);
	if (la > 0 && a[la - 1] != '/')
		p[la++] = '/';
	memcpy(p + la, b, lb + 1);
	return p;
}

/* 64-bit FNV-1a over len bytes, continuing from h. */
uint64_t
sst2_fnv1a(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * UINT64_C(0x100000001B3);
	return h;
}

/* The names of the precisions, in sst2_precision order. */
static const char *const precision_names[] = {"fp32", "bf16", "int8"};

/* See sst2_core.h. */
const char *
sst2_precision_name(sst2_precision p)
{
	return (unsigned) p <= SST2_PREC_INT8 ? precision_names[p] : "unknown";
}

/* See sst2_core.h. */
bool
sst2_precision_parse(const char *s, sst2_precision *out)
{
	for (int i = 0; s && i <= SST2_PREC_INT8; i++)
		if (strcmp(s, precision_names[i]) == 0)
		{
			*out = (sst2_precision) i;
			return true;
		}
	return false;
}

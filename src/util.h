/*
 * util.h
 *	  Internal to the sst2 core: the helpers every core file shares, and
 *	  nothing else (it includes no other core header but sst2_core.h).
 *
 *	  - errors: setters that also keep errno and an errdetail-style detail;
 *	  - files: opening a file sst2 reads without ever blocking on it (FIFOs,
 *	    devices and other non-regular files are refused before any read),
 *	    reading a small file whole with a size cap, writing all of a buffer;
 *	  - JSON: parsing a file's text with one rule for what may follow the
 *	    value (JSON whitespace, nothing else: not even a NUL byte);
 *	  - paths, hashing and mkdir -p.
 */
#ifndef SST2_UTIL_H
#define SST2_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "sst2_core.h"

/* ---------------------------------------------------------------- errors */

/* Like sst2_set_error, and keep errno e (an I/O error's cause) in err. */
sst2_status sst2_set_error_errno(sst2_error *err, sst2_status code, int e,
								 const char *fmt,...)
			__attribute__((format(printf, 4, 5)));

/* Set err's detail line ("expected X, found Y"); returns err->code. */
sst2_status sst2_set_detail(sst2_error *err, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------- files */

/*
 * Open path read-only without blocking (O_NONBLOCK: a FIFO cannot stall the
 * open) and check that it is a regular file; fills *fd and *st.  what names
 * the file in messages ("vocabulary file", ...).
 */
sst2_status sst2_open_regular(const char *path, const char *what, int *fd,
							  struct stat *st, sst2_error *err);

/*
 * Read a whole regular file of at most max_size bytes into a NUL-terminated
 * malloc'd buffer (*out, *len).
 */
sst2_status sst2_read_file(const char *path, const char *what, size_t max_size,
						   char **out, size_t *len, sst2_error *err);

/* Write all len bytes of buf at offset off; -1 with errno set on failure. */
int			sst2_pwrite_all(int fd, const void *buf, size_t len, off_t off);

/* mkdir -p, creating missing directories with mode 0700; -1 with errno. */
int			sst2_mkdir_p(const char *dir);

/* ---------------------------------------------------------------- JSON */

/*
 * Parse text (len bytes, the whole of file path) as one JSON object; only
 * JSON whitespace may follow it.  *root is the caller's (json_object_put).
 */
sst2_status sst2_json_parse_object(const char *text, size_t len, const char *path,
								   const char *what, json_object **root,
								   sst2_error *err);

/* sst2_read_file + sst2_json_parse_object. */
sst2_status sst2_json_read_object(const char *path, const char *what, size_t max_size,
								  json_object **root, sst2_error *err);

/* ---------------------------------------------------------------- misc */

char	   *sst2_path_join(const char *a, const char *b);	/* malloc'd "a/b" */
char	   *sst2_strdup(const char *s);

#define SST2_FNV_INIT UINT64_C(0xCBF29CE484222325)
/* 64-bit FNV-1a of len bytes, continuing from h (start with SST2_FNV_INIT). */
uint64_t	sst2_fnv1a(uint64_t h, const void *data, size_t len);

#endif							/* SST2_UTIL_H */

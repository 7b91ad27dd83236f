/*
 * weights_cache.c
 *	  Converted weights: the tensors the forward pass cannot read where they
 *	  lie in model.safetensors (F16/BF16, or misaligned F32) are converted
 *	  once into a cache file that every backend then maps read-only and
 *	  shares, or, without a cache folder, into private memory.
 *
 *	  The file is named after the source's folder, its identity and the
 *	  format of its content, so another precision or packed layout gets a
 *	  file of its own: "<folder>-<16 hex digits>.<format>" ("f32" here; "i8"
 *	  and "bf16" from quantize.c, through sst2_cache_build).  It starts with a 128-byte header that ties it to one
 *	  source file (dev, inode, size, mtime), one conversion plan (names,
 *	  offsets and dtypes converted) and one content (a hash of the data part).
 *	  Then the converted tensors follow at 64-byte aligned offsets.
 *
 *	  Trust: anybody who can write the cache folder or a cache file decides
 *	  what the server computes, so a folder writable by other users is an
 *	  error (as PostgreSQL treats its data directory), and a file that is not
 *	  owned by this process's user, is writable by others, or does not match
 *	  its header and hash is never used: it is rebuilt (a new file renamed
 *	  over it).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"
#include "util.h"

#define CACHE_MAGIC "SST2WC\n"		/* 8 bytes with its NUL */
#define CACHE_VERSION 2
#define CACHE_HDR 128

typedef struct cache_header
{
	char		magic[8];
	uint32_t	version;
	uint32_t	header_size;
	char		format[16];		/* what the data is: "f32", "i8", "bf16" */
	uint64_t	dev;			/* the source file's identity */
	uint64_t	ino;
	uint64_t	size;
	uint64_t	mtime_ns;
	uint64_t	plan_hash;		/* what was converted, and where it went */
	uint64_t	n_floats;		/* length of the data part, in 4-byte words */
	uint64_t	data_hash;		/* sst2_hash_bytes of the data part */
	char		reserved[40];
} cache_header;

_Static_assert(sizeof(cache_header) == CACHE_HDR, "cache header must be 128 bytes");

/* ---------------------------------------------------------------- hashing */

static inline uint64_t
rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/*
 * A fast non-cryptographic 64-bit hash: four independent multiply-rotate
 * lanes over 32-byte blocks (so it runs at memory speed), the tail and the
 * lanes folded in with FNV-1a.  It detects accidental and careless damage
 * (zeroed, truncated, stale content); the trust checks above keep out files
 * that others could have forged.
 */
uint64_t
sst2_hash_bytes(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t	lane[4] = {h, h ^ UINT64_C(0x9E3779B97F4A7C15),
	h ^ UINT64_C(0xBF58476D1CE4E5B9), h ^ UINT64_C(0x94D049BB133111EB)};
	const uint64_t prime = UINT64_C(0x9FB21C651E98DF25);
	size_t		i = 0;

	for (; i + 32 <= len; i += 32)
		for (int k = 0; k < 4; k++)
		{
			uint64_t	w;

			memcpy(&w, p + i + 8 * k, 8);
			lane[k] = rotl64((lane[k] ^ w) * prime, 29);
		}
	h = sst2_fnv1a(h, lane, sizeof(lane));
	h = sst2_fnv1a(h, p + i, len - i);
	return sst2_fnv1a(h, &len, sizeof(len));
}

/* ---------------------------------------------------------------- the file */

/* The header a cache file for this source and plan must have (hash aside). */
static void
header_fill(cache_header *h, const struct stat *st, const char *format,
			uint64_t plan_hash, size_t n_floats)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, CACHE_MAGIC, 8);
	h->version = CACHE_VERSION;
	h->header_size = CACHE_HDR;
	snprintf(h->format, sizeof(h->format), "%s", format);
	h->dev = (uint64_t) st->st_dev;
	h->ino = (uint64_t) st->st_ino;
	h->size = (uint64_t) st->st_size;
	h->mtime_ns = (uint64_t) st->st_mtim.tv_sec * 1000000000u + (uint64_t) st->st_mtim.tv_nsec;
	h->plan_hash = plan_hash;
	h->n_floats = n_floats;
}

/* Hash of what was converted: names, source offsets, sizes, dtypes, targets. */
static uint64_t
plan_hash(const tensor_spec *specs, int n)
{
	uint64_t	h = SST2_FNV_INIT;

	for (int i = 0; i < n; i++)
	{
		const tensor_spec *s = &specs[i];

		if (!s->convert)
			continue;
		h = sst2_fnv1a(h, s->name, strlen(s->name) + 1);
		h = sst2_fnv1a(h, &s->t->begin, sizeof(s->t->begin));
		h = sst2_fnv1a(h, &s->t->numel, sizeof(s->t->numel));
		h = sst2_fnv1a(h, &s->t->dtype, sizeof(s->t->dtype));
		h = sst2_fnv1a(h, &s->conv_off, sizeof(s->conv_off));
	}
	return h;
}

/* What convert_all converts. */
typedef struct convert_arg
{
	const st_file *src;
	const tensor_spec *specs;
	int			n;
} convert_arg;

/* Convert every planned tensor of the source into dst (zeroed gaps). */
static void
convert_all(void *dst, void *arg)
{
	const convert_arg *a = arg;

	for (int i = 0; i < a->n; i++)
		if (a->specs[i].convert)
			sst2_convert_to_f32((float *) dst + a->specs[i].conv_off,
								a->src->data + a->specs[i].t->begin,
								(sst2_dtype) a->specs[i].t->dtype, a->specs[i].t->numel);
}

/*
 * Write the cache to a temp file in the same folder, hash its data, and
 * rename it into place (atomically replacing whatever was there).
 */
static sst2_status
cache_write(const char *path, sst2_cache_fill fill, void *arg, cache_header *h,
			sst2_error *err)
{
	size_t		len = strlen(path);
	char	   *tmp = malloc(len + 16);
	size_t		data_bytes = h->n_floats * sizeof(float);
	size_t		total = CACHE_HDR + data_bytes;
	void	   *map = MAP_FAILED;
	int			fd,
				e;

	if (!tmp)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	snprintf(tmp, len + 16, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0)
	{
		e = errno;
		free(tmp);
		return sst2_set_error_errno(err, SST2_ERR_IO, e,
									"could not create a cache file beside \"%s\": %s",
									path, strerror(e));
	}
	if (ftruncate(fd, (off_t) total) != 0)
		goto fail_io;
	map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		goto fail_io;
	fill((char *) map + CACHE_HDR, arg);
	h->data_hash = sst2_hash_bytes(SST2_FNV_INIT, (char *) map + CACHE_HDR, data_bytes);
	memcpy(map, h, sizeof(*h));
	if (msync(map, total, MS_SYNC) != 0)
		goto fail_io;
	munmap(map, total);
	map = MAP_FAILED;
	if (fsync(fd) != 0)
		goto fail_io;
	if (close(fd) != 0)
	{
		fd = -1;
		goto fail_io;
	}
	fd = -1;
	/* a concurrent writer's rename is harmless: both files are identical */
	if (rename(tmp, path) != 0)
		goto fail_io;
	free(tmp);
	return SST2_OK;

fail_io:
	e = errno;
	if (map != MAP_FAILED)
		munmap(map, total);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return sst2_set_error_errno(err, SST2_ERR_IO, e, "could not write cache file \"%s\": %s",
								path, strerror(e));
}

/*
 * Map the cache file at path when it can be trusted: a regular file of this
 * user, not writable by others, of the right size, with the expected header
 * and a data hash that matches.  Returns false (nothing mapped) otherwise.
 */
static bool
cache_try_map(converted_weights *cw, const char *path, const cache_header *want)
{
	int			fd;
	struct stat st;
	cache_header got;
	size_t		total = CACHE_HDR + want->n_floats * sizeof(float);
	void	   *map;

	if (sst2_open_regular(path, "cache file", &fd, &st, NULL) != SST2_OK)
		return false;
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
		(uint64_t) st.st_size != total ||
		pread(fd, &got, sizeof(got), 0) != (ssize_t) sizeof(got))
	{
		close(fd);
		return false;
	}
	/* everything but the data hash must be what this source and plan give */
	{
		cache_header a = got,
					b = *want;

		a.data_hash = b.data_hash = 0;
		if (memcmp(&a, &b, sizeof(a)) != 0)
		{
			close(fd);
			return false;
		}
	}
	map = mmap(NULL, total, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return false;
	if (sst2_hash_bytes(SST2_FNV_INIT, (char *) map + CACHE_HDR, total - CACHE_HDR) != got.data_hash)
	{
		munmap(map, total);
		return false;
	}
	cw->map = map;
	cw->map_size = total;
	cw->bytes = (const uint8_t *) map + CACHE_HDR;
	cw->data = (const float *) cw->bytes;
	return true;
}

/*
 * The cache folder must exist (it is created 0700) and be writable by this
 * user only: sst2 maps what it finds there as model weights.
 */
static sst2_status
check_cache_dir(const char *dir, sst2_error *err)
{
	struct stat st;

	if (sst2_mkdir_p(dir) != 0 || stat(dir, &st) != 0)
		return sst2_set_error_errno(err, SST2_ERR_IO, errno,
									"could not create cache directory \"%s\": %s",
									dir, strerror(errno));
	if (st.st_uid != geteuid())
	{
		sst2_set_error(err, SST2_ERR_UNSAFE,
					   "cache directory \"%s\" is not owned by the server's user", dir);
		return sst2_set_detail(err, "It is owned by user id %u; sst2 runs as user id %u.",
							   (unsigned) st.st_uid, (unsigned) geteuid());
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
	{
		sst2_set_error(err, SST2_ERR_UNSAFE,
					   "cache directory \"%s\" is writable by other users", dir);
		return sst2_set_detail(err, "Its permissions are %04o.",
							   (unsigned) (st.st_mode & 07777));
	}
	return SST2_OK;
}

/* "<folder>-<key>.<format>" for the source at src_path (realpath'd). */
static sst2_status
cache_name(char *name, size_t size, const char *src_path, const cache_header *h,
		   sst2_error *err)
{
	char	   *real = realpath(src_path, NULL);
	char	   *slash;
	const char *base;
	uint64_t	key;
	size_t		blen;

	if (!real)
		return sst2_set_error_errno(err, SST2_ERR_IO, errno, "could not resolve \"%s\": %s",
									src_path, strerror(errno));
	key = sst2_fnv1a(SST2_FNV_INIT, real, strlen(real) + 1);
	key = sst2_fnv1a(key, h, sizeof(*h));
	/* the folder name, for people looking at the cache directory */
	slash = strrchr(real, '/');
	if (slash)
		*slash = '\0';
	base = strrchr(real, '/') ? strrchr(real, '/') + 1 : real;
	blen = strlen(base) > 64 ? 64 : strlen(base);
	snprintf(name, size, "%.*s-%016llx.%s", (int) blen, base, (unsigned long long) key,
			 h->format);
	free(real);
	for (char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			  (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.'))
			*c = '_';
	if (name[0] == '.')
		name[0] = '_';
	return SST2_OK;
}

/* See model.h. */
sst2_status
sst2_cache_build(converted_weights *cw, const st_file *src, const char *format,
				 uint64_t plan, size_t n_bytes, sst2_cache_fill fill, void *arg,
				 const char *cache_dir, sst2_error *err)
{
	cache_header h;
	char		name[192];
	sst2_status rc;

	memset(cw, 0, sizeof(*cw));
	n_bytes = (n_bytes + 63) & ~(size_t) 63;
	if (n_bytes > SIZE_MAX - CACHE_HDR - 64)
		return sst2_set_error(err, SST2_ERR_LIMIT, "\"%s\" is too large to convert", src->path);

	if (cache_dir == NULL)
	{
		void	   *p = NULL;

		if (posix_memalign(&p, 64, n_bytes) != 0)
			return sst2_set_error(err, SST2_ERR_NOMEM,
								  "out of memory converting \"%s\" to %s (%zu bytes)",
								  src->path, format, n_bytes);
		memset(p, 0, n_bytes);
		fill(p, arg);
		cw->heap = p;
		cw->bytes = p;
		cw->data = p;
		return SST2_OK;
	}

	header_fill(&h, &src->file_stat, format, plan, n_bytes / 4);
	if ((rc = check_cache_dir(cache_dir, err)) != SST2_OK ||
		(rc = cache_name(name, sizeof(name), src->path, &h, err)) != SST2_OK)
		return rc;
	cw->path = sst2_path_join(cache_dir, name);
	if (!cw->path)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");

	if (cache_try_map(cw, cw->path, &h))
		return SST2_OK;
	rc = cache_write(cw->path, fill, arg, &h, err);
	if (rc != SST2_OK)
		return rc;
	if (!cache_try_map(cw, cw->path, &h))
		return sst2_set_error_errno(err, SST2_ERR_IO, errno,
									"could not map cache file \"%s\" just written", cw->path);
	return SST2_OK;
}

/* See model.h. */
sst2_status
sst2_convert_weights(converted_weights *cw, const st_file *src, const tensor_spec *specs,
					 int n, size_t n_floats, const char *cache_dir, sst2_error *err)
{
	convert_arg a = {src, specs, n};

	if (n_floats > (SIZE_MAX - CACHE_HDR - 64) / sizeof(float))
		return sst2_set_error(err, SST2_ERR_LIMIT, "\"%s\" is too large to convert", src->path);
	return sst2_cache_build(cw, src, "f32", plan_hash(specs, n), n_floats * sizeof(float),
							convert_all, &a, cache_dir, err);
}

/* Unmap or free the converted weights. */
void
sst2_converted_free(converted_weights *cw)
{
	if (cw->anon)
		munmap(cw->anon, cw->anon_size);
	else if (cw->map)
		munmap(cw->map, cw->map_size);
	free(cw->heap);
	free(cw->path);
	memset(cw, 0, sizeof(*cw));
}

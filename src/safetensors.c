/*
 * safetensors.c
 *	  Map a .safetensors file read-only and parse and check its header, and
 *	  the exact fp16/bf16 -> fp32 conversions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "safetensors.h"
#include "util.h"

#define ST_MAX_HEADER	(100 * 1024 * 1024)	/* the format's own limit */

/* ------------------------------------------------------------- dtypes */

int
st_dtype_size(const char *d)
{
	static const struct
	{
		const char *name;
		int			size;
	}			tab[] = {
		{"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"F8_E5M2", 1}, {"F8_E4M3", 1},
		{"F8_E8M0", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2}, {"BF16", 2},
		{"I32", 4}, {"U32", 4}, {"F32", 4}, {"F64", 8}, {"I64", 8}, {"U64", 8},
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(d, tab[i].name) == 0)
			return tab[i].size;
	return 0;
}

static int
dtype_from_name(const char *d)
{
	if (strcmp(d, "F32") == 0)
		return SST2_F32;
	if (strcmp(d, "F16") == 0)
		return SST2_F16;
	if (strcmp(d, "BF16") == 0)
		return SST2_BF16;
	return -1;
}

static inline float
bits_to_f32(uint32_t u)
{
	float		f;

	memcpy(&f, &u, 4);
	return f;
}

/* IEEE binary16 -> binary32, exact for every input (subnormals, inf, nan). */
float
sst2_f16_to_f32(uint16_t h)
{
	uint32_t	sign = (uint32_t) (h & 0x8000) << 16;
	uint32_t	exp = (h >> 10) & 0x1f;
	uint32_t	man = h & 0x3ff;

	if (exp == 0x1f)			/* inf / nan: keep the payload */
		return bits_to_f32(sign | 0x7f800000u | (man << 13));
	if (exp == 0)
	{
		if (man == 0)
			return bits_to_f32(sign);
		/* subnormal: man * 2^-24, exactly representable in fp32 */
		{
			float		v = (float) man * 0x1p-24f;

			return sign ? -v : v;
		}
	}
	return bits_to_f32(sign | ((exp + 112) << 23) | (man << 13));
}

float
sst2_bf16_to_f32(uint16_t b)
{
	return bits_to_f32((uint32_t) b << 16);
}

void
sst2_convert_to_f32(float *dst, const void *src, sst2_dtype t, size_t n)
{
	const uint8_t *s = src;

	switch (t)
	{
		case SST2_F32:
			memcpy(dst, src, n * sizeof(float));
			break;
		case SST2_F16:
			for (size_t i = 0; i < n; i++)
				dst[i] = sst2_f16_to_f32((uint16_t) (s[2 * i] | (s[2 * i + 1] << 8)));
			break;
		case SST2_BF16:
			for (size_t i = 0; i < n; i++)
				dst[i] = sst2_bf16_to_f32((uint16_t) (s[2 * i] | (s[2 * i + 1] << 8)));
			break;
	}
}

/* ------------------------------------------------------------- header */

static int
cmp_tensor(const void *a, const void *b)
{
	return strcmp(((const st_tensor *) a)->name, ((const st_tensor *) b)->name);
}

const st_tensor *
st_find(const st_file *f, const char *name)
{
	st_tensor	key;

	if (f->n_tensors == 0)
		return NULL;
	key.name = (char *) name;
	return bsearch(&key, f->tensors, (size_t) f->n_tensors, sizeof(st_tensor), cmp_tensor);
}

/* A non-negative JSON integer. */
static bool
get_u64(json_object *v, uint64_t *out)
{
	int64_t		x;

	if (!json_object_is_type(v, json_type_int))
		return false;
	errno = 0;
	x = json_object_get_int64(v);
	if (errno != 0 || x < 0)
		return false;
	*out = (uint64_t) x;
	return true;
}

static sst2_status
parse_entry(st_file *f, st_tensor *t, const char *name, json_object *e, sst2_error *err)
{
	json_object *dt,
			   *shape,
			   *offs;
	uint64_t	numel = 1;
	int			esize;

	t->name = sst2_strdup(name);
	if (!t->name)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	if (!json_object_is_type(e, json_type_object) ||
		!json_object_object_get_ex(e, "dtype", &dt) ||
		!json_object_object_get_ex(e, "shape", &shape) ||
		!json_object_object_get_ex(e, "data_offsets", &offs))
		return sst2_set_error(err, SST2_ERR_FORMAT,
							  "tensor \"%s\" in \"%s\" has no \"dtype\", \"shape\" or \"data_offsets\"",
							  name, f->path);
	if (!json_object_is_type(dt, json_type_string) ||
		json_object_get_string_len(dt) >= (int) sizeof(t->dtype_name))
		return sst2_set_error(err, SST2_ERR_FORMAT,
							  "tensor \"%s\" in \"%s\" has an invalid dtype", name, f->path);
	strcpy(t->dtype_name, json_object_get_string(dt));
	t->dtype = dtype_from_name(t->dtype_name);

	if (!json_object_is_type(shape, json_type_array) ||
		json_object_array_length(shape) > ST_MAX_DIMS)
		return sst2_set_error(err, SST2_ERR_FORMAT,
							  "tensor \"%s\" in \"%s\" has an invalid shape", name, f->path);
	t->ndim = (int) json_object_array_length(shape);
	for (int i = 0; i < t->ndim; i++)
	{
		uint64_t	d;

		if (!get_u64(json_object_array_get_idx(shape, (size_t) i), &d) ||
			d > (UINT64_C(1) << 40))
			return sst2_set_error(err, SST2_ERR_FORMAT,
								  "tensor \"%s\" in \"%s\" has an invalid shape", name, f->path);
		t->shape[i] = (int64_t) d;
		if (d != 0 && numel > UINT64_MAX / 8 / d)
			return sst2_set_error(err, SST2_ERR_FORMAT,
								  "tensor \"%s\" in \"%s\" has an invalid shape", name, f->path);
		numel *= d;
	}
	t->numel = numel;

	if (!json_object_is_type(offs, json_type_array) ||
		json_object_array_length(offs) != 2 ||
		!get_u64(json_object_array_get_idx(offs, 0), &t->begin) ||
		!get_u64(json_object_array_get_idx(offs, 1), &t->end) ||
		t->begin > t->end)
		return sst2_set_error(err, SST2_ERR_FORMAT,
							  "tensor \"%s\" in \"%s\" has invalid data_offsets", name, f->path);
	if (t->end > f->data_size)
		return sst2_set_error(err, SST2_ERR_FORMAT,
							  "tensor \"%s\" in \"%s\" has data_offsets [%llu, %llu] beyond the end of the data (%llu bytes)",
							  name, f->path, (unsigned long long) t->begin,
							  (unsigned long long) t->end, (unsigned long long) f->data_size);
	esize = st_dtype_size(t->dtype_name);
	if (esize != 0 && t->end - t->begin != numel * (uint64_t) esize)
	{
		sst2_set_error(err, SST2_ERR_FORMAT,
					   "tensor \"%s\" in \"%s\" has the wrong number of bytes for its shape and dtype",
					   name, f->path);
		return sst2_set_detail(err, "Expected %llu bytes (dtype %s), found %llu.",
							   (unsigned long long) (numel * (uint64_t) esize), t->dtype_name,
							   (unsigned long long) (t->end - t->begin));
	}
	return SST2_OK;
}

static sst2_status
parse_header(st_file *f, const char *text, size_t len, sst2_error *err)
{
	json_object *root;
	sst2_status st;
	int			n = 0;

	/* the format pads the header with spaces: JSON whitespace, nothing else */
	st = sst2_json_parse_object(text, len, f->path, "the header of", &root, err);
	if (st != SST2_OK)
		return st;

	f->tensors = calloc((size_t) json_object_object_length(root) + 1, sizeof(st_tensor));
	if (!f->tensors)
	{
		json_object_put(root);
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	}
	{
		json_object_object_foreach(root, key, val)
		{
			if (strcmp(key, "__metadata__") == 0)
				continue;
			f->n_tensors = n + 1;	/* so st_close frees a half-filled entry */
			st = parse_entry(f, &f->tensors[n], key, val, err);
			if (st != SST2_OK)
				break;
			n++;
		}
	}
	json_object_put(root);
	if (st != SST2_OK)
		return st;
	f->n_tensors = n;
	qsort(f->tensors, (size_t) n, sizeof(st_tensor), cmp_tensor);
	return SST2_OK;
}

/* ------------------------------------------------------------- open/close */

sst2_status
st_open(st_file *f, const char *path, sst2_error *err)
{
	int			fd;
	void	   *map;
	uint64_t	n = 0;
	char	   *hdr;
	sst2_status st;

	memset(f, 0, sizeof(*f));
	f->path = sst2_strdup(path);
	if (!f->path)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");

	st = sst2_open_regular(path, "file", &fd, &f->file_stat, err);
	if (st != SST2_OK)
		return st;
	if (f->file_stat.st_size < 8)
	{
		close(fd);
		return sst2_set_error(err, SST2_ERR_FORMAT,
							  "\"%s\" is too short to be a safetensors file (%lld bytes)",
							  path, (long long) f->file_stat.st_size);
	}
	map = mmap(NULL, (size_t) f->file_stat.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
	{
		int			e = errno;

		close(fd);
		return sst2_set_error_errno(err, SST2_ERR_IO, e, "could not map file \"%s\": %s",
									path, strerror(e));
	}
	close(fd);
	f->map = map;
	f->map_size = (size_t) f->file_stat.st_size;

	for (int i = 7; i >= 0; i--)
		n = (n << 8) | f->map[i];
	if (n > (uint64_t) f->file_stat.st_size - 8)
		return sst2_set_error(err, SST2_ERR_FORMAT,
							  "\"%s\" has a header length of %llu bytes, but the file has %lld bytes",
							  path, (unsigned long long) n, (long long) f->file_stat.st_size);
	if (n < 2 || n > ST_MAX_HEADER)
		return sst2_set_error(err, SST2_ERR_FORMAT,
							  "\"%s\" has an invalid header length of %llu bytes (at most %d)",
							  path, (unsigned long long) n, ST_MAX_HEADER);
	f->data = f->map + 8 + n;
	f->data_size = (uint64_t) f->file_stat.st_size - 8 - n;

	/* json-c wants a NUL-terminated copy only for error positions; parse a copy */
	hdr = malloc((size_t) n + 1);
	if (!hdr)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	memcpy(hdr, f->map + 8, (size_t) n);
	hdr[n] = '\0';
	st = parse_header(f, hdr, (size_t) n, err);
	free(hdr);
	return st;
}

void
st_unmap(st_file *f)
{
	if (f->map)
		munmap((void *) f->map, f->map_size);
	f->map = NULL;
	f->data = NULL;
	f->map_size = 0;
}

void
st_close(st_file *f)
{
	if (!f)
		return;
	st_unmap(f);
	for (int i = 0; i < f->n_tensors; i++)
		free(f->tensors[i].name);
	free(f->tensors);
	free(f->path);
	memset(f, 0, sizeof(*f));
}

/* The name of a dtype sst2 computes with: "F32", "F16" or "BF16". */
const char *
sst2_dtype_name(sst2_dtype t)
{
	switch (t)
	{
		case SST2_F32:
			return "F32";
		case SST2_F16:
			return "F16";
		case SST2_BF16:
			return "BF16";
	}
	return "?";
}

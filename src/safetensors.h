/*
 * safetensors.h
 *	  Internal to the sst2 core (not part of the API in sst2_core.h): a
 *	  read-only view of a .safetensors file and the fp16/bf16 upcasts.
 *
 *	  File layout: 8-byte little-endian header length N, N bytes of JSON
 *	  ({"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...,
 *	  "__metadata__": {...}}), then the data section; offsets are relative to
 *	  the start of the data section (byte 8 + N of the file).
 */
#ifndef SST2_SAFETENSORS_H
#define SST2_SAFETENSORS_H

#include <sys/stat.h>

#include "sst2_core.h"

#define ST_MAX_DIMS 8

/* One entry of the header. */
typedef struct st_tensor
{
	char	   *name;
	char		dtype_name[16]; /* as written in the file, e.g. "F16", "I64" */
	int			dtype;			/* sst2_dtype, or -1 when not F32/F16/BF16 */
	int			ndim;
	int64_t		shape[ST_MAX_DIMS];
	uint64_t	numel;
	uint64_t	begin;			/* byte range within the data section */
	uint64_t	end;
} st_tensor;

/* An open, mapped safetensors file. */
typedef struct st_file
{
	char	   *path;
	struct stat file_stat;		/* identity at open time */
	const uint8_t *map;			/* whole file, PROT_READ, MAP_SHARED */
	size_t		map_size;
	const uint8_t *data;		/* map + 8 + N */
	uint64_t	data_size;
	int			n_tensors;
	st_tensor  *tensors;		/* sorted by name */
} st_file;

sst2_status st_open(st_file *f, const char *path, sst2_error *err);
void		st_close(st_file *f);		/* unmaps too; safe on a zeroed st_file */
void		st_unmap(st_file *f);		/* drop the mapping, keep the header */
const st_tensor *st_find(const st_file *f, const char *name);

/* Element size of a safetensors dtype name, 0 when unknown. */
int			st_dtype_size(const char *dtype_name);

/* Exact conversions. */
float		sst2_f16_to_f32(uint16_t h);
float		sst2_bf16_to_f32(uint16_t b);
/* Convert n elements of src (dtype t, little-endian, any alignment) to dst. */
void		sst2_convert_to_f32(float *dst, const void *src, sst2_dtype t, size_t n);

#endif							/* SST2_SAFETENSORS_H */

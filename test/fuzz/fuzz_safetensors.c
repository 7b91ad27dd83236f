/*
 * fuzz_safetensors.c
 *	  libFuzzer target: arbitrary bytes as a .safetensors file through
 *	  st_open (header length, JSON header, every entry's dtype, shape and
 *	  data_offsets against the data section).
 *
 *	  Checks on success: the data section is exactly the file minus 8 + N
 *	  header bytes; every tensor's range lies inside it and matches its shape
 *	  and dtype; the names are sorted and st_find finds each; every byte of
 *	  each tensor is read (and F32/F16/BF16 ones converted), so ASan sees any
 *	  range that escapes the mapping.  st_unmap and st_close run on every
 *	  path (st_close also after a failed open, as sst2_model_free does).
 */
#include "fuzz_common.h"
#include "safetensors.h"

static char *path;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	path = fz_path("model.safetensors");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	st_file		f;
	sst2_error	err;

	fz_write(path, data, size);
	err.msg[0] = '\0';
	if (st_open(&f, path, &err) != SST2_OK)
	{
		FZ_ASSERT(err.msg[0] != '\0', "failure without a message");
		st_close(&f);
		return 0;
	}
	FZ_ASSERT(f.map_size == size, "mapped %zu of %zu bytes", f.map_size, size);
	FZ_ASSERT(f.data >= f.map + 8 + 2 && f.data + f.data_size == f.map + f.map_size,
			  "data section [%td, +%llu) in a %zu-byte file", f.data - f.map,
			  (unsigned long long) f.data_size, f.map_size);
	FZ_ASSERT(f.n_tensors >= 0, "n_tensors %d", f.n_tensors);
	for (int i = 0; i < f.n_tensors; i++)
	{
		const st_tensor *t = &f.tensors[i];
		int			es = st_dtype_size(t->dtype_name);
		uint64_t	numel = 1;

		FZ_ASSERT(t->name != NULL, "tensor %d has no name", i);
		FZ_ASSERT(i == 0 || strcmp(f.tensors[i - 1].name, t->name) < 0,
				  "names not sorted/unique at %d", i);
		FZ_ASSERT(st_find(&f, t->name) == t, "st_find(\"%s\")", t->name);
		FZ_ASSERT(t->ndim >= 0 && t->ndim <= ST_MAX_DIMS, "ndim %d", t->ndim);
		for (int d = 0; d < t->ndim; d++)
		{
			FZ_ASSERT(t->shape[d] >= 0, "negative dim");
			numel *= (uint64_t) t->shape[d];
		}
		FZ_ASSERT(numel == t->numel, "numel %llu vs %llu", (unsigned long long) numel,
				  (unsigned long long) t->numel);
		FZ_ASSERT(t->begin <= t->end && t->end <= f.data_size, "range [%llu, %llu) of %llu",
				  (unsigned long long) t->begin, (unsigned long long) t->end,
				  (unsigned long long) f.data_size);
		FZ_ASSERT(es == 0 || t->end - t->begin == t->numel * (uint64_t) es,
				  "%llu bytes for %llu elements of %s", (unsigned long long) (t->end - t->begin),
				  (unsigned long long) t->numel, t->dtype_name);
		FZ_ASSERT((t->dtype >= 0) == (strcmp(t->dtype_name, "F32") == 0 ||
									  strcmp(t->dtype_name, "F16") == 0 ||
									  strcmp(t->dtype_name, "BF16") == 0), "dtype %s", t->dtype_name);
		fz_touch(f.data + t->begin, (size_t) (t->end - t->begin));
		if (t->dtype >= 0 && t->numel > 0)
		{
			float	   *out = malloc(sizeof(float) * (size_t) t->numel);

			sst2_convert_to_f32(out, f.data + t->begin, (sst2_dtype) t->dtype, (size_t) t->numel);
			fz_touch(out, sizeof(float) * (size_t) t->numel);
			free(out);
		}
	}
	FZ_ASSERT(st_find(&f, "") == NULL || f.n_tensors > 0, "st_find on empty");
	st_unmap(&f);
	if (f.n_tensors > 0)
		FZ_ASSERT(st_find(&f, f.tensors[0].name) == &f.tensors[0], "st_find after unmap");
	st_close(&f);
	return 0;
}

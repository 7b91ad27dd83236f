/*
 * model.h
 *	  Internal to the sst2 core: the model object shared by its three rooms,
 *	  checkpoint.c (open a folder, check every tensor against the config,
 *	  point the weights at their data), weights_cache.c (the converted-weights
 *	  cache file) and forward.c (the forward pass).  The load side fills the
 *	  weight pointers; the forward side only reads them: that is the seam.
 */
#ifndef SST2_MODEL_H
#define SST2_MODEL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sst2_core.h"
#include "safetensors.h"
#include "qgemm.h"

/* The weights of one transformer block, all fp32, PyTorch Linear layout W[out, in]. */
typedef struct layer_weights
{
	const float *q_w, *q_b;		/* [D, D], [D] */
	const float *k_w, *k_b;		/* [D, D], [D] */
	const float *v_w, *v_b;		/* [D, D], [D] */
	const float *o_w, *o_b;		/* [D, D], [D]  attention.out_lin */
	const float *sa_ln_w, *sa_ln_b; /* [D], [D] */
	const float *ff1_w, *ff1_b; /* [H, D], [H]  ffn.lin1 */
	const float *ff2_w, *ff2_b; /* [D, H], [D]  ffn.lin2 */
	const float *out_ln_w, *out_ln_b;	/* [D], [D] */
	/* bf16/int8 modes: q, k, v, out_lin, lin1, lin2 (quantize.c) */
	qlinear		ql[6];
	/* fp32 mode on AVX-512: the same six packed for sgemm_avx512.c (fpack.c) */
	const float *fpk[6];
} layer_weights;

enum
{
	QL_Q, QL_K, QL_V, QL_O, QL_FF1, QL_FF2, N_QL
};

/* Identity of one file of the folder, for sst2_model_changed(). */
typedef struct file_id
{
	bool		exists;
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	int64_t		mtime_ns;
} file_id;

enum
{
	F_CONFIG, F_WEIGHTS, F_VOCAB, F_TOKCFG, N_FILES
};

/* Where the weights that needed converting live (see weights_cache.c). */
typedef struct converted_weights
{
	float	   *heap;			/* no cache dir: private memory */
	void	   *map;			/* else: the cache file, mapped read-only */
	size_t		map_size;
	char	   *path;			/* the cache file */
	const uint8_t *bytes;		/* the data part (heap or map + header) */
	const float *data;			/* the same, as floats */
	void	   *anon;			/* moved to anonymous memory (weights_anon.c): */
	size_t		anon_size;		/* the whole region, map inside it, or NULL */
} converted_weights;

struct sst2_model
{
	sst2_config cfg;
	sst2_tokenizer *tok;
	char	   *dir;			/* the folder, as given */
	char	   *paths[N_FILES];
	file_id		ids[N_FILES];
	sst2_dtype	dtype;			/* dtype holding most of the weights in the file */
	char	   *warnings;		/* NULL or lines for sst2_model_warnings() */
	char		fingerprint[17];	/* "" until computed */

	st_file		weights_file;	/* the source; unmapped if nothing is used in place */
	converted_weights conv;
	sst2_precision precision;	/* of the six linear layers per block */
	converted_weights qconv;	/* their bf16/int8 packing (quantize.c), or
								 * fp32 panels on AVX-512 (fpack.c) */

	/*
	 * a preloading postmaster's copy of every tensor the forward pass reads
	 * outside the packed linear layers, when those are packed
	 * (weights_anon.c); the source file and conversions are then unmapped
	 */
	void	   *arena;
	size_t		arena_size;

	/* the weights, all fp32 */
	const float *word_emb;		/* [vocab_size, D] */
	const float *pos_emb;		/* [max_pos, D] */
	const float *emb_ln_w, *emb_ln_b;	/* [D] */
	layer_weights *layers;		/* [n_layers] */
	const float *pre_w, *pre_b; /* [D, D], [D]  pre_classifier */
	const float *cls_w, *cls_b; /* [n_labels, D], [n_labels]  classifier */

	/* set by the fault guard when a mapped page vanished (file truncated) */
	volatile sig_atomic_t broken;

	/* activation workspace, grown to the largest batch seen (sst2_model_trim) */
	float	   *ws;
	size_t		ws_floats;
};

/* One tensor the model uses: what it must be, where it is, where it goes. */
typedef struct tensor_spec
{
	char		name[96];
	int			ndim;
	int64_t		shape[2];
	const float **dst;			/* the model's pointer to fill */
	const st_tensor *t;			/* its entry in the file */
	bool		convert;		/* needs an fp32 copy (F16/BF16 or misaligned) */
	size_t		conv_off;		/* offset of that copy, in floats */
} tensor_spec;

/* How many tensors the plan holds, and the plan itself (s has room for them all). */
int			sst2_model_n_specs(const sst2_model *m);
int			sst2_model_specs(sst2_model *m, tensor_spec *s);

/*
 * Make fp32 copies of the specs marked convert (n_floats in all, at their
 * conv_off) from src: into a cache file in cache_dir (checked, reused, or
 * written atomically), or into private memory when cache_dir is NULL.
 */
sst2_status sst2_convert_weights(converted_weights *cw, const st_file *src,
								 const tensor_spec *specs, int n, size_t n_floats,
								 const char *cache_dir, sst2_error *err);
void		sst2_converted_free(converted_weights *cw);

/* Writes the data part of a cache file (n_bytes, zeroed) at dst. */
typedef void (*sst2_cache_fill) (void *dst, void *arg);

/*
 * The general form: n_bytes of data in format (a file name suffix, <= 15
 * characters) made by fill from src's tensors as planned (plan: a hash of
 * everything that decides the content besides src's identity), in a cache
 * file in cache_dir (trusted only when its header and data hash match,
 * else rewritten atomically) or in private memory when cache_dir is NULL.
 */
sst2_status sst2_cache_build(converted_weights *cw, const st_file *src,
							 const char *format, uint64_t plan, size_t n_bytes,
							 sst2_cache_fill fill, void *arg,
							 const char *cache_dir, sst2_error *err);

/*
 * fp32 on AVX-512 only: pack the six linear layers of every block of m (whose
 * fp32 weight pointers are set) into m->qconv, file format "f32p", and point
 * layers[].fpk at them.  On other paths it does nothing (fpk stay NULL).
 */
sst2_status sst2_pack_fp32_weights(sst2_model *m, const tensor_spec *specs, int n_specs,
								   const char *cache_dir, sst2_error *err);

/*
 * Pack the six linear layers of every block of m (whose fp32 weight
 * pointers are set) at m->precision into m->qconv and fill layers[].ql.
 */
sst2_status sst2_quantize_weights(sst2_model *m, const tensor_spec *specs, int n_specs,
								  const char *cache_dir, sst2_error *err);

/* Guard the mapping [addr, addr+len) of m: a fault there marks m broken. */
void		sst2_guard_add(sst2_model *m, const void *addr, size_t len);
void		sst2_guard_remove(sst2_model *m);

/* A fast 64-bit hash of len bytes continuing from h (content checks). */
uint64_t	sst2_hash_bytes(uint64_t h, const void *data, size_t len);

#endif							/* SST2_MODEL_H */

/*
 * act.h
 *	  The element-wise steps of the forward pass (act_kernel.h) built for
 *	  AVX-512 in act_avx512.c; forward.c calls them only when cpu.c chose
 *	  SST2_ISA_AVX512, and its own baseline build of the same source
 *	  otherwise.
 */
#ifndef SST2_ACT_H
#define SST2_ACT_H

#include <stddef.h>

/* x[i] = LayerNorm(x[i] + r[i]) * g + b for M rows of D; r may be NULL. */
void		sst2_add_layernorm_avx512(float *restrict x, const float *restrict r,
									  const float *restrict g, const float *restrict b,
									  int M, int D);
/* x = GELU(x), the exact (erf) form. */
void		sst2_gelu_avx512(float *restrict x, size_t n);
/* In-place softmax of each of the rows rows of s (n columns). */
void		sst2_softmax_rows_avx512(float *restrict s, int rows, int n);

#endif							/* SST2_ACT_H */

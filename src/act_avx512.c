/*
 * act_avx512.c
 *	  The element-wise steps of the forward pass (act_kernel.h: LayerNorm,
 *	  GELU, softmax) for AVX-512 F/DQ/VL + FMA: 16-lane vectors and
 *	  libmvec's 16-lane erff and expf.  Each function enables the
 *	  instructions for itself (the file is compiled with the baseline
 *	  flags), so only callers that checked the CPU (cpu.c:
 *	  sst2_isa_current() == SST2_ISA_AVX512) may call them.
 */
#include "act.h"

#define ACT_NAME(f) sst2_##f##_avx512
#define ACT_TARGET __attribute__((target("avx512f,avx512dq,avx512vl,fma")))
#include "act_kernel.h"

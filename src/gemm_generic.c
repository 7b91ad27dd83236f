/*
 * gemm_generic.c
 *	  sst2_gemm_nt_generic: the kernel of gemm_kernel.h for
 *	  the x86-64 baseline (SSE2): the path every CPU can run.
 */
#define GEMM_ISA_GENERIC
#include "gemm_kernel.h"

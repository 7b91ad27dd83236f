/*
 * gemm_avx2.c
 *	  sst2_gemm_nt_avx2: the kernel of gemm_kernel.h for
 *	  AVX2 + FMA (8-lane vectors); called only on CPUs that have them (cpu.c).
 */
#define GEMM_ISA_AVX2
#include "gemm_kernel.h"

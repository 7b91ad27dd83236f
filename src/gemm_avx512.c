/*
 * gemm_avx512.c
 *	  sst2_gemm_nt_avx512: the kernel of gemm_kernel.h for
 *	  AVX-512 F/DQ/VL + FMA (16-lane vectors); called only on CPUs that have them (cpu.c).
 */
#define GEMM_ISA_AVX512
#include "gemm_kernel.h"

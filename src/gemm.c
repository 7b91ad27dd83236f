/*
 * gemm.c
 *	  sst2_gemm_nt: the kernel of gemm_kernel.h for the instruction set in
 *	  use (cpu.c), which it dispatches to.
 */
#include "cpu.h"
#include "gemm.h"

void
sst2_gemm_nt(float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
			 const float *b, int M, int N, int K)
{
	switch (sst2_isa_current())
	{
		case SST2_ISA_AVX512:
			sst2_gemm_nt_avx512(y, ldy, x, ldx, w, ldw, b, M, N, K);
			break;
		case SST2_ISA_AVX2:
			sst2_gemm_nt_avx2(y, ldy, x, ldx, w, ldw, b, M, N, K);
			break;
		default:
			sst2_gemm_nt_generic(y, ldy, x, ldx, w, ldw, b, M, N, K);
			break;
	}
}

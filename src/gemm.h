/*
 * gemm.h
 *	  A matrix product for few rows that reads the weights in place:
 *	  y = x W^T + b with W in PyTorch's Linear layout [N, K], never packed or
 *	  copied (see gemm.c).
 */
#ifndef SST2_GEMM_H
#define SST2_GEMM_H

/*
 * y[M, N] = x[M, K] W[N, K]^T + b[N]; b may be NULL (then no bias).  Rows of
 * x, W and y are ldx, ldw and ldy floats apart.  y must not overlap x or W.
 */
void		sst2_gemm_nt(float *y, int ldy, const float *x, int ldx,
						 const float *w, int ldw, const float *b,
						 int M, int N, int K);

/*
 * The same product built for one instruction set each (gemm_kernel.h): only
 * call one the CPU has (cpu.h: sst2_isa_lacks); sst2_gemm_nt picks the path
 * sst2_isa_current() names.
 */
void		sst2_gemm_nt_generic(float *y, int ldy, const float *x, int ldx,
								 const float *w, int ldw, const float *b,
								 int M, int N, int K);
void		sst2_gemm_nt_avx2(float *y, int ldy, const float *x, int ldx,
							  const float *w, int ldw, const float *b,
							  int M, int N, int K);
void		sst2_gemm_nt_avx512(float *y, int ldy, const float *x, int ldx,
								const float *w, int ldw, const float *b,
								int M, int N, int K);

#endif							/* SST2_GEMM_H */

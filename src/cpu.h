/*
 * cpu.h
 *	  Which instruction set the kernels run with, chosen at run time: CPU
 *	  feature detection and the SST2_ISA override (see cpu.c).  The public
 *	  part (sst2_isa_check, sst2_isa_name) is declared in sst2_core.h.
 */
#ifndef SST2_CPU_H
#define SST2_CPU_H

#include "sst2_core.h"

/* The kernel paths, slowest first. */
typedef enum sst2_isa
{
	SST2_ISA_GENERIC = 0,		/* x86-64 baseline (SSE2): runs everywhere */
	SST2_ISA_AVX2,				/* AVX2 + FMA */
	SST2_ISA_AVX512,			/* AVX-512 F, DQ, VL + FMA */
	SST2_ISA_COUNT
} sst2_isa;

/* CPU features the paths need, as bits of sst2_cpu_features(). */
#define SST2_CPU_AVX2		(1u << 0)
#define SST2_CPU_FMA		(1u << 1)
#define SST2_CPU_AVX512F	(1u << 2)
#define SST2_CPU_AVX512DQ	(1u << 3)
#define SST2_CPU_AVX512VL	(1u << 4)
#define SST2_CPU_AVX512VNNI	(1u << 5)	/* int8 kernels (qgemm.c) */
#define SST2_CPU_AVX512BF16	(1u << 6)	/* bf16 kernels (qgemm.c) */

/* The features of this CPU (and enabled by the OS) among SST2_CPU_*. */
unsigned	sst2_cpu_features(void);

/* "generic", "avx2", "avx512". */
const char *sst2_isa_label(sst2_isa isa);

/* The first feature isa needs that is not in features ("avx512f" ...), or NULL. */
const char *sst2_isa_lacks(sst2_isa isa, unsigned features);

/*
 * The path for an SST2_ISA value (NULL, "" or "auto": the fastest one
 * features allow) on a CPU with features.  An unknown value or a path the
 * CPU lacks is SST2_ERR_CONFIG, naming the value and the missing feature.
 */
sst2_status sst2_isa_resolve(const char *value, unsigned features,
							 sst2_isa *out, sst2_error *err);

/*
 * The path in use: SST2_ISA resolved against this CPU once, at first use.
 * When that failed (sst2_isa_check reports why) it is SST2_ISA_GENERIC, so
 * no caller can ever reach an instruction the CPU lacks.
 */
sst2_isa	sst2_isa_current(void);

#endif							/* SST2_CPU_H */

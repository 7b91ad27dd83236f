/*
 * cpu.c
 *	  Run-time choice of the kernel instruction set.  Everything is built for
 *	  the x86-64 baseline except the per-ISA kernel objects (gemm_avx2.c,
 *	  gemm_avx512.c), which are only called after the check here, so one
 *	  binary runs on any x86-64 CPU and uses the widest vectors it has.
 *
 *	  The environment variable SST2_ISA=generic|avx2|avx512 (or auto, the
 *	  default) forces a path; it is read once, at first use.  An unknown value
 *	  or a path the CPU cannot run is an error from sst2_isa_check (which model
 *	  loading calls), never a SIGILL.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

static const char *const isa_labels[SST2_ISA_COUNT] = {"generic", "avx2", "avx512"};

/* Features each path needs, in the order they are reported as missing. */
static const struct
{
	unsigned	bit;
	const char *name;
}			isa_needs[SST2_ISA_COUNT][4] = {
	[SST2_ISA_GENERIC] = {{0, NULL}},
	[SST2_ISA_AVX2] = {{SST2_CPU_AVX2, "avx2"}, {SST2_CPU_FMA, "fma"}, {0, NULL}},
	[SST2_ISA_AVX512] = {{SST2_CPU_AVX512F, "avx512f"}, {SST2_CPU_AVX512DQ, "avx512dq"},
						 {SST2_CPU_AVX512VL, "avx512vl"}, {SST2_CPU_FMA, "fma"}},
};

unsigned
sst2_cpu_features(void)
{
	unsigned	f = 0;

#if defined(__x86_64__) || defined(__i386__)
	/* also checks that the OS saves the ymm/zmm registers (XGETBV) */
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		f |= SST2_CPU_AVX2;
	if (__builtin_cpu_supports("fma"))
		f |= SST2_CPU_FMA;
	if (__builtin_cpu_supports("avx512f"))
		f |= SST2_CPU_AVX512F;
	if (__builtin_cpu_supports("avx512dq"))
		f |= SST2_CPU_AVX512DQ;
	if (__builtin_cpu_supports("avx512vl"))
		f |= SST2_CPU_AVX512VL;
	if (__builtin_cpu_supports("avx512vnni"))
		f |= SST2_CPU_AVX512VNNI;
	if (__builtin_cpu_supports("avx512bf16"))
		f |= SST2_CPU_AVX512BF16;
#endif
	return f;
}

const char *
sst2_isa_label(sst2_isa isa)
{
	return (unsigned) isa < SST2_ISA_COUNT ? isa_labels[isa] : "unknown";
}

const char *
sst2_isa_lacks(sst2_isa isa, unsigned features)
{
	if ((unsigned) isa >= SST2_ISA_COUNT)
		return "unknown";
	for (int i = 0; i < 4 && isa_needs[isa][i].name; i++)
		if (!(features & isa_needs[isa][i].bit))
			return isa_needs[isa][i].name;
	return NULL;
}

sst2_status
sst2_isa_resolve(const char *value, unsigned features, sst2_isa *out, sst2_error *err)
{
	*out = SST2_ISA_GENERIC;
	if (value == NULL || value[0] == '\0' || strcmp(value, "auto") == 0)
	{
		for (int i = SST2_ISA_COUNT - 1; i > SST2_ISA_GENERIC; i--)
			if (!sst2_isa_lacks((sst2_isa) i, features))
			{
				*out = (sst2_isa) i;
				break;
			}
		return SST2_OK;
	}
	for (int i = 0; i < SST2_ISA_COUNT; i++)
		if (strcmp(value, isa_labels[i]) == 0)
		{
			const char *missing = sst2_isa_lacks((sst2_isa) i, features);

			if (missing)
				return sst2_set_error(err, SST2_ERR_CONFIG,
									  "SST2_ISA=%s asks for a path this CPU cannot run: it lacks %s",
									  value, missing);
			*out = (sst2_isa) i;
			return SST2_OK;
		}
	return sst2_set_error(err, SST2_ERR_CONFIG,
						  "SST2_ISA=\"%.100s\" is not a known instruction set "
						  "(expected generic, avx2, avx512 or auto)", value);
}

/* SST2_ISA resolved once (see sst2_isa_current). */
static pthread_once_t isa_once = PTHREAD_ONCE_INIT;
static sst2_isa isa_in_use = SST2_ISA_GENERIC;
static sst2_error isa_error;

/* Resolve SST2_ISA against this CPU into isa_in_use and isa_error. */
static void
isa_init(void)
{
	if (sst2_isa_resolve(getenv("SST2_ISA"), sst2_cpu_features(), &isa_in_use,
						 &isa_error) != SST2_OK)
		isa_in_use = SST2_ISA_GENERIC;
}

sst2_isa
sst2_isa_current(void)
{
	pthread_once(&isa_once, isa_init);
	return isa_in_use;
}

sst2_status
sst2_isa_check(sst2_error *err)
{
	pthread_once(&isa_once, isa_init);
	if (isa_error.code != SST2_OK)
	{
		if (err)
			*err = isa_error;
		return isa_error.code;
	}
	return SST2_OK;
}

const char *
sst2_isa_name(void)
{
	return sst2_isa_label(sst2_isa_current());
}

# sst2: DistilBERT sentiment classification inside PostgreSQL (PGXS build).
#
#   make                      build the extension (sst2.so)
#   make install              install it into the PostgreSQL that pg_config names
#   make core                 the PostgreSQL-free core: bin/sst2 (CLI) and the C unit tests
#   make installcheck         regression tests (sql/, expected/) against a running server
#
#   bin/sst2 --make-det DIR   write the deterministic test checkpoint (src/detgen.c)
#
# Test data lives in test/data (see test/data/PROVENANCE.md); the default model
# of scripts/demo.sh in models/sst2-mini.

EXTENSION = sst2
MODULE_big = sst2
DATA = sql/sst2--1.0.sql
PGFILEDESC = "sst2 - DistilBERT SST-2 sentiment classification"

include src/core.mk
CORE_OBJS = $(SST2_CORE:%=src/%.o)
OBJS = $(CORE_OBJS) src/sst2.o src/pg_model.o src/batch.o src/trigger.o src/fields.o \
	src/scores.o src/explain_pg.o src/stats.o

REGRESS = sst2_basic sst2_batch sst2_schema sst2_fields sst2_explain
REGRESS_OPTS = --inputdir=. --load-extension=sst2

DEP_CFLAGS := $(shell pkg-config --cflags json-c libutf8proc openblas)
DEP_LIBS := $(shell pkg-config --libs json-c libutf8proc openblas) -lm

PG_CPPFLAGS = -Isrc $(DEP_CFLAGS)
# The x86-64 baseline: the package runs on any x86-64 CPU.  The gemm kernel is
# also built for AVX2 and AVX-512 (gemm_avx2.c, gemm_avx512.c, per-function
# target attributes) and chosen at run time (cpu.c; SST2_ISA forces one).
# make SST2_NATIVE=1: everything for this machine's CPU (local experiments).
PG_CFLAGS = -O3 -fno-math-errno $(if $(SST2_NATIVE),-march=native)
SHLIB_LINK = $(DEP_LIBS)
EXTRA_CLEAN = bin test/*.o test/unit_model test/unit_tokenizer test/unit_loader test/unit_trust test/tokdump test/unit_isa test/unit_qgemm

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# ---- the PostgreSQL-free core: CLI and unit tests (same objects as the extension)
CORE_TESTS = test/unit_model test/unit_tokenizer test/unit_loader test/unit_trust test/tokdump test/unit_isa test/unit_qgemm

.PHONY: core
core: bin/sst2 $(CORE_TESTS)

bin/sst2: src/cli.o src/detgen.o $(CORE_OBJS)
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ $(DEP_LIBS)

test/%.o: test/%.c src/sst2_core.h test/test_util.h
	$(CC) $(CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(CORE_TESTS): test/%: test/%.o $(CORE_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(DEP_LIBS)

$(OBJS) src/cli.o src/detgen.o: src/sst2_core.h
$(CORE_OBJS): src/util.h
src/checkpoint.o src/weights_cache.o src/guard.o src/forward.o: src/model.h src/safetensors.h
src/safetensors.o src/config.o: src/safetensors.h
src/cli.o src/detgen.o: src/detgen.h
# the generated weights must round like numpy's: no fused multiply-add
src/detgen.o: override CFLAGS += -ffp-contract=off
src/tokenizer.o src/unicode_tables.o test/tokdump.o test/unit_tokenizer.o: src/unicode_tables.h
src/vocab.o src/tokenizer.o: src/vocab.h
src/forward.o src/gemm.o src/gemm_generic.o src/gemm_avx2.o src/gemm_avx512.o: src/gemm.h
src/gemm_generic.o src/gemm_avx2.o src/gemm_avx512.o: src/gemm_kernel.h
src/cpu.o src/gemm.o src/checkpoint.o src/qgemm.o: src/cpu.h
src/checkpoint.o src/forward.o src/quantize.o src/qgemm.o src/qgemm_generic.o src/qgemm_avx512.o: src/qgemm.h src/model.h
# no fused multiply-add: the AVX-512 int8 path rounds exactly as the portable one
src/qgemm_avx512.o src/qgemm_generic.o src/qgemm.o: override CFLAGS += -ffp-contract=off
test/unit_isa.o: src/cpu.h src/gemm.h src/sgemm.h
src/forward.o src/fpack.o src/sgemm_avx512.o: src/sgemm.h
src/forward.o src/fpack.o: src/cpu.h
src/fpack.o: src/model.h src/qgemm.h src/safetensors.h
src/sst2.o src/pg_model.o src/batch.o src/trigger.o src/fields.o src/scores.o src/explain_pg.o src/stats.o: src/sst2_pg.h

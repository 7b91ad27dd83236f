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
# the PostgreSQL glue, bottom to top (README "Layout")
OBJS = $(CORE_OBJS) src/settings.o src/report.o src/stats.o src/pg_model.o \
	src/pg_classify.o src/sst2.o src/batch.o src/fields.o src/scores.o \
	src/explain_pg.o src/trigger.o

REGRESS = sst2_basic sst2_batch sst2_schema sst2_fields sst2_explain
REGRESS_OPTS = --inputdir=. --load-extension=sst2

DEP_CFLAGS := $(shell pkg-config --cflags json-c libutf8proc openblas)
DEP_LIBS := $(shell pkg-config --libs json-c libutf8proc openblas) -lm

PG_CPPFLAGS = -Isrc $(DEP_CFLAGS)
# The x86-64 baseline: the package runs on any x86-64 CPU.  The gemm kernel is
# also built for AVX2 and AVX-512 (gemm_avx2.c, gemm_avx512.c, per-function
# target attributes) and chosen at run time (cpu.c; SST2_ISA forces one).
# make SST2_NATIVE=1: everything for this machine's CPU (local experiments).
# -MMD -MP: the compiler writes each object's header dependencies (*.d).
PG_CFLAGS = -O3 -fno-math-errno -MMD -MP $(if $(SST2_NATIVE),-march=native)
SHLIB_LINK = $(DEP_LIBS)
EXTRA_CLEAN = bin src/*.d test/*.d test/*.o test/unit_model test/unit_tokenizer test/unit_loader test/unit_trust test/tokdump test/unit_isa test/unit_qgemm

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

test/%.o: test/%.c
	$(CC) $(CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(CORE_TESTS): test/%: test/%.o $(CORE_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(DEP_LIBS)

# the generated weights must round like numpy's: no fused multiply-add
src/detgen.o: override CFLAGS += -ffp-contract=off
# no fused multiply-add: the AVX-512 int8 path rounds exactly as the portable one
src/qgemm_avx512.o src/qgemm_generic.o src/qgemm.o: override CFLAGS += -ffp-contract=off

# header dependencies, written by the compiler (-MMD -MP)
-include $(wildcard src/*.d test/*.d)

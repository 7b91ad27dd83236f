# src/core.mk: the sources of the PostgreSQL-free core, listed once.  The
# extension's Makefile, the fuzz targets (test/fuzz/Makefile) and the
# benchmark (bench/Makefile) all include this file.
#
# util        errors, capped non-blocking file reads, JSON, paths, hashing
# config      config.json and tokenizer_config.json
# safetensors the weights file's header, mapping, F16/BF16 -> F32
# vocab       vocab.txt into the tokenizer's hash tables
# tokenizer   the BERT tokenizer (+ unicode_tables, generated)
# checkpoint  open a folder: identity, tensor plan, weight pointers
# weights_cache  converted weights, shared through a cache file
# guard       SIGBUS on truncated mappings becomes an error
# hugemem     private anonymous memory placed for transparent huge pages
# weights_anon  a preloading postmaster's weights on anonymous huge pages
# forward     the forward pass
# act_avx512  its element-wise steps (act_kernel.h) on AVX-512
# cpu         CPU features and SST2_ISA: which kernel path runs
# gemm        the in-place small-M matrix product, dispatched to gemm_<isa>
# quantize    bf16/int8 modes: the six linear layers packed once (cache file)
# qgemm       bf16/int8 linear layers: activation rows, path choice, dispatch
#             to qgemm_generic (portable C) or qgemm_avx512 (VNNI, BF16)
# fpack       fp32 on AVX-512: the six linear layers packed once (cache file)
# sgemm_avx512  the fp32 kernels on those packed weights, and attention's
# classify    texts in, logits out (the one batch path)
# explain     occlusion attributions of a text's words, one batch
SST2_CORE = util config safetensors vocab tokenizer unicode_tables checkpoint \
	weights_cache guard hugemem weights_anon forward act_avx512 cpu gemm gemm_generic gemm_avx2 gemm_avx512 \
	quantize qgemm qgemm_generic qgemm_avx512 fpack sgemm_avx512 classify explain

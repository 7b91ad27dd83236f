/*
 * sst2_core.h
 *	  The PostgreSQL-free core of sst2: checkpoint loader, tokenizer and the
 *	  DistilBERT forward pass.  Everything here is plain C99 + POSIX and links
 *	  against OpenBLAS, utf8proc and json-c only, so it can be unit-tested and
 *	  used from the command-line tool without a database.
 *
 *	  Conventions:
 *	  - Functions that can fail return an sst2_status and fill an sst2_error
 *	    with a one-line message in PostgreSQL style (lower case, no trailing
 *	    period), naming the file and the tensor/key involved and, where it
 *	    applies, what was expected and what was found.
 *	  - Memory is malloc'd; nothing allocated here ever escapes into a SQL
 *	    result (the PostgreSQL layer copies what it returns into palloc'd
 *	    memory).
 *	  - Long loops call sst2_interrupt_hook (when set) so a caller can cancel
 *	    (PostgreSQL sets it to a function running CHECK_FOR_INTERRUPTS()).  The
 *	    hook may longjmp out: the core keeps no temporary allocation across a
 *	    call to it, so nothing leaks when it does.
 */
#ifndef SST2_CORE_H
#define SST2_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* ---------------------------------------------------------------- errors */

typedef enum sst2_status
{
	SST2_OK = 0,
	SST2_ERR_IO,				/* file missing, unreadable, mmap failed */
	SST2_ERR_FORMAT,			/* file present but malformed or inconsistent */
	SST2_ERR_CONFIG,			/* config values invalid or unsupported */
	SST2_ERR_NOMEM,				/* allocation failed */
	SST2_ERR_LIMIT,				/* input larger than a configured limit */
	SST2_ERR_FILETYPE,			/* a path that must be a regular file is not */
	SST2_ERR_UNSAFE				/* a file or folder others could have written */
} sst2_status;

typedef struct sst2_error
{
	sst2_status code;
	int			sys_errno;		/* errno behind an SST2_ERR_IO, else 0 */
	char		msg[1024];		/* one line: what failed, naming file/tensor/key */
	char		detail[512];	/* "" or a second line: expected vs found */
} sst2_error;

/* Fill err (which may be NULL) with printf-style text; returns code. */
sst2_status sst2_set_error(sst2_error *err, sst2_status code, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Called between layers and other long steps; may longjmp (see above). */
extern void (*sst2_interrupt_hook) (void);

#define SST2_CHECK_INTERRUPTS() \
	do { if (sst2_interrupt_hook) sst2_interrupt_hook(); } while (0)

/* ---------------------------------------------------------------- instruction set */

/*
 * The kernels run with the widest instruction set this CPU has ("avx512",
 * "avx2" or "generic", the x86-64 baseline) unless the environment variable
 * SST2_ISA (read once, at first use) forces one (see cpu.c).
 * sst2_isa_check fails with SST2_ERR_CONFIG when SST2_ISA is not one of
 * generic, avx2, avx512, auto or names a path this CPU cannot run; loading a
 * model calls it.  sst2_isa_name names the path in use.
 */
sst2_status sst2_isa_check(sst2_error *err);
const char *sst2_isa_name(void);

/* ---------------------------------------------------------------- config */

#define SST2_MAX_LABELS 1024

typedef enum sst2_activation
{
	SST2_GELU = 0,
	SST2_RELU
} sst2_activation;

/* "gelu" or "relu". */
const char *sst2_activation_name(sst2_activation a);

/* Hyper-parameters from config.json (old hub style and transformers 5 style). */
typedef struct sst2_config
{
	int			dim;			/* "dim": hidden size, e.g. 768 */
	int			n_layers;		/* "n_layers" */
	int			n_heads;		/* "n_heads"; dim % n_heads == 0 */
	int			hidden_dim;		/* "hidden_dim": FFN inner size, e.g. 3072 */
	int			vocab_size;		/* "vocab_size": rows of word_embeddings */
	int			max_pos;		/* "max_position_embeddings" */
	int			n_labels;		/* number of entries in id2label */
	char	  **labels;			/* [n_labels] label names (UTF-8), id order */
	sst2_activation activation; /* "activation": "gelu" (exact, erf) or "relu" */
} sst2_config;

/* Parse and validate config.json at path.  On success cfg owns its labels. */
sst2_status sst2_config_load(sst2_config *cfg, const char *path, sst2_error *err);
void		sst2_config_free(sst2_config *cfg);

/* ---------------------------------------------------------------- tokenizer */

typedef struct sst2_tokenizer sst2_tokenizer;

typedef struct sst2_tokenizer_options
{
	bool		lowercase;		/* tokenizer_config "do_lower_case", default true */
	int			strip_accents;	/* -1 = follow lowercase (null), 0 = no, 1 = yes */
	bool		chinese_chars;	/* "tokenize_chinese_chars", default true */
} sst2_tokenizer_options;

/*
 * Read tokenizer_config.json into opt (the defaults above first); a path that
 * does not exist means the defaults.
 */
sst2_status sst2_tokenizer_config_load(sst2_tokenizer_options *opt, const char *path,
									   sst2_error *err);

/*
 * Load vocab.txt (one token a line, id = line number from 0) and, when
 * tokcfg_path is not NULL and the file exists, tokenizer_config.json.
 * [CLS], [SEP], [UNK] must be present; [PAD] and [MASK] are optional.
 */
sst2_status sst2_tokenizer_load(sst2_tokenizer **out, const char *vocab_path,
								const char *tokcfg_path, sst2_error *err);
void		sst2_tokenizer_free(sst2_tokenizer *tok);
int			sst2_tokenizer_vocab_size(const sst2_tokenizer *tok);

/*
 * Tokenize text (UTF-8, len bytes; invalid UTF-8 is read as U+FFFD, which
 * the BERT normalizer then drops) exactly as Hugging Face's BertTokenizerFast
 * does: [CLS] word pieces [SEP].  At most max_ids ids are written (max_ids >=
 * 2): like truncation=True, max_length=max_ids, only the first max_ids-2 word
 * pieces are kept, and work stops once they exist.  Returns the number of ids
 * written, or -1 if max_ids < 2.
 */
int			sst2_tokenize(const sst2_tokenizer *tok, const char *text, size_t len,
						  int32_t *ids, int max_ids);

/*
 * A word of the BERT pre-tokenizer (whitespace and punctuation split; a
 * special token matched in the text is a word of its own) as the model reads
 * it: its bytes [start, end) in the input text, and the ids it produced,
 * ids[first_id .. first_id + n_ids) of sst2_tokenize's output ([CLS] is id 0).
 */
typedef struct sst2_word
{
	size_t		start;
	size_t		end;
	int			first_id;
	int			n_ids;
} sst2_word;

/*
 * sst2_tokenize, and also the words behind the ids kept (a word cut by
 * truncation keeps only its kept pieces; words with no kept piece are not
 * listed).  words needs room for max_ids - 2 entries; *n_words is set.  The
 * spans are Hugging Face's offsets: a word runs from the first to the last
 * input character that made one of its normalized characters.
 */
int			sst2_tokenize_words(const sst2_tokenizer *tok, const char *text, size_t len,
								int32_t *ids, int max_ids, sst2_word *words,
								int *n_words);

/* ---------------------------------------------------------------- model */

typedef enum sst2_dtype
{
	SST2_F32 = 0,
	SST2_F16,
	SST2_BF16
} sst2_dtype;

typedef struct sst2_model sst2_model;

/*
 * Open a Hugging Face checkpoint folder: config.json, model.safetensors,
 * vocab.txt, tokenizer_config.json (optional).  Every tensor's name, dtype,
 * shape and byte range is checked against the config.
 *
 * F32 weights are used in place from a read-only shared mapping of
 * model.safetensors (no copy).  F16/BF16 weights are upcast to fp32 once:
 * when cache_dir is not NULL, into a cache file there (written atomically,
 * named after the source file's identity) that is then mapped read-only and
 * shared by every process opening the same model; when cache_dir is NULL,
 * into private memory.
 */
sst2_status sst2_model_open(sst2_model **out, const char *dir,
							const char *cache_dir, sst2_error *err);

/*
 * The arithmetic of the encoder's six linear layers per block (q, k, v,
 * out_lin, lin1, lin2): fp32 (exact Hugging Face parity), bf16 (bf16 weights
 * and activations, fp32 sums) or int8 (weights per output channel, symmetric;
 * activations per row, u8 with a zero point, at run time; int32 sums).
 * Embeddings, LayerNorm, attention, GELU and the head stay fp32.
 */
typedef enum sst2_precision
{
	SST2_PREC_FP32 = 0,
	SST2_PREC_BF16,
	SST2_PREC_INT8
} sst2_precision;

/* "fp32", "bf16", "int8". */
const char *sst2_precision_name(sst2_precision p);

/* The precision named s ("fp32", "bf16", "int8"); false when s names none. */
bool		sst2_precision_parse(const char *s, sst2_precision *out);

/*
 * sst2_model_open at a precision.  bf16 and int8 convert the six linear
 * layers once into a cache file of their own in cache_dir (format "bf16" or
 * "i8", packed for the kernel, checked and written as the fp32 cache is), or
 * into private memory when cache_dir is NULL.
 */
sst2_status sst2_model_open_ex(sst2_model **out, const char *dir,
							   const char *cache_dir, sst2_precision precision,
							   sst2_error *err);
sst2_precision sst2_model_precision(const sst2_model *m);

/*
 * The kernel path the linear layers run on: for fp32 the SST2_ISA path
 * ("avx512" ...); for int8 "avx512-vnni" or "generic"; for bf16
 * "avx512-bf16" or "generic".
 */
const char *sst2_model_kernel(const sst2_model *m);
void		sst2_model_free(sst2_model *m);

const sst2_config *sst2_model_config(const sst2_model *m);
const sst2_tokenizer *sst2_model_tokenizer(const sst2_model *m);
sst2_dtype	sst2_model_dtype(const sst2_model *m);	/* dtype in the file */
const char *sst2_dtype_name(sst2_dtype t);			/* "F32", "F16", "BF16" */
size_t		sst2_model_bytes_mapped(const sst2_model *m);

/*
 * Move what the forward pass reads of the model's weights into private
 * anonymous memory on transparent huge pages (weights_anon.c), for a process
 * that will fork workers reading the model: fork copies those page tables,
 * so a child's first forward pass does not fault the model in.  When all of
 * it moved, the model maps none of its files.  Returns the bytes moved: 0
 * without transparent huge pages (nothing changes then).
 */
size_t		sst2_model_to_anonymous(sst2_model *m);
const char *sst2_model_weights_path(const sst2_model *m); /* file mapped (source or cache) */

/*
 * Warnings about the folder found at open (today: files or the folder
 * writable by other users), one line each; NULL when there are none.
 */
const char *sst2_model_warnings(const sst2_model *m);

/*
 * A fingerprint of the checkpoint's content: 16 hex digits hashed from
 * config.json, vocab.txt, tokenizer_config.json and model.safetensors, equal
 * for byte-identical folders wherever they are.  Computed on first request
 * (it reads every byte once), then kept.
 */
sst2_status sst2_model_fingerprint(sst2_model *m, const char **hex, sst2_error *err);

/*
 * What the model is, as a JSON object (malloc'd string, UTF-8): path,
 * weights_file, dtype, dim, layers, heads, hidden_dim, vocab_size,
 * max_position_embeddings, activation, labels, bytes_mapped, isa (the kernel
 * path in use), precision, kernel (sst2_model_kernel) and, when asked,
 * fingerprint.  sst2_model_info() and bin/sst2 --info both print these keys.
 */
char	   *sst2_model_info_json(sst2_model *m, bool with_fingerprint);

/*
 * True when any file of the folder changed on disk (inode, size or mtime)
 * since the model was opened, or can no longer be stat'ed, or the mapped
 * weights were found truncated while in use.
 */
bool		sst2_model_changed(const sst2_model *m);

/*
 * Run the classifier on n_seqs token sequences packed one after another in
 * ids (lens[i] ids each, 1 <= lens[i] <= max_pos, every id < vocab_size).
 * All tokens of the batch go through each linear layer as one matrix product;
 * attention runs per sequence.  Writes n_seqs * n_labels logits.
 * The activation workspace lives in m and is reused between calls.
 */
sst2_status sst2_model_forward(sst2_model *m, const int32_t *ids,
							   const int *lens, int n_seqs, float *logits,
							   sst2_error *err);

/* Bytes of workspace sst2_model_forward needs for n_seqs sequences of M tokens in all. */
size_t		sst2_model_workspace_bytes(const sst2_model *m, size_t M, int n_seqs,
									   int max_len);

/* Give the workspace back to the system when it holds more than keep_bytes. */
void		sst2_model_trim(sst2_model *m, size_t keep_bytes);

/* Index of the largest logit and its softmax probability (the pipeline's score). */
int			sst2_top_label(const float *logits, int n_labels, float *score);

/* Softmax of n_labels logits into probs[n_labels] (double, max subtracted). */
void		sst2_softmax(const float *logits, int n_labels, double *probs);

/* Number of OpenBLAS threads used by this process's forward passes. */
void		sst2_set_threads(int n);

/* ---------------------------------------------------------------- classify */

/*
 * The one path from texts to logits: add texts (each tokenized at once and
 * cut to max_ids ids), run, read each text's logits.  Memory grows with the
 * tokens added, not with max_texts * max_ids.  A run whose forward
 * workspace would pass the memory limit is split into several forward
 * passes (results are the same to float rounding: every sequence is
 * computed on its own tokens only).
 */
typedef struct sst2_batch sst2_batch;

sst2_status sst2_batch_new(sst2_batch **out, sst2_model *m, int max_ids,
						   size_t memory_limit, sst2_error *err);
void		sst2_batch_free(sst2_batch *b);
/* Forget the texts (and logits) added so far, keep the buffers, set new limits. */
void		sst2_batch_reset(sst2_batch *b, int max_ids, size_t memory_limit);
/* Tokenize one UTF-8 text into the batch; returns its index, or -1 on no memory. */
int			sst2_batch_add(sst2_batch *b, const char *text, size_t len);
/* Add a sequence of ids the caller made (e.g. an occluded copy); index or -1. */
int			sst2_batch_add_ids(sst2_batch *b, const int32_t *ids, int n);
int			sst2_batch_count(const sst2_batch *b);
/* The ids of text i and their number. */
const int32_t *sst2_batch_ids(const sst2_batch *b, int i, int *n);
/* Classify every text added and not yet run. */
sst2_status sst2_batch_run(sst2_batch *b, sst2_error *err);
/* Text i's n_labels logits (valid after sst2_batch_run). */
const float *sst2_batch_logits(const sst2_batch *b, int i);

/* The work a batch did since its last reset (for usage statistics). */
typedef struct sst2_batch_counts
{
	uint64_t	texts;			/* texts added by sst2_batch_add */
	uint64_t	tokens;			/* their ids, [CLS]/[SEP] included */
	uint64_t	truncated;		/* of them, cut to max_ids */
	uint64_t	runs;			/* sst2_batch_run calls that ran */
	uint64_t	forward_passes; /* sst2_model_forward calls */
	uint64_t	tokenize_ns;	/* time in the tokenizer */
	uint64_t	forward_ns;		/* time in the forward pass */
} sst2_batch_counts;

const sst2_batch_counts *sst2_batch_counters(const sst2_batch *b);

/* ---------------------------------------------------------------- explain */

/*
 * Occlusion attributions of text's words (explain.c).  L is the top label of
 * the whole text (cut to max_ids ids, capped at max_position_embeddings) and
 * p(L) its softmax probability; for each word the model read (see
 * sst2_tokenize_words), attr[w] = p(L | text) - p(L | text with all of the
 * word's pieces removed, [CLS]/[SEP] and every other piece kept).  The n+1
 * sequences run through b as one batch (split only by memory_limit).
 * Buffers are the caller's (so an interrupt leaks nothing): ids and scratch
 * hold max_ids ids, words and attr max_ids entries.  Sets *n_words, *label
 * (L) and *p_label (p(L | text)).
 */
sst2_status sst2_explain(sst2_model *m, sst2_batch *b, const char *text, size_t len,
						 int max_ids, size_t memory_limit, int32_t *ids,
						 int32_t *scratch, sst2_word *words, double *attr,
						 int *n_words, int *label, double *p_label, sst2_error *err);

#endif							/* SST2_CORE_H */

/*
 * unit_trust.c
 *	  What the core does with files it cannot trust or that change under it:
 *	  - FIFOs, devices and symlinks to them are refused before any read (no
 *	    open() that blocks, no read without end), files past their size cap
 *	    are refused;
 *	  - JSON files: only whitespace may follow the object (not a NUL byte);
 *	  - the converted-weights cache: a zeroed, foreign-mode or otherwise
 *	    damaged file is never used (it is rebuilt), a cache folder others can
 *	    write is refused;
 *	  - weights truncated in place after open: the forward pass reports an
 *	    error (in one thread and with OpenBLAS threads), never a crash;
 *	  - a batch split by its memory limit gives the same logits;
 *	  - the fingerprint follows content, not paths; world-writable folders
 *	    are reported.
 *
 *	  Needs SST2_TINY_MODEL (F32, generated) and SST2_MINI_MODEL (F16).
 */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "sst2_core.h"
#include "test_util.h"

static char *tmp;

/* Copy the model folder src into a new folder tmp/name. */
static char *
copy_model(const char *src, const char *name)
{
	static const char *files[] = {"config.json", "model.safetensors", "vocab.txt",
	"tokenizer_config.json"};
	char	   *dir = pathf("%s/%s", tmp, name);

	mkdir(dir, 0755);
	for (int i = 0; i < 4; i++)
	{
		char	   *a = pathf("%s/%s", src, files[i]),
				   *b = pathf("%s/%s", dir, files[i]);

		if (access(a, F_OK) == 0)
			copy_file(a, b);
		free(a);
		free(b);
	}
	return dir;
}

/* Open dir and expect failure with code and substr in the message. */
static void
expect_fail(const char *what, const char *dir, const char *cache, sst2_status code,
			const char *substr)
{
	sst2_model *m = NULL;
	sst2_error	err;
	sst2_status st;

	alarm(10);					/* a hang is a failure, not a stuck suite */
	st = sst2_model_open(&m, dir, cache, &err);
	alarm(0);
	CHECK(st == code && strstr(err.msg, substr) != NULL,
		  "%s: got %d \"%s\", expected %d containing \"%s\"", what, st,
		  st == SST2_OK ? "" : err.msg, code, substr);
	sst2_model_free(m);
}

/* Logits of a few fixed texts, batched. */
static void
classify(sst2_model *m, float *out, size_t memory_limit, int *ok)
{
	static const char *texts[] = {"a great movie", "dull , dull , dull", "",
		"it 's a charming and often affecting journey .",
	"the worst film i have seen in years , and i have seen many bad films ."};
	sst2_batch *b;
	sst2_error	err;
	int			nl = sst2_model_config(m)->n_labels;

	*ok = 0;
	if (sst2_batch_new(&b, m, 512, memory_limit, &err) != SST2_OK)
		return;
	for (int i = 0; i < 5; i++)
		sst2_batch_add(b, texts[i], strlen(texts[i]));
	if (sst2_batch_run(b, &err) == SST2_OK)
	{
		for (int i = 0; i < 5; i++)
			memcpy(out + i * nl, sst2_batch_logits(b, i), sizeof(float) * nl);
		*ok = 1;
	}
	sst2_batch_free(b);
}

static float
max_diff(const float *a, const float *b, int n)
{
	float		d = 0;

	for (int i = 0; i < n; i++)
		d = fmaxf(d, fabsf(a[i] - b[i]));
	return d;
}

/* Non-regular files and size caps, through the loader. */
static void
test_files(const char *tiny)
{
	char	   *dir = copy_model(tiny, "files");
	char	   *p;

	/* model.safetensors, config.json, vocab.txt as FIFOs: refused at once */
	{
		static const char *names[] = {"model.safetensors", "config.json", "vocab.txt",
		"tokenizer_config.json"};

		for (int i = 0; i < 4; i++)
		{
			char	   *f = pathf("%s/%s", dir, names[i]),
					   *keep = pathf("%s/%s.keep", dir, names[i]);
			char		what[128];

			rename(f, keep);
			CHECK(mkfifo(f, 0644) == 0, "mkfifo %s", f);
			snprintf(what, sizeof(what), "%s as a FIFO", names[i]);
			expect_fail(what, dir, NULL, SST2_ERR_FILETYPE, "is not a regular file");
			unlink(f);
			rename(keep, f);
			free(f);
			free(keep);
		}
	}
	/* vocab.txt and tokenizer_config.json as symlinks to /dev/zero */
	p = pathf("%s/vocab.txt", dir);
	{
		char	   *keep = pathf("%s/vocab.keep", dir);

		rename(p, keep);
		CHECK(symlink("/dev/zero", p) == 0, "symlink");
		expect_fail("vocab.txt -> /dev/zero", dir, NULL, SST2_ERR_FILETYPE, "is not a regular file");
		unlink(p);
		rename(keep, p);
		free(keep);
	}
	free(p);
	p = pathf("%s/tokenizer_config.json", dir);
	unlink(p);
	CHECK(symlink("/dev/zero", p) == 0, "symlink");
	expect_fail("tokenizer_config.json -> /dev/zero", dir, NULL, SST2_ERR_FILETYPE,
				"is not a regular file");
	unlink(p);
	/* a tokenizer_config.json past its cap (1 MB) */
	{
		size_t		n = 2 * 1024 * 1024;
		char	   *big = malloc(n);

		memset(big, ' ', n);
		big[0] = '{';
		big[n - 1] = '}';
		write_file(dir, "tokenizer_config.json", big, n);
		expect_fail("2 MB tokenizer_config.json", dir, NULL, SST2_ERR_LIMIT, "too large");
		free(big);
	}
	/* JSON followed by a NUL byte: config and tokenizer config */
	write_file(dir, "tokenizer_config.json", "{\"do_lower_case\": true}\0", 24);
	expect_fail("tokenizer_config.json + NUL", dir, NULL, SST2_ERR_FORMAT, "trailing data");
	unlink(p);
	free(p);
	{
		char	   *cfg = pathf("%s/config.json", dir);
		FILE	   *f = fopen(cfg, "ab");

		fputc('\0', f);
		fclose(f);
		expect_fail("config.json + NUL", dir, NULL, SST2_ERR_FORMAT, "trailing data");
		free(cfg);
	}
	remove_tree(dir);
	free(dir);
}

/* The converted-weights cache of an F16 model. */
static void
test_cache(const char *mini)
{
	char	   *cache = pathf("%s/cache", tmp);
	char	   *dir = copy_model(mini, "mini");
	sst2_model *m;
	sst2_error	err;
	float		ref[10],
				got[10];
	int			ok;
	char	   *file;

	CHECK(sst2_model_open(&m, dir, NULL, &err) == SST2_OK, "mini, no cache: %s", err.msg);
	classify(m, ref, 0, &ok);
	CHECK(ok, "mini classify");
	sst2_model_free(m);

	CHECK(sst2_model_open(&m, dir, cache, &err) == SST2_OK, "mini, cache: %s", err.msg);
	file = strdup(sst2_model_weights_path(m));
	classify(m, got, 0, &ok);
	CHECK(ok && max_diff(ref, got, 10) == 0, "cached weights give the same logits");
	sst2_model_free(m);

	/* the data part zeroed, header kept: rebuilt, never (NEGATIVE, 0.5) */
	{
		int			fd = open(file, O_RDWR);
		struct stat st;
		char	   *zero;

		fstat(fd, &st);
		zero = calloc(1, (size_t) st.st_size - 4096);
		CHECK(pwrite(fd, zero, (size_t) st.st_size - 4096, 4096) == st.st_size - 4096, "zero");
		close(fd);
		free(zero);
		CHECK(sst2_model_open(&m, dir, cache, &err) == SST2_OK, "zeroed cache: %s", err.msg);
		classify(m, got, 0, &ok);
		CHECK(ok && max_diff(ref, got, 10) == 0, "zeroed cache file not trusted (diff %g)",
			  max_diff(ref, got, 10));
		sst2_model_free(m);
	}
	/* a cache file others can write: rebuilt as this user's 0600 file */
	{
		struct stat st;

		chmod(file, 0666);
		CHECK(sst2_model_open(&m, dir, cache, &err) == SST2_OK, "0666 cache: %s", err.msg);
		sst2_model_free(m);
		CHECK(stat(file, &st) == 0 && (st.st_mode & 077) == 0,
			  "0666 cache file not replaced (mode %o)", (unsigned) st.st_mode & 0777);
	}
	/* a cache file of another user (root only: chown) */
	if (geteuid() == 0)
	{
		struct stat st;

		CHECK(chown(file, 65534, 65534) == 0, "chown nobody");
		CHECK(sst2_model_open(&m, dir, cache, &err) == SST2_OK, "foreign cache: %s", err.msg);
		classify(m, got, 0, &ok);
		CHECK(ok && max_diff(ref, got, 10) == 0, "foreign cache logits");
		sst2_model_free(m);
		CHECK(stat(file, &st) == 0 && st.st_uid == geteuid(), "foreign cache file not replaced");
	}
	/* a cache folder others can write: refused */
	chmod(cache, 0777);
	expect_fail("world-writable cache dir", dir, cache, SST2_ERR_UNSAFE, "writable by other users");
	chmod(cache, 0700);

	free(file);
	remove_tree(cache);
	remove_tree(dir);
	free(cache);
	free(dir);
}

/* Weights truncated in place after open, with 1 and 2 OpenBLAS threads. */
static void
test_truncate(const char *tiny)
{
	for (int threads = 1; threads <= 2; threads++)
	{
		char		name[32];
		char	   *dir,
				   *w;
		sst2_model *m;
		sst2_error	err;
		sst2_batch *b;
		struct stat st;

		snprintf(name, sizeof(name), "trunc%d", threads);
		dir = copy_model(tiny, name);
		w = pathf("%s/model.safetensors", dir);
		sst2_set_threads(threads);
		CHECK(sst2_model_open(&m, dir, NULL, &err) == SST2_OK, "open: %s", err.msg);
		stat(w, &st);
		CHECK(truncate(w, st.st_size / 3) == 0, "truncate");
		CHECK(sst2_batch_new(&b, m, 512, 0, &err) == SST2_OK, "batch");
		for (int i = 0; i < 300; i++)
			sst2_batch_add(b, "word word word word word word word word word word", 49);
		CHECK(sst2_batch_run(b, &err) == SST2_ERR_FORMAT && strstr(err.msg, "truncated"),
			  "threads %d: truncated weights not reported: %s", threads, err.msg);
		CHECK(sst2_model_changed(m), "threads %d: truncated model not reported changed", threads);
		sst2_batch_free(b);
		sst2_model_free(m);
		remove_tree(dir);
		free(dir);
		free(w);
	}
	sst2_set_threads(1);
}

/* Splitting a batch by memory, fingerprints, warnings. */
static void
test_batch_and_identity(const char *tiny)
{
	char	   *a = copy_model(tiny, "ida"),
			   *b = copy_model(tiny, "idb");
	sst2_model *ma,
			   *mb;
	sst2_error	err;
	const char *fa,
			   *fb;
	float		one[10],
				split[10];
	int			ok1,
				ok2;

	CHECK(sst2_model_open(&ma, a, NULL, &err) == SST2_OK, "open a");
	CHECK(sst2_model_open(&mb, b, NULL, &err) == SST2_OK, "open b");
	classify(ma, one, 0, &ok1);
	classify(ma, split, 1, &ok2);	/* 1 byte: one sequence per pass */
	CHECK(ok1 && ok2 && max_diff(one, split, 10) < 1e-5,
		  "split batch differs by %g", max_diff(one, split, 10));
	CHECK(sst2_model_fingerprint(ma, &fa, &err) == SST2_OK &&
		  sst2_model_fingerprint(mb, &fb, &err) == SST2_OK && strcmp(fa, fb) == 0 &&
		  strlen(fa) == 16, "copies have different fingerprints");
	CHECK(sst2_model_warnings(ma) == NULL, "warnings for a 0755 folder");
	sst2_model_free(mb);
	{
		char	   *w = pathf("%s/model.safetensors", b);
		int			fd = open(w, O_RDWR);
		struct stat st;
		char		c;

		fstat(fd, &st);
		CHECK(pread(fd, &c, 1, st.st_size - 1) == 1, "read");
		c ^= 1;
		CHECK(pwrite(fd, &c, 1, st.st_size - 1) == 1, "write");
		close(fd);
		free(w);
		CHECK(sst2_model_open(&mb, b, NULL, &err) == SST2_OK, "open b again");
		CHECK(sst2_model_fingerprint(mb, &fb, &err) == SST2_OK && strcmp(fa, fb) != 0,
			  "one changed byte keeps the fingerprint");
		sst2_model_free(mb);
	}
	chmod(b, 0777);
	CHECK(sst2_model_open(&mb, b, NULL, &err) == SST2_OK, "open 0777");
	CHECK(sst2_model_warnings(mb) != NULL && strstr(sst2_model_warnings(mb), "writable by every user"),
		  "no warning for a 0777 folder");
	sst2_model_free(mb);
	sst2_model_free(ma);
	remove_tree(a);
	remove_tree(b);
	free(a);
	free(b);
}

int
main(void)
{
	const char *tiny = getenv("SST2_TINY_MODEL");
	const char *mini = getenv("SST2_MINI_MODEL");
	char		templ[] = "/tmp/unit_trust.XXXXXX";

	if (!tiny || access(tiny, F_OK) != 0 || !mini || access(mini, F_OK) != 0)
	{
		printf("unit_trust: needs SST2_TINY_MODEL and SST2_MINI_MODEL\n");
		return 2;
	}
	tmp = mkdtemp(templ);
	if (!tmp)
		return 2;
	signal(SIGALRM, SIG_DFL);
	test_files(tiny);
	test_cache(mini);
	/*
	 * valgrind cannot follow a load that faulted and was retried on pages the
	 * handler mapped: it reports them uninitialised.  scripts/valgrind.sh
	 * sets SST2_UNIT_NO_FAULTS; the native run always does this part.
	 */
	if (!getenv("SST2_UNIT_NO_FAULTS"))
		test_truncate(tiny);
	else
		printf("unit_trust: truncated-weights part left out (SST2_UNIT_NO_FAULTS)\n");
	test_batch_and_identity(tiny);
	remove_tree(tmp);
	printf("unit_trust: %d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}

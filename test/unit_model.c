/*
 * unit_model.c
 *	  The forward pass against Hugging Face's own numbers.
 *
 *	  SST2_DATA      (default test/data): the golden files
 *	  SST2_MINI_MODEL (default models/sst2-mini): the sst2-mini checkpoint
 *	  SST2_DET_MODEL (default build/distilbert-det): the full-size
 *	                 deterministic checkpoint, made with
 *	                 bin/sst2 --make-det build/distilbert-det; "none"
 *	                 leaves the distilbert-det checks out (scripts/valgrind.sh)
 *	  SST2_UNIT_QUICK=1: only the first 4 rows of each set, no accuracy
 *	                 check, no multi-process cache race (for scripts/valgrind.sh)
 *
 *	  Checks: every logit of golden/distilbert-det.json within 1e-4 (one
 *	  sequence per call and all 55 in one packed batch, which must agree with
 *	  the single calls within 1e-5); sst2-mini (F16) on the 872 dev rows:
 *	  logits within 1e-4, labels identical, accuracy 686/872; the pipeline's
 *	  label/score contract through the tokenizer; the fp32 cache of F16
 *	  weights (created once, reused, same results as private memory).
 *	  A missing file is a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cblas.h>
#include <json-c/json.h>

#include "sst2_core.h"
#include "test_util.h"

/* SST2_UNIT_QUICK=1 (for valgrind): only the first QUICK_ROWS rows of each set */
#define QUICK_ROWS 4
static bool quick;
static const char *mini_dir;	/* the sst2-mini checkpoint folder */

static int
quick_cap(int n)
{
	return quick && n > QUICK_ROWS ? QUICK_ROWS : n;
}

static char *
path2(const char *a, const char *b)
{
	char	   *p = malloc(strlen(a) + strlen(b) + 2);

	sprintf(p, "%s/%s", a, b);
	return p;
}

static bool
exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static json_object *
load_json(const char *path)
{
	json_object *o = json_object_from_file(path);

	if (!o)
		printf("FAIL: could not read %s: %s\n", path, json_util_get_last_err());
	return o;
}

/* golden rows: ids, logits, label (and gold, score when present) */
typedef struct row
{
	int32_t    *ids;
	int			len;
	float		logits[8];
	int			n_logits;
	char		label[32];
	int			gold;
	double		score;
	char	   *text;
} row;

static void
row_from_json(row *r, json_object *o)
{
	json_object *v;

	memset(r, 0, sizeof(*r));
	r->gold = -1;
	if (json_object_object_get_ex(o, "ids", &v))
	{
		r->len = (int) json_object_array_length(v);
		r->ids = malloc(sizeof(int32_t) * (size_t) r->len);
		for (int i = 0; i < r->len; i++)
			r->ids[i] = json_object_get_int(json_object_array_get_idx(v, (size_t) i));
	}
	if (json_object_object_get_ex(o, "logits", &v))
	{
		r->n_logits = (int) json_object_array_length(v);
		for (int i = 0; i < r->n_logits && i < 8; i++)
			r->logits[i] = (float) json_object_get_double(json_object_array_get_idx(v, (size_t) i));
	}
	if (json_object_object_get_ex(o, "label", &v))
		snprintf(r->label, sizeof(r->label), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "gold", &v))
		r->gold = json_object_get_int(v);
	if (json_object_object_get_ex(o, "score", &v))
		r->score = json_object_get_double(v);
	if (json_object_object_get_ex(o, "text", &v))
		r->text = strdup(json_object_get_string(v));
}

static void
rows_free(row *rows, int n)
{
	for (int i = 0; i < n; i++)
	{
		free(rows[i].ids);
		free(rows[i].text);
	}
	free(rows);
}

static row *
load_jsonl(const char *path, int *n_out)
{
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	int			n = 0,
				alloc = 1024;
	row		   *rows;

	*n_out = 0;
	if (!f)
	{
		printf("FAIL: could not open %s\n", path);
		return NULL;
	}
	rows = malloc(sizeof(row) * (size_t) alloc);
	while (getline(&line, &cap, f) > 0)
	{
		json_object *o = json_tokener_parse(line);

		if (!o)
			continue;
		if (n == alloc)
			rows = realloc(rows, sizeof(row) * (size_t) (alloc *= 2));
		row_from_json(&rows[n++], o);
		json_object_put(o);
	}
	free(line);
	fclose(f);
	*n_out = n;
	return rows;
}

static row *
load_rows_array(json_object *arr, int *n_out)
{
	int			n = (int) json_object_array_length(arr);
	row		   *rows = malloc(sizeof(row) * (size_t) (n ? n : 1));

	for (int i = 0; i < n; i++)
		row_from_json(&rows[i], json_object_array_get_idx(arr, (size_t) i));
	*n_out = n;
	return rows;
}

static int
label_index(const sst2_config *c, const char *label)
{
	for (int i = 0; i < c->n_labels; i++)
		if (strcmp(c->labels[i], label) == 0)
			return i;
	return -1;
}

/*
 * Run every row one at a time, compare with the golden logits; returns the
 * max abs error.  out (n * n_labels) receives the logits.
 */
static double
check_rows(const char *what, sst2_model *m, const row *rows, int n, double tol,
		   float *out, int *correct)
{
	const sst2_config *c = sst2_model_config(m);
	double		max_err = 0.0;
	int			bad_logit = 0,
				bad_label = 0;
	sst2_error	err;

	if (correct)
		*correct = 0;
	for (int i = 0; i < n; i++)
	{
		float	   *lg = out + (size_t) i * c->n_labels;
		float		score;
		int			top;

		if (sst2_model_forward(m, rows[i].ids, &rows[i].len, 1, lg, &err) != SST2_OK)
		{
			CHECK(false, "%s row %d: forward failed: %s", what, i, err.msg);
			continue;
		}
		for (int j = 0; j < c->n_labels; j++)
		{
			double		e = fabs((double) lg[j] - rows[i].logits[j]);

			if (e > max_err)
				max_err = e;
			if (e > tol && bad_logit++ < 5)
				printf("FAIL: %s row %d logit %d: %.7f, expected %.7f\n",
					   what, i, j, lg[j], rows[i].logits[j]);
		}
		top = sst2_top_label(lg, c->n_labels, &score);
		if (top != label_index(c, rows[i].label) && bad_label++ < 5)
			printf("FAIL: %s row %d: label %s, expected %s\n", what, i,
				   c->labels[top], rows[i].label);
		if (correct && top == rows[i].gold)
			(*correct)++;
	}
	CHECK(bad_logit == 0, "%s: %d logits differ by more than %g", what, bad_logit, tol);
	CHECK(bad_label == 0, "%s: %d labels differ", what, bad_label);
	printf("%s: %d rows, max abs logit error %.3g\n", what, n, max_err);
	return max_err;
}

/* All rows in packed batches of up to `batch` sequences; compare with single. */
static void
check_batched(const char *what, sst2_model *m, const row *rows, int n, int batch,
			  const float *single, double tol)
{
	const sst2_config *c = sst2_model_config(m);
	double		max_diff = 0.0;
	sst2_error	err;

	for (int s = 0; s < n; s += batch)
	{
		int			k = n - s < batch ? n - s : batch;
		size_t		total = 0;
		int32_t    *ids;
		int		   *lens = malloc(sizeof(int) * (size_t) k);
		float	   *lg = malloc(sizeof(float) * (size_t) k * (size_t) c->n_labels);

		for (int i = 0; i < k; i++)
			total += (size_t) rows[s + i].len;
		ids = malloc(sizeof(int32_t) * total);
		total = 0;
		for (int i = 0; i < k; i++)
		{
			memcpy(ids + total, rows[s + i].ids, sizeof(int32_t) * (size_t) rows[s + i].len);
			lens[i] = rows[s + i].len;
			total += (size_t) lens[i];
		}
		if (sst2_model_forward(m, ids, lens, k, lg, &err) != SST2_OK)
			CHECK(false, "%s: batched forward failed: %s", what, err.msg);
		else
			for (int i = 0; i < k * c->n_labels; i++)
			{
				double		d = fabs((double) lg[i] - single[(size_t) s * c->n_labels + i]);

				if (d > max_diff)
					max_diff = d;
			}
		free(ids);
		free(lens);
		free(lg);
	}
	CHECK(max_diff <= tol, "%s: batched and single differ by %.3g (> %g)", what, max_diff, tol);
	printf("%s: batches of %d, max abs difference to one-at-a-time %.3g\n", what, batch, max_diff);
}

static void
test_det(const char *fixtures, const char *det)
{
	char	   *golden = path2(fixtures, "golden/distilbert-det.json");
	json_object *root = load_json(golden),
			   *arr;
	sst2_model *m;
	sst2_error	err;
	row		   *rows;
	int			n,
				n_all;
	float	   *single;

	free(golden);
	if (!root)
	{
		n_fail++;
		return;
	}
	if (!json_object_object_get_ex(root, "rows", &arr))
	{
		CHECK(false, "distilbert-det.json has no rows");
		json_object_put(root);
		return;
	}
	rows = load_rows_array(arr, &n);
	json_object_put(root);
	CHECK(n == 55, "distilbert-det.json has %d rows, expected 55", n);
	n_all = n;
	n = quick_cap(n);

	if (sst2_model_open(&m, det, NULL, &err) != SST2_OK)
	{
		CHECK(false, "open %s: %s", det, err.msg);
		rows_free(rows, n_all);
		return;
	}
	CHECK(sst2_model_dtype(m) == SST2_F32, "det dtype is %s", sst2_dtype_name(sst2_model_dtype(m)));
	CHECK(!sst2_model_changed(m), "det model reported as changed right after open");
	single = malloc(sizeof(float) * (size_t) n * 2);
	check_rows("distilbert-det", m, rows, n, 1e-4, single, NULL);
	check_batched("distilbert-det", m, rows, n, n, single, 1e-5);
	check_batched("distilbert-det", m, rows, n, 7, single, 1e-5);
	/* again one at a time, after the workspace grew: same numbers */
	{
		float	   *again = malloc(sizeof(float) * (size_t) n * 2);
		bool		same = true;

		for (int i = 0; i < n; i++)
			if (sst2_model_forward(m, rows[i].ids, &rows[i].len, 1, again + 2 * i, &err) != SST2_OK)
				same = false;
		same = same && memcmp(again, single, sizeof(float) * (size_t) n * 2) == 0;
		CHECK(same, "distilbert-det: repeated single calls are not bit-identical");
		free(again);
	}
	free(single);
	sst2_model_free(m);
	rows_free(rows, n_all);
}

/*
 * fp32 on the AVX-512 path packs the linear layers into a second cache file
 * (fpack.c, "<name>.f32p"); other paths read the weights where they lie.
 */
static bool
fp32_packed(void)
{
	return strcmp(sst2_isa_name(), "avx512") == 0;
}

/* Bytes of the one file in dir whose name ends in suffix (0 if none). */
static long long
file_bytes(const char *dir, const char *suffix)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	long long	bytes = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL)
	{
		size_t		l = strlen(e->d_name),
					ls = strlen(suffix);
		struct stat st;
		char	   *p;

		if (l > ls && strcmp(e->d_name + l - ls, suffix) == 0 &&
			(p = path2(dir, e->d_name)) != NULL)
		{
			if (stat(p, &st) == 0)
				bytes = st.st_size;
			free(p);
		}
	}
	closedir(d);
	return bytes;
}

/*
 * Files in dir whose name ends in suffix; *others counts the rest, except
 * the packed fp32 file (".f32p") when fp32_packed(), which there must be
 * exactly one of (else it counts as an other).
 */
static int
count_files(const char *dir, const char *suffix, int *others)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	int			n = 0,
				packed = 0;

	*others = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
	{
		size_t		l = strlen(e->d_name),
					ls = strlen(suffix);

		if (e->d_name[0] == '.' && (l == 1 || (l == 2 && e->d_name[1] == '.')))
			continue;
		if (l > ls && strcmp(e->d_name + l - ls, suffix) == 0)
			n++;
		else if (l > 5 && strcmp(e->d_name + l - 5, ".f32p") == 0 && fp32_packed())
			packed++;
		else
			(*others)++;
	}
	closedir(d);
	if (fp32_packed() && packed != 1)
		(*others)++;
	return n;
}


static void
test_mini(const char *fixtures)
{
	char	   *mini = strdup(mini_dir);
	char	   *dev = path2(fixtures, "golden/sst2-mini-dev.jsonl");
	sst2_model *m;
	sst2_error	err;
	row		   *rows;
	int			n,
				n_all,
				correct,
				gold_pos = 0;
	float	   *single;

	rows = load_jsonl(dev, &n);
	free(dev);
	CHECK(n == 872, "sst2-mini-dev.jsonl has %d rows, expected 872", n);
	n_all = n;
	n = quick_cap(n);
	if (sst2_model_open(&m, mini, NULL, &err) != SST2_OK)
	{
		CHECK(false, "open %s: %s", mini, err.msg);
		free(mini);
		rows_free(rows, n_all);
		return;
	}
	CHECK(sst2_model_dtype(m) == SST2_F16, "mini dtype is %s", sst2_dtype_name(sst2_model_dtype(m)));
	single = malloc(sizeof(float) * (size_t) n * 2);
	check_rows("sst2-mini dev", m, rows, n, 1e-4, single, &correct);
	for (int i = 0; i < n; i++)
		gold_pos += rows[i].gold == 1;
	CHECK(quick || correct == 686, "sst2-mini accuracy %d/%d, expected 686/872", correct, n);
	printf("sst2-mini dev: accuracy %d/%d = %.2f%% (%d positive in gold)\n",
		   correct, n, 100.0 * correct / n, gold_pos);
	check_batched("sst2-mini dev", m, rows, n, 64, single, 1e-5);

	/* --- the fp32 cache of the F16 weights */
	{
		char		tmpl[] = "/tmp/unit_model.XXXXXX";
		char	   *tmp = mkdtemp(tmpl);
		char	   *cache = tmp ? path2(tmp, "cache/sub") : NULL;
		sst2_model *c1,
				   *c2;
		struct stat st1,
					st2;
		int			k = n < 100 ? n : 100,
					others;
		float	   *a = malloc(sizeof(float) * (size_t) k * 2);
		float	   *b = malloc(sizeof(float) * (size_t) k * 2);

		CHECK(tmp != NULL, "mkdtemp failed");
		if (tmp && sst2_model_open(&c1, mini, cache, &err) == SST2_OK)
		{
			struct stat dst;
			const char *wp = sst2_model_weights_path(c1);

			CHECK(strncmp(wp, cache, strlen(cache)) == 0 &&
				  strcmp(wp + strlen(wp) - 4, ".f32") == 0,
				  "cache: weights path %s is not a .f32 file in %s", wp, cache);
			CHECK(stat(cache, &dst) == 0 && (dst.st_mode & 0777) == 0700,
				  "cache: directory %s not created with mode 0700", cache);
			CHECK(stat(wp, &st1) == 0, "cache: %s missing", wp);
			CHECK(sst2_model_bytes_mapped(c1) > 0 &&
				  sst2_model_bytes_mapped(c1) == (size_t) (st1.st_size + file_bytes(cache, ".f32p")),
				  "cache: bytes mapped %zu, cache files have %lld + %lld",
				  sst2_model_bytes_mapped(c1), (long long) st1.st_size,
				  file_bytes(cache, ".f32p"));
			CHECK(count_files(cache, ".f32", &others) == 1 && others == 0,
				  "cache: expected exactly one .f32 file (and one .f32p on AVX-512) and nothing else in %s", cache);
			for (int i = 0; i < k; i++)
				sst2_model_forward(c1, rows[i].ids, &rows[i].len, 1, a + 2 * i, &err);
			CHECK(memcmp(a, single, sizeof(float) * (size_t) k * 2) == 0,
				  "cache: logits differ from private fp32 memory");

			/* second open (while the first is still open): same file */
			if (sst2_model_open(&c2, mini, cache, &err) == SST2_OK)
			{
				CHECK(stat(sst2_model_weights_path(c2), &st2) == 0 &&
					  st1.st_ino == st2.st_ino &&
					  st1.st_mtim.tv_sec == st2.st_mtim.tv_sec &&
					  st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec,
					  "cache: second open did not reuse the cache file");
				for (int i = 0; i < k; i++)
					sst2_model_forward(c2, rows[i].ids, &rows[i].len, 1, b + 2 * i, &err);
				CHECK(memcmp(a, b, sizeof(float) * (size_t) k * 2) == 0,
					  "cache: second open gives different logits");
				sst2_model_free(c2);
			}
			else
				CHECK(false, "cache: second open: %s", err.msg);

			/* a damaged cache file is detected and rewritten */
			{
				char	   *wpath = strdup(wp);

				sst2_model_free(c1);
				CHECK(truncate(wpath, 100) == 0, "cache: truncate failed");
				if (sst2_model_open(&c2, mini, cache, &err) == SST2_OK)
				{
					CHECK(stat(wpath, &st2) == 0 && st2.st_size == st1.st_size,
						  "cache: truncated cache file not rewritten");
					for (int i = 0; i < k; i++)
						sst2_model_forward(c2, rows[i].ids, &rows[i].len, 1, b + 2 * i, &err);
					CHECK(memcmp(a, b, sizeof(float) * (size_t) k * 2) == 0,
						  "cache: rewritten cache gives different logits");
					sst2_model_free(c2);
				}
				else
					CHECK(false, "cache: open after truncation: %s", err.msg);
				free(wpath);
			}
			CHECK(count_files(cache, ".f32", &others) == 1 && others == 0,
				  "cache: temp files left behind in %s", cache);

			/* several processes creating the same cache at once (not in quick mode) */
			if (!quick)
			{
				char	   *race = path2(tmp, "race");
				int			gate[2],
							nproc = 4,
							ok = 0;
				pid_t		pids[4];

				CHECK(pipe(gate) == 0, "pipe");
				fflush(stdout);
				for (int p = 0; p < nproc; p++)
				{
					pids[p] = fork();
					if (pids[p] == 0)
					{
						char		ch;
						sst2_model *cm;
						float		lg[2];
						int			bad = 0;

						close(gate[1]);
						if (read(gate[0], &ch, 1) < 0)	/* EOF: the start */
							_exit(3);
						if (sst2_model_open(&cm, mini, race, &err) != SST2_OK)
							_exit(2);
						for (int i = 0; i < 20; i++)
							if (sst2_model_forward(cm, rows[i].ids, &rows[i].len, 1, lg, &err) != SST2_OK ||
								memcmp(lg, single + 2 * i, sizeof(lg)) != 0)
								bad++;
						sst2_model_free(cm);
						_exit(bad ? 1 : 0);
					}
				}
				close(gate[0]);
				close(gate[1]);		/* all children start now */
				for (int p = 0; p < nproc; p++)
				{
					int			status = 0;

					if (pids[p] > 0 && waitpid(pids[p], &status, 0) == pids[p] &&
						WIFEXITED(status) && WEXITSTATUS(status) == 0)
						ok++;
				}
				CHECK(ok == nproc, "cache race: %d of %d processes succeeded", ok, nproc);
				CHECK(count_files(race, ".f32", &others) == 1 && others == 0,
					  "cache race: expected one .f32 file (and one .f32p on AVX-512) and nothing else in %s", race);
				free(race);
			}
		}
		else if (tmp)
			CHECK(false, "cache: open with cache dir: %s", err.msg);
		if (tmp)
			remove_tree(tmp);
		free(cache);
		free(a);
		free(b);
	}

	free(single);
	sst2_model_free(m);
	free(mini);
	rows_free(rows, n_all);
}

/*
 * sst2_explain on sst2-mini: each attribution equals p(L) minus p(L) of the
 * occluded ids run on their own (a separate batch per sequence), the n+1
 * sequences ran as one batch run, and the batch counted texts, tokens and
 * truncation as sst2_tokenize sees them.
 */
static void
test_explain(void)
{
	const char *texts[] = {
		"The acting is wonderful, the story dull.",
		"unaffable , predictable -- and far too long !",
		"Caf\xc3\xa9 na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac",
		"",
	};
	sst2_model *m;
	sst2_batch *b,
			   *one;
	sst2_error	err;
	int			max_ids = 12;
	int32_t		ids[12],
				scratch[12],
				tids[12];
	sst2_word	words[12];
	double		attr[12],
				probs[8];
	double		max_err = 0;

	if (sst2_model_open(&m, mini_dir, NULL, &err) != SST2_OK)
	{
		CHECK(false, "open %s: %s", mini_dir, err.msg);
		return;
	}
	CHECK(sst2_batch_new(&b, m, max_ids, 0, &err) == SST2_OK, "%s", err.msg);
	CHECK(sst2_batch_new(&one, m, max_ids, 0, &err) == SST2_OK, "%s", err.msg);
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++)
	{
		int			nw = -1,
					label = -1,
					n;
		double		p_label = 0;
		sst2_status rc = sst2_explain(m, b, texts[t], strlen(texts[t]), max_ids, 0,
									  ids, scratch, words, attr, &nw, &label, &p_label, &err);

		CHECK(rc == SST2_OK, "explain: %s", err.msg);
		if (rc != SST2_OK)
			continue;
		n = sst2_tokenize(sst2_model_tokenizer(m), texts[t], strlen(texts[t]), tids, max_ids);
		CHECK(sst2_batch_count(b) == nw + 1 && sst2_batch_counters(b)->runs == 1,
			  "text %zu: %d sequences in %llu runs for %d words", t, sst2_batch_count(b),
			  (unsigned long long) sst2_batch_counters(b)->runs, nw);
		for (int w = 0; w < nw; w++)
		{
			int			k = 0;

			for (int i = 0; i < n; i++)
				if (i < words[w].first_id || i >= words[w].first_id + words[w].n_ids)
					scratch[k++] = tids[i];
			sst2_batch_reset(one, max_ids, 0);
			sst2_batch_add_ids(one, scratch, k);
			CHECK(sst2_batch_run(one, &err) == SST2_OK, "%s", err.msg);
			sst2_softmax(sst2_batch_logits(one, 0), 2, probs);
			if (fabs(p_label - probs[label] - attr[w]) > max_err)
				max_err = fabs(p_label - probs[label] - attr[w]);
		}
	}
	CHECK(max_err <= 1e-5, "explain: attribution differs from one-at-a-time occlusion by %g", max_err);
	printf("sst2-mini explain: max abs difference to one-at-a-time occlusion %.2e\n", max_err);

	/* counters: the long text is cut (and counted truncated), the short one not */
	sst2_batch_reset(b, 6, 0);
	sst2_batch_add(b, "one two three four five six", 27);
	sst2_batch_add(b, "one two three four", 18);
	sst2_batch_add(b, "one two three", 13);
	CHECK(sst2_batch_run(b, &err) == SST2_OK, "%s", err.msg);
	{
		const sst2_batch_counts *c = sst2_batch_counters(b);
		int			n0,
					n1;
		const int32_t *i0 = sst2_batch_ids(b, 0, &n0);
		const int32_t *i1 = sst2_batch_ids(b, 1, &n1);

		CHECK(c->texts == 3 && c->tokens == 6 + 6 + 5 && c->truncated == 1 &&
			  c->runs == 1 && c->forward_passes == 1,
			  "counters: %llu texts, %llu tokens, %llu truncated, %llu runs, %llu passes",
			  (unsigned long long) c->texts, (unsigned long long) c->tokens,
			  (unsigned long long) c->truncated, (unsigned long long) c->runs,
			  (unsigned long long) c->forward_passes);
		CHECK(n0 == 6 && n1 == 6 && memcmp(i0, i1, sizeof(int32_t) * 6) == 0,
			  "a cut text's ids are not those of its kept words");
	}
	sst2_batch_free(one);
	sst2_batch_free(b);
	sst2_model_free(m);
}

static void
test_pipeline(const char *fixtures)
{
	char	   *mini = strdup(mini_dir);
	char	   *pj = path2(fixtures, "golden/sst2-mini-pipeline.json");
	json_object *root;
	sst2_model *m;
	sst2_error	err;
	row		   *rows;
	int			n,
				n_all;
	double		max_err = 0.0;
	int			bad = 0;

	root = load_json(pj);
	free(pj);
	if (!root || sst2_model_open(&m, mini, NULL, &err) != SST2_OK)
	{
		CHECK(false, "pipeline: %s", root ? err.msg : "no golden file");
		json_object_put(root);
		free(mini);
		return;
	}
	rows = load_rows_array(root, &n);
	json_object_put(root);
	n_all = n;
	n = quick_cap(n);
	for (int i = 0; i < n; i++)
	{
		const sst2_config *c = sst2_model_config(m);
		int32_t		ids[512];
		float		lg[SST2_MAX_LABELS];
		float		score;
		int			len,
					top;

		len = sst2_tokenize(sst2_model_tokenizer(m), rows[i].text, strlen(rows[i].text), ids, 512);
		if (len < 2 || sst2_model_forward(m, ids, &len, 1, lg, &err) != SST2_OK)
		{
			CHECK(false, "pipeline row %d: tokenize/forward failed", i);
			continue;
		}
		top = sst2_top_label(lg, c->n_labels, &score);
		if (fabs(score - rows[i].score) > max_err)
			max_err = fabs(score - rows[i].score);
		if ((strcmp(c->labels[top], rows[i].label) != 0 || fabs(score - rows[i].score) > 1e-5) &&
			bad++ < 5)
			printf("FAIL: pipeline row %d: %s %.7f, expected %s %.7f\n", i,
				   c->labels[top], score, rows[i].label, rows[i].score);
	}
	CHECK(n > 0 && bad == 0, "pipeline: %d of %d rows differ", bad, n);
	printf("sst2-mini pipeline: %d texts, max abs score error %.3g\n", n, max_err);
	rows_free(rows, n_all);
	sst2_model_free(m);
	free(mini);
}

/* Lines of /proc/self/maps that name a file under dir. */
static int
maps_under(const char *dir)
{
	FILE	   *f = fopen("/proc/self/maps", "r");
	char		line[4096];
	int			n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, dir) != NULL;
	fclose(f);
	return n;
}

/*
 * Bytes of this process's anonymous mappings that are read-only or
 * inaccessible (what sst2_model_to_anonymous leaves: its copies and the
 * address space it claims around them; little else maps such memory).
 */
static size_t
anon_ro_bytes(void)
{
	FILE	   *f = fopen("/proc/self/maps", "r");
	char		line[4096];
	size_t		total = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
	{
		unsigned long lo,
					hi,
					inode;
		char		perms[8];
		int			name = 0;

		if (sscanf(line, "%lx-%lx %7s %*s %*s %lu %n", &lo, &hi, perms, &inode, &name) >= 4 &&
			inode == 0 && (name == 0 || line[name] == '\n' || line[name] == '\0') &&
			perms[1] == '-')
			total += hi - lo;
	}
	fclose(f);
	return total;
}

/*
 * sst2_model_to_anonymous (what a preloading postmaster does before its
 * backends fork): at fp32 and int8, with the model's caches in a folder, the
 * model gives the same logits, bit for bit, after its weights moved as
 * before; with transparent huge pages it reports the bytes moved and no file
 * of the model or its caches stays mapped, and freeing the model unmaps all
 * it moved, the address space claimed around it included.
 */
static void
test_anonymous(const char *fixtures)
{
	char	   *dev = path2(fixtures, "golden/sst2-mini-dev.jsonl");
	const sst2_precision precs[] = {SST2_PREC_FP32, SST2_PREC_INT8};
	int			n_all,
				n;
	row		   *rows = load_jsonl(dev, &n_all);
	bool		thp = false;
	FILE	   *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (f)
	{
		char		buf[128] = "";

		thp = fgets(buf, sizeof(buf), f) &&
			(strstr(buf, "[always]") || strstr(buf, "[madvise]"));
		fclose(f);
	}
	free(dev);
	n = quick_cap(n_all < 64 ? n_all : 64);
	for (size_t p = 0; p < sizeof(precs) / sizeof(precs[0]); p++)
	{
		char		tmpl[] = "/tmp/unit_anon.XXXXXX";
		char	   *tmp = mkdtemp(tmpl);
		char	   *cache = tmp ? path2(tmp, "cache") : NULL;
		const char *pname = sst2_precision_name(precs[p]);
		sst2_model *m;
		sst2_error	err;
		float		before[64 * 2],
					after[64 * 2];
		size_t		moved,
					ro_before = anon_ro_bytes();
		int			same = 0,
					ok = 0;

		CHECK(tmp != NULL, "mkdtemp failed");
		if (!tmp || sst2_model_open_ex(&m, mini_dir, cache, precs[p], &err) != SST2_OK)
		{
			CHECK(false, "open %s at %s: %s", mini_dir, pname, tmp ? err.msg : "no folder");
			free(cache);
			continue;
		}
		for (int i = 0; i < n; i++)
			ok += sst2_model_forward(m, rows[i].ids, &rows[i].len, 1, before + 2 * i, &err) == SST2_OK;
		moved = sst2_model_to_anonymous(m);
		for (int i = 0; i < n; i++)
			ok += sst2_model_forward(m, rows[i].ids, &rows[i].len, 1, after + 2 * i, &err) == SST2_OK;
		for (int i = 0; i < 2 * n; i++)
			same += memcmp(&before[i], &after[i], sizeof(float)) == 0;
		CHECK(ok == 2 * n, "anonymous %s: %d of %d passes failed", pname, 2 * n - ok, 2 * n);
		CHECK(same == 2 * n, "anonymous %s: %d of %d logits changed when the weights moved",
			  pname, 2 * n - same, 2 * n);
		if (thp)
		{
			CHECK(moved > 0, "anonymous %s: nothing moved although huge pages are available", pname);
			CHECK(maps_under(mini_dir) == 0 && maps_under(tmp) == 0,
				  "anonymous %s: %d mappings of the model's files and %d of its caches remain",
				  pname, maps_under(mini_dir), maps_under(tmp));
		}
		printf("anonymous %s: %zu bytes moved, %d logits the same\n", pname, moved, same);
		sst2_model_free(m);
		CHECK(anon_ro_bytes() == ro_before,
			  "anonymous %s: %zu bytes of read-only anonymous mappings before, %zu after the model was freed",
			  pname, ro_before, anon_ro_bytes());
		remove_tree(tmp);
		free(cache);
	}
	rows_free(rows, n_all);
}

int
main(void)
{
	const char *fixtures = getenv("SST2_DATA");
	const char *det = getenv("SST2_DET_MODEL");
	char	   *det_cfg;

	if (!fixtures || !*fixtures)
		fixtures = "test/data";
	if (!det || !*det)
		det = "build/distilbert-det";
	mini_dir = getenv("SST2_MINI_MODEL");
	if (!mini_dir || !*mini_dir)
		mini_dir = "models/sst2-mini";
	openblas_set_num_threads(1);
	{
		/* scripts/test.sh runs this once per kernel path, forced by SST2_ISA */
		const char *isa = getenv("SST2_ISA");
		sst2_error	err;

		CHECK(sst2_isa_check(&err) == SST2_OK, "%s", err.msg);
		CHECK(!isa || !*isa || strcmp(isa, "auto") == 0 || strcmp(isa, sst2_isa_name()) == 0,
			  "SST2_ISA=%s but the path in use is %s", isa, sst2_isa_name());
		printf("instruction set in use: %s\n", sst2_isa_name());
	}
	quick = getenv("SST2_UNIT_QUICK") && strcmp(getenv("SST2_UNIT_QUICK"), "1") == 0;
	if (quick)
		printf("SST2_UNIT_QUICK=1: only the first %d rows of each set\n", QUICK_ROWS);

	det_cfg = path2(det, "model.safetensors");
	if (strcmp(det, "none") == 0)
		printf("distilbert-det checks left out (SST2_DET_MODEL=none)\n");
	else
	{
		CHECK(exists(det_cfg), "%s is absent (make it with bin/sst2 --make-det %s)", det_cfg, det);
		if (exists(det_cfg))
			test_det(fixtures, det);
	}
	free(det_cfg);
	test_mini(fixtures);
	test_pipeline(fixtures);
	test_explain();
	test_anonymous(fixtures);

	printf("unit_model: %d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}

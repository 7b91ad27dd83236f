/*
 * unit_qgemm.c
 *	  The bf16 and int8 modes.
 *
 *	  Kernels (qgemm.h) against a plain reference on odd shapes (M = 1, 7,
 *	  25, 513; N and K not multiples of the vector width), portable path
 *	  and, when this CPU has them, the AVX-512 VNNI / BF16 paths:
 *	  - int8 (the AVX-512 path with its own row quantizer): the reference restates the arithmetic of qgemm.h (weights per
 *	    channel, rows u8 with a zero point, exact integer sums, the same fp32
 *	    dequantization) and must be matched exactly; and every result must lie
 *	    within the rounding bound of the fp32 product (half a step of x and of
 *	    w per term).
 *	  - bf16: within 2^-8 relative per term of the fp32 product.
 *	  - limits: rows holding +-FLT_MAX, all-equal rows, zero rows, zero and
 *	    all-equal weight channels.
 *	  Quality (deterministic): sst2-mini (SST2_MINI_MODEL, F16) on the 872
 *	  SST-2 dev rows: >= 868 labels equal to fp32 Hugging Face's and accuracy
 *	  within 0.5 points of 686/872; distilbert-det (SST2_DET_MODEL), 55 golden
 *	  inputs: every label equal, max |logit difference| <= 0.15.  The figures
 *	  are printed.
 *	  Cache: the "i8"/"bf16" file is made once and reused; truncated, from
 *	  another checkpoint or from another precision it is never used (rebuilt,
 *	  same results).
 */
#include <float.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cpu.h"
#include "qgemm.h"
#include "sst2_core.h"
#include "test_util.h"

static uint64_t seed = 42;

/* Uniform in [-1, 1). */
static float
rnd(void)
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (float) ((double) (seed >> 11) / (double) (1ULL << 53) * 2.0 - 1.0);
}

static bool have_vnni,
			have_bf16;

/* The int8 reference: the arithmetic of qgemm.h, restated plainly. */
static void
ref_i8(float *y, const float *x, const float *w, const float *b, int M, int N, int K)
{
	for (int i = 0; i < M; i++)
	{
		const float *xi = x + (size_t) i * K;
		float		lo = 0,
					hi = 0,
					s;
		int			z;

		for (int k = 0; k < K; k++)
		{
			lo = fminf(lo, xi[k]);
			hi = fmaxf(hi, xi[k]);
		}
		s = hi / 255.0f - lo / 255.0f;
		z = s > 0 ? (int) lrintf(-lo / s) : 0;
		for (int n = 0; n < N; n++)
		{
			const float *wn = w + (size_t) n * K;
			float		mx = 0,
						sw;
			int32_t		acc = 0,
						wsum = 0;

			for (int k = 0; k < K; k++)
				mx = fmaxf(mx, fabsf(wn[k]));
			sw = mx > 0 ? mx / 127.0f : 1.0f;
			for (int k = 0; k < K; k++)
			{
				long		qw = mx > 0 ? lrintf(wn[k] / mx * 127.0f) : 0;
				long		qx = s > 0 ? lrintf(xi[k] / s) + z : 0;

				qx = qx < 0 ? 0 : qx > 255 ? 255 : qx;
				acc += (int32_t) (qx * qw);
				wsum += (int32_t) qw;
			}
			y[(size_t) i * N + n] = s > 0 ?
				(float) (acc - z * wsum) * (s * sw) + b[n] : b[n];
		}
	}
}

/* Fill x [M, K] and w [N, K] with test patterns; kind selects the limits. */
static void
fill(float *x, float *w, float *b, int M, int N, int K, int kind)
{
	for (int i = 0; i < M; i++)
		for (int k = 0; k < K; k++)
		{
			float		v = rnd();

			if (kind == 1 && i % 4 == 0)
				v = 0.0f;		/* zero rows */
			else if (kind == 1 && i % 4 == 1)
				v = 5.0f;		/* all-equal rows */
			else if (kind == 1 && i % 4 == 2)
				v = -3.0f;
			else if (kind == 2)
				v = (k % 3 == 0) ? FLT_MAX : (k % 3 == 1 ? -FLT_MAX : v * 1e37f);
			x[(size_t) i * K + k] = v;
		}
	for (int n = 0; n < N; n++)
		for (int k = 0; k < K; k++)
		{
			float		v = rnd();

			if (kind == 1 && n % 5 == 0)
				v = 0.0f;		/* a zero channel */
			else if (kind == 1 && n % 5 == 1)
				v = -0.25f;		/* an all-equal channel */
			else if (kind == 2)
				v *= 1e-30f;	/* small weights against the largest x */
			w[(size_t) n * K + k] = v;
		}
	for (int n = 0; n < N; n++)
		b[n] = rnd();
}

/* One shape, one precision: every available path against the references. */
static void
check_shape(sst2_precision p, int M, int N, int K, int kind)
{
	float	   *x = malloc(sizeof(float) * (size_t) M * K),
			   *w = malloc(sizeof(float) * (size_t) N * K),
			   *b = malloc(sizeof(float) * (size_t) N),
			   *yr = malloc(sizeof(float) * (size_t) M * N),
			   *y = malloc(sizeof(float) * (size_t) M * N);
	void	   *packed = NULL,
			   *scratch = NULL;
	qlinear		L;
	size_t		pb = sst2_qg_pack_bytes(p, N, K);
	const char *pn = sst2_precision_name(p);

	fill(x, w, b, M, N, K, kind);
	if (posix_memalign(&packed, 64, pb) != 0 ||
		posix_memalign(&scratch, 64, (size_t) M * qg_pad_k(K) * 2 + (size_t) M * 8 + 128) != 0)
		exit(2);
	memset(packed, 0, pb);
	sst2_qg_pack(&L, packed, w, b, N, K, p);
	if (p == SST2_PREC_INT8)
		ref_i8(yr, x, w, b, M, N, K);

	for (int path = 0; path < 2; path++)
	{
		uint8_t    *xq = scratch;
		float	   *xs;
		int32_t    *xz;
		double		worst = 0;
		int			bad = 0;

		if (path == 1 && !(p == SST2_PREC_INT8 ? have_vnni : have_bf16))
			continue;
		memset(y, 0xff, sizeof(float) * (size_t) M * N);	/* NaN: unwritten shows */
		if (p == SST2_PREC_INT8)
		{
			xs = (float *) (xq + (((size_t) M * L.Kp + 63) & ~(size_t) 63));
			xz = (int32_t *) (xs + M);
			(path ? sst2_qg_quantize_rows_avx512 : sst2_qg_quantize_rows) (xq, xs, xz, x, K, M, K, L.Kp);
			(path ? sst2_qg_i8_avx512 : sst2_qg_i8_generic) (y, N, xq, xs, xz, &L, M);
		}
		else
		{
			sst2_qg_bf16_rows(scratch, x, K, M, K, L.Kp);
			(path ? sst2_qg_bf16_avx512 : sst2_qg_bf16_generic) (y, N, scratch, &L, M);
		}
		for (int i = 0; i < M; i++)
			for (int n = 0; n < N; n++)
			{
				const float *xi = x + (size_t) i * K,
						   *wn = w + (size_t) n * K;
				double		exact = b[n],
							mag = 0,
							xmax = 0,
							wmax = 0,
							bound;
				float		got = y[(size_t) i * N + n];

				for (int k = 0; k < K; k++)
				{
					exact += (double) xi[k] * wn[k];
					mag += fabs((double) xi[k] * wn[k]);
					xmax = fmax(xmax, fabs(xi[k]));
					wmax = fmax(wmax, fabs(wn[k]));
				}
				if (p == SST2_PREC_INT8)
				{
					double		sx = 2 * xmax / 255,
								sw = wmax / 127,
								sa = 0;

					for (int k = 0; k < K; k++)
						sa += fabs(xi[k]) * sw / 2 + fabs(wn[k]) * sx / 2 + sx * sw / 4;
					bound = sa + 1e-5 * (mag + fabs(b[n]));
					if (got != yr[(size_t) i * N + n])
						bad++;
				}
				else
					bound = mag * 2.0 * pow(2, -8) + 1e-5 * (mag + fabs(b[n]));
				if (!(fabs(got - exact) <= bound))
					bad++;
				worst = fmax(worst, fabs(got - exact) / (bound > 0 ? bound : 1));
			}
		CHECK(bad == 0, "%s %s M=%d N=%d K=%d kind=%d: %d results off (worst %.3g of the bound)",
			  pn, path ? "avx512" : "generic", M, N, K, kind, bad, worst);
	}
	free(x);
	free(w);
	free(b);
	free(yr);
	free(y);
	free(packed);
	free(scratch);
}

static void
test_kernels(void)
{
	const int	Ms[] = {1, 7, 25, 513};
	const int	NK[][2] = {{1, 1}, {17, 5}, {70, 3}, {37, 131}, {130, 259}};

	for (int p = SST2_PREC_BF16; p <= SST2_PREC_INT8; p++)
	{
		for (size_t a = 0; a < sizeof(Ms) / sizeof(Ms[0]); a++)
			for (size_t c = 0; c < sizeof(NK) / sizeof(NK[0]); c++)
				check_shape((sst2_precision) p, Ms[a], NK[c][0], NK[c][1], 0);
		check_shape((sst2_precision) p, 25, 768, 300, 0);
		check_shape((sst2_precision) p, 9, 33, 77, 1);
		check_shape((sst2_precision) p, 13, 20, 64, 1);
		if (p == SST2_PREC_INT8)
			check_shape((sst2_precision) p, 7, 19, 30, 2);
	}
}

/* ---------------------------------------------------------------- quality */

typedef struct grow
{
	int32_t    *ids;
	int			len;
	float		logits[2];
	int			label;			/* argmax of the golden logits */
	int			gold;
} grow;

static grow *
load_rows(const char *path, bool jsonl, int *n)
{
	grow	   *rows = calloc(1024, sizeof(grow));
	json_object *all = NULL,
			   *arr = NULL;
	FILE	   *f = NULL;
	char	   *line = NULL;
	size_t		cap = 0;

	*n = 0;
	if (jsonl)
		f = fopen(path, "r");
	else
	{
		all = json_object_from_file(path);
		if (all)
			json_object_object_get_ex(all, "rows", &arr);
	}
	if (!(jsonl ? (void *) f : (void *) arr))
	{
		printf("FAIL: could not read %s\n", path);
		n_fail++;
		return rows;
	}
	for (;;)
	{
		json_object *o,
				   *v;
		grow	   *r = &rows[*n];

		if (jsonl)
		{
			if (getline(&line, &cap, f) <= 0)
				break;
			o = json_tokener_parse(line);
		}
		else
		{
			if ((size_t) *n >= json_object_array_length(arr))
				break;
			o = json_object_get(json_object_array_get_idx(arr, (size_t) *n));
		}
		json_object_object_get_ex(o, "ids", &v);
		r->len = (int) json_object_array_length(v);
		r->ids = malloc(sizeof(int32_t) * (size_t) r->len);
		for (int i = 0; i < r->len; i++)
			r->ids[i] = json_object_get_int(json_object_array_get_idx(v, (size_t) i));
		json_object_object_get_ex(o, "logits", &v);
		for (int i = 0; i < 2; i++)
			r->logits[i] = (float) json_object_get_double(json_object_array_get_idx(v, (size_t) i));
		r->label = r->logits[1] > r->logits[0];
		r->gold = json_object_object_get_ex(o, "gold", &v) ? json_object_get_int(v) : -1;
		json_object_put(o);
		(*n)++;
	}
	free(line);
	if (f)
		fclose(f);
	json_object_put(all);
	return rows;
}

/* Softmax probability of the larger of two logits. */
static double
score2(const float *l)
{
	double		a = l[0],
				b = l[1],
				m = fmax(a, b);

	return 1.0 / (exp(a - m) + exp(b - m));
}

/*
 * Every row through m (in batches of 32), against the golden fp32 logits:
 * labels equal, correct, max and mean |logit difference| and |score
 * difference|.
 */
static void
quality(const char *what, sst2_model *m, const grow *rows, int n, int *same, int *correct,
		double *max_dl)
{
	double		sum_dl = 0,
				sum_ds = 0,
				max_ds = 0;
	sst2_error	err;

	*same = *correct = 0;
	*max_dl = 0;
	for (int i0 = 0; i0 < n; i0 += 32)
	{
		int			nb = n - i0 < 32 ? n - i0 : 32,
					tot = 0,
					lens[32];
		int32_t    *ids;
		float		lg[64];

		for (int i = 0; i < nb; i++)
			tot += (lens[i] = rows[i0 + i].len);
		ids = malloc(sizeof(int32_t) * (size_t) tot);
		tot = 0;
		for (int i = 0; i < nb; i++)
		{
			memcpy(ids + tot, rows[i0 + i].ids, sizeof(int32_t) * (size_t) lens[i]);
			tot += lens[i];
		}
		if (sst2_model_forward(m, ids, lens, nb, lg, &err) != SST2_OK)
		{
			CHECK(0, "%s: forward failed: %s", what, err.msg);
			free(ids);
			return;
		}
		free(ids);
		for (int i = 0; i < nb; i++)
		{
			const grow *r = &rows[i0 + i];
			int			lab = lg[2 * i + 1] > lg[2 * i];
			double		ds = fabs(score2(lg + 2 * i) - score2(r->logits));

			*same += lab == r->label;
			*correct += lab == r->gold;
			for (int j = 0; j < 2; j++)
			{
				double		d = fabs(lg[2 * i + j] - r->logits[j]);

				sum_dl += d;
				*max_dl = fmax(*max_dl, d);
			}
			sum_ds += ds;
			max_ds = fmax(max_ds, ds);
		}
	}
	printf("%s: %d/%d labels equal to fp32 HF's, %d correct; |dlogit| max %.4f mean %.5f; "
		   "|dscore| max %.5f mean %.6f\n", what, *same, n, *correct, *max_dl,
		   sum_dl / (2.0 * n), max_ds, sum_ds / n);
}

static sst2_model *
open_or_fail(const char *dir, const char *cache, sst2_precision p)
{
	sst2_model *m = NULL;
	sst2_error	err;

	if (sst2_model_open_ex(&m, dir, cache, p, &err) != SST2_OK)
	{
		CHECK(0, "open %s at %s: %s", dir, sst2_precision_name(p), err.msg);
		return NULL;
	}
	return m;
}

static void
test_quality(const char *data, const char *mini, const char *det)
{
	char	   *p1 = pathf("%s/golden/sst2-mini-dev.jsonl", data),
			   *p2 = pathf("%s/golden/distilbert-det.json", data);
	int			n1,
				n2;
	grow	   *dev = load_rows(p1, true, &n1),
			   *dr = load_rows(p2, false, &n2);

	CHECK(n1 == 872 && n2 == 55, "golden rows: %d dev, %d det", n1, n2);
	for (int p = SST2_PREC_BF16; p <= SST2_PREC_INT8; p++)
	{
		sst2_model *m = open_or_fail(mini, NULL, (sst2_precision) p);
		int			same,
					correct;
		double		mx;
		char		what[128];

		if (m)
		{
			snprintf(what, sizeof(what), "sst2-mini %s (%s)", sst2_precision_name(p),
					 sst2_model_kernel(m));
			quality(what, m, dev, n1, &same, &correct, &mx);
			CHECK(same >= 868, "%s: %d labels equal, want >= 868", what, same);
			CHECK(fabs(correct - 686) / 872.0 <= 0.005, "%s: %d correct, want within 0.5 points of 686/872",
				  what, correct);
			sst2_model_free(m);
		}
		if (det && strcmp(det, "none") != 0)
		{
			m = open_or_fail(det, NULL, (sst2_precision) p);
			if (m)
			{
				snprintf(what, sizeof(what), "distilbert-det %s (%s)", sst2_precision_name(p),
						 sst2_model_kernel(m));
				quality(what, m, dr, n2, &same, &correct, &mx);
				CHECK(same == n2, "%s: %d/%d labels equal", what, same, n2);
				CHECK(mx <= 0.15, "%s: max |dlogit| %.4f > 0.15", what, mx);
				sst2_model_free(m);
			}
		}
	}
	for (int i = 0; i < n1; i++)
		free(dev[i].ids);
	for (int i = 0; i < n2; i++)
		free(dr[i].ids);
	free(dev);
	free(dr);
	free(p1);
	free(p2);
}

/* ---------------------------------------------------------------- cache */

/* The logits of a few fixed sequences through m. */
static void
probe(sst2_model *m, float *out)
{
	const int32_t ids[] = {101, 2009, 1005, 1055, 1037, 11951, 1998, 2411, 12473, 4990, 1012, 102,
	101, 4895, 10258, 2378, 8450, 102};
	const int	lens[] = {12, 6};
	sst2_error	err;

	if (sst2_model_forward(m, ids, lens, 2, out, &err) != SST2_OK)
		CHECK(0, "forward: %s", err.msg);
}

/* The path of m's precision file, from its info. */
static char *
precision_file(sst2_model *m)
{
	char	   *info = sst2_model_info_json(m, false);
	json_object *o = json_tokener_parse(info),
			   *v;
	char	   *p = NULL;

	if (o && json_object_object_get_ex(o, "precision_file", &v))
		p = strdup(json_object_get_string(v));
	json_object_put(o);
	free(info);
	return p;
}

static ino_t
inode(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? st.st_ino : 0;
}

static void
test_cache(const char *mini, const char *det)
{
	char		tmpl[] = "/tmp/sst2-qcache-XXXXXX";
	char	   *dir = mkdtemp(tmpl);
	float		want[2][4],
				got[4];
	char	   *f8,
			   *fb;
	sst2_model *m;
	ino_t		ino;

	for (int p = 0; p < 2; p++)
	{
		m = open_or_fail(mini, NULL, p ? SST2_PREC_INT8 : SST2_PREC_BF16);
		if (!m)
			return;
		probe(m, want[p]);
		sst2_model_free(m);
	}

	/* made once, then reused as is */
	m = open_or_fail(mini, dir, SST2_PREC_INT8);
	if (!m)
		return;
	f8 = precision_file(m);
	probe(m, got);
	CHECK(memcmp(got, want[1], sizeof(got)) == 0, "int8 from the cache file = private memory");
	sst2_model_free(m);
	CHECK(f8 && strstr(f8, ".i8") != NULL, "int8 cache file named .i8: %s", f8 ? f8 : "(none)");
	ino = inode(f8);
	m = open_or_fail(mini, dir, SST2_PREC_INT8);
	sst2_model_free(m);
	CHECK(inode(f8) == ino, "the i8 file is reused");

	m = open_or_fail(mini, dir, SST2_PREC_BF16);
	fb = precision_file(m);
	probe(m, got);
	CHECK(memcmp(got, want[0], sizeof(got)) == 0, "bf16 from the cache file = private memory");
	sst2_model_free(m);
	CHECK(fb && strstr(fb, ".bf16") != NULL, "bf16 cache file named .bf16");

	/* truncated: rebuilt */
	if (truncate(f8, 4096) != 0)
		CHECK(0, "truncate");
	m = open_or_fail(mini, dir, SST2_PREC_INT8);
	probe(m, got);
	sst2_model_free(m);
	CHECK(memcmp(got, want[1], sizeof(got)) == 0, "truncated i8 file rebuilt, same results");

	/* another precision's file in its place: rebuilt */
	copy_file(fb, f8);
	chmod(f8, 0600);
	ino = inode(f8);
	m = open_or_fail(mini, dir, SST2_PREC_INT8);
	probe(m, got);
	sst2_model_free(m);
	CHECK(inode(f8) != ino, "a bf16 file under the i8 name is replaced");
	CHECK(memcmp(got, want[1], sizeof(got)) == 0, "bf16 file under the i8 name: same int8 results");

	/* another checkpoint's file in its place: rebuilt */
	if (det && strcmp(det, "none") != 0)
	{
		char	   *fd;

		m = open_or_fail(det, dir, SST2_PREC_INT8);
		fd = precision_file(m);
		sst2_model_free(m);
		copy_file(fd, f8);
		chmod(f8, 0600);
		ino = inode(f8);
		m = open_or_fail(mini, dir, SST2_PREC_INT8);
		probe(m, got);
		sst2_model_free(m);
		CHECK(inode(f8) != ino, "another checkpoint's i8 file is replaced");
		CHECK(memcmp(got, want[1], sizeof(got)) == 0, "another checkpoint's file: same results");
		free(fd);
	}
	free(f8);
	free(fb);
	remove_tree(dir);
}

int
main(void)
{
	const char *data = getenv("SST2_DATA") ? getenv("SST2_DATA") : "test/data";
	const char *mini = getenv("SST2_MINI_MODEL") ? getenv("SST2_MINI_MODEL") : "models/sst2-mini";
	const char *det = getenv("SST2_DET_MODEL");
	sst2_precision p;

	have_vnni = sst2_qg_path(SST2_PREC_INT8) == QG_AVX512;
	have_bf16 = sst2_qg_path(SST2_PREC_BF16) == QG_AVX512;
	printf("kernel paths: int8 %s, bf16 %s\n", sst2_qg_path_name(SST2_PREC_INT8),
		   sst2_qg_path_name(SST2_PREC_BF16));
	CHECK(sst2_precision_parse("int8", &p) && p == SST2_PREC_INT8, "parse int8");
	CHECK(!sst2_precision_parse("int4", &p), "int4 is not a precision");
	test_kernels();
	test_quality(data, mini, det);
	test_cache(mini, det);
	printf("unit_qgemm: %d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}

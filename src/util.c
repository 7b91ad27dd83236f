/*
 * util.c
 *	  Error reporting, the interrupt hook, label scoring and small file
 *	  helpers for the sst2 core.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sst2_core.h"
#include "safetensors.h"

void		(*sst2_interrupt_hook) (void) = NULL;

sst2_status
sst2_set_error(sst2_error *err, sst2_status code, const char *fmt,...)
{
	if (err)
	{
		va_list		ap;

		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

const char *
sst2_dtype_name(sst2_dtype t)
{
	switch (t)
	{
		case SST2_F32:
			return "F32";
		case SST2_F16:
			return "F16";
		case SST2_BF16:
			return "BF16";
	}
	return "?";
}

/*
 * argmax (the first maximum wins) and its softmax probability, computed in
 * double with the maximum subtracted so large logits cannot overflow.
 */
int
sst2_top_label(const float *logits, int n_labels, float *score)
{
	int			best = 0;
	double		sum = 0.0;

	if (n_labels <= 0)
	{
		if (score)
			*score = 0.0f;
		return -1;
	}
	for (int i = 1; i < n_labels; i++)
		if (logits[i] > logits[best])
			best = i;
	for (int i = 0; i < n_labels; i++)
		sum += exp((double) logits[i] - (double) logits[best]);
	if (score)
		*score = (float) (1.0 / sum);
	return best;
}

char *
sst2_strdup(const char *s)
{
	size_t		n = strlen(s) + 1;
	char	   *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

char *
sst2_path_join(const char *a, const char *b)
{
	size_t		la = strlen(a),
				lb = strlen(b);
	char	   *p = malloc(la + lb + 2);

	if (!p)
		return NULL;
	memcpy(p, a, la);
	if (la > 0 && a[la - 1] != '/')
		p[la++] = '/';
	memcpy(p + la, b, lb + 1);
	return p;
}

sst2_status
sst2_read_file(const char *path, size_t max_size, char **out, size_t *len,
			   sst2_error *err)
{
	int			fd;
	struct stat st;
	char	   *buf;
	size_t		got = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sst2_set_error(err, SST2_ERR_IO, "could not open \"%s\": %s",
							  path, strerror(errno));
	if (fstat(fd, &st) != 0)
	{
		int			e = errno;

		close(fd);
		return sst2_set_error(err, SST2_ERR_IO, "could not stat \"%s\": %s",
							  path, strerror(e));
	}
	if (!S_ISREG(st.st_mode))
	{
		close(fd);
		return sst2_set_error(err, SST2_ERR_IO, "\"%s\" is not a regular file", path);
	}
	if ((uint64_t) st.st_size > max_size)
	{
		close(fd);
		return sst2_set_error(err, SST2_ERR_LIMIT,
							  "file \"%s\" is too large (%lld bytes, at most %zu)",
							  path, (long long) st.st_size, max_size);
	}
	buf = malloc((size_t) st.st_size + 1);
	if (!buf)
	{
		close(fd);
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory reading \"%s\"", path);
	}
	while (got < (size_t) st.st_size)
	{
		ssize_t		r = read(fd, buf + got, (size_t) st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
		{
			int			e = errno;

			free(buf);
			close(fd);
			return sst2_set_error(err, SST2_ERR_IO, "could not read \"%s\": %s",
								  path, r < 0 ? strerror(e) : "unexpected end of file");
		}
		got += (size_t) r;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	if (len)
		*len = got;
	return SST2_OK;
}

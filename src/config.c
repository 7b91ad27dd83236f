/*
 * config.c
 *	  Parse and validate a DistilBERT config.json (old hub style and
 *	  transformers 5 style; both use the same key names for what we read).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sst2_core.h"
#include "safetensors.h"

/* Sanity limits: far above any DistilBERT, far below what breaks size_t math. */
#define CFG_MAX_FILE	(16 * 1024 * 1024)
#define CFG_MAX_DIM		65536
#define CFG_MAX_HIDDEN	(1 << 20)
#define CFG_MAX_LAYERS	1000
#define CFG_MAX_VOCAB	10000000
#define CFG_MAX_POS		1000000
#define CFG_MAX_LABEL_LEN 256
#define CFG_MAX_TENSOR	(INT64_C(1) << 34)	/* elements in any one tensor */

void
sst2_config_free(sst2_config *cfg)
{
	if (!cfg)
		return;
	if (cfg->labels)
	{
		for (int i = 0; i < cfg->n_labels; i++)
			free(cfg->labels[i]);
		free(cfg->labels);
	}
	cfg->labels = NULL;
	cfg->n_labels = 0;
}

/* An integer key in [1, max]; missing, non-integer or out of range: error. */
static sst2_status
get_size(json_object *root, const char *key, int64_t max, int *out,
		 const char *path, sst2_error *err)
{
	json_object *v;
	int64_t		x;

	if (!json_object_object_get_ex(root, key, &v) || v == NULL)
		return sst2_set_error(err, SST2_ERR_CONFIG,
							  "key \"%s\" is missing in \"%s\"", key, path);
	if (!json_object_is_type(v, json_type_int))
		return sst2_set_error(err, SST2_ERR_CONFIG,
							  "key \"%s\" in \"%s\" must be an integer, found %s",
							  key, path, json_object_to_json_string(v));
	errno = 0;
	x = json_object_get_int64(v);
	if (errno != 0 || x < 1 || x > max)
		return sst2_set_error(err, SST2_ERR_CONFIG,
							  "key \"%s\" in \"%s\" is %s, must be between 1 and %lld",
							  key, path, json_object_to_json_string(v), (long long) max);
	*out = (int) x;
	return SST2_OK;
}

/* Parse an id2label key: a decimal number without sign or leading zeros. */
static bool
parse_label_id(const char *s, int n, int *id)
{
	long		v = 0;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (const char *p = s; *p; p++)
	{
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
		if (v >= n)
			return false;
	}
	*id = (int) v;
	return true;
}

static sst2_status
load_labels(sst2_config *cfg, json_object *root, const char *path, sst2_error *err)
{
	json_object *map;
	int			n;

	if (!json_object_object_get_ex(root, "id2label", &map) || map == NULL)
		return sst2_set_error(err, SST2_ERR_CONFIG,
							  "key \"id2label\" is missing in \"%s\"", path);
	if (!json_object_is_type(map, json_type_object))
		return sst2_set_error(err, SST2_ERR_CONFIG,
							  "key \"id2label\" in \"%s\" must be an object", path);
	n = json_object_object_length(map);
	if (n < 1 || n > SST2_MAX_LABELS)
		return sst2_set_error(err, SST2_ERR_CONFIG,
							  "\"id2label\" in \"%s\" has %d entries, must have between 1 and %d",
							  path, n, SST2_MAX_LABELS);
	cfg->labels = calloc((size_t) n, sizeof(char *));
	if (!cfg->labels)
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	cfg->n_labels = n;

	{
		/* a block of its own: the macro declares variables */
		json_object_object_foreach(map, key, val)
		{
			int			id;
			const char *name;

			if (!parse_label_id(key, n, &id))
				return sst2_set_error(err, SST2_ERR_CONFIG,
									  "\"id2label\" in \"%s\" has key \"%s\", expected the ids \"0\" to \"%d\" without gaps",
									  path, key, n - 1);
			if (cfg->labels[id] != NULL)
				return sst2_set_error(err, SST2_ERR_CONFIG,
									  "\"id2label\" in \"%s\" has id \"%s\" twice", path, key);
			if (!json_object_is_type(val, json_type_string))
				return sst2_set_error(err, SST2_ERR_CONFIG,
									  "\"id2label\" entry \"%s\" in \"%s\" must be a string",
									  key, path);
			name = json_object_get_string(val);
			if (strlen(name) > CFG_MAX_LABEL_LEN || strlen(name) != (size_t) json_object_get_string_len(val))
				return sst2_set_error(err, SST2_ERR_CONFIG,
									  "\"id2label\" entry \"%s\" in \"%s\" is longer than %d bytes or contains NUL",
									  key, path, CFG_MAX_LABEL_LEN);
			cfg->labels[id] = sst2_strdup(name);
			if (!cfg->labels[id])
				return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
		}
	}
	/* n distinct ids, each < n: complete by construction; check anyway */
	for (int i = 0; i < n; i++)
		if (cfg->labels[i] == NULL)
			return sst2_set_error(err, SST2_ERR_CONFIG,
								  "\"id2label\" in \"%s\" has no entry \"%d\"", path, i);
	return SST2_OK;
}

static sst2_status
parse_config(sst2_config *cfg, json_object *root, const char *path, sst2_error *err)
{
	sst2_status st;
	json_object *v;

	if (json_object_object_get_ex(root, "model_type", &v) && v != NULL &&
		(!json_object_is_type(v, json_type_string) ||
		 strcmp(json_object_get_string(v), "distilbert") != 0))
		return sst2_set_error(err, SST2_ERR_CONFIG,
							  "\"model_type\" in \"%s\" is %s, expected \"distilbert\"",
							  path, json_object_to_json_string(v));

	if ((st = get_size(root, "dim", CFG_MAX_DIM, &cfg->dim, path, err)) ||
		(st = get_size(root, "n_layers", CFG_MAX_LAYERS, &cfg->n_layers, path, err)) ||
		(st = get_size(root, "n_heads", CFG_MAX_DIM, &cfg->n_heads, path, err)) ||
		(st = get_size(root, "hidden_dim", CFG_MAX_HIDDEN, &cfg->hidden_dim, path, err)) ||
		(st = get_size(root, "vocab_size", CFG_MAX_VOCAB, &cfg->vocab_size, path, err)) ||
		(st = get_size(root, "max_position_embeddings", CFG_MAX_POS, &cfg->max_pos, path, err)))
		return st;

	if (cfg->dim % cfg->n_heads != 0)
		return sst2_set_error(err, SST2_ERR_CONFIG,
							  "\"n_heads\" (%d) does not divide \"dim\" (%d) in \"%s\"",
							  cfg->n_heads, cfg->dim, path);
	if ((int64_t) cfg->vocab_size * cfg->dim > CFG_MAX_TENSOR ||
		(int64_t) cfg->max_pos * cfg->dim > CFG_MAX_TENSOR ||
		(int64_t) cfg->hidden_dim * cfg->dim > CFG_MAX_TENSOR)
		return sst2_set_error(err, SST2_ERR_CONFIG,
							  "model in \"%s\" is too large: a weight matrix would have more than %lld elements",
							  path, (long long) CFG_MAX_TENSOR);

	/* optional keys, with the defaults of transformers' DistilBertConfig */
	strcpy(cfg->activation, "gelu");
	if (json_object_object_get_ex(root, "activation", &v) && v != NULL)
	{
		const char *a;

		if (!json_object_is_type(v, json_type_string))
			return sst2_set_error(err, SST2_ERR_CONFIG,
								  "key \"activation\" in \"%s\" must be a string", path);
		a = json_object_get_string(v);
		if (strcmp(a, "gelu") != 0 && strcmp(a, "relu") != 0)
			return sst2_set_error(err, SST2_ERR_CONFIG,
								  "activation \"%s\" in \"%s\" is not supported (only \"gelu\" and \"relu\")",
								  a, path);
		strcpy(cfg->activation, a);
	}
	cfg->sinusoidal = false;
	if (json_object_object_get_ex(root, "sinusoidal_pos_embds", &v) && v != NULL)
	{
		if (!json_object_is_type(v, json_type_boolean))
			return sst2_set_error(err, SST2_ERR_CONFIG,
								  "key \"sinusoidal_pos_embds\" in \"%s\" must be true or false", path);
		cfg->sinusoidal = json_object_get_boolean(v);
		if (cfg->sinusoidal)
			return sst2_set_error(err, SST2_ERR_CONFIG,
								  "\"sinusoidal_pos_embds\": true in \"%s\" is not supported", path);
	}
	return load_labels(cfg, root, path, err);
}

sst2_status
sst2_config_load(sst2_config *cfg, const char *path, sst2_error *err)
{
	char	   *text;
	size_t		len;
	sst2_status st;
	json_tokener *tok;
	json_object *root;
	enum json_tokener_error jerr;

	memset(cfg, 0, sizeof(*cfg));

	/*
	 * The first step of sst2_model_open: fail here, before any kernel runs,
	 * when SST2_ISA is invalid for this CPU.  (Belongs in sst2_model_open;
	 * it is here until model.c is split.)
	 */
	st = sst2_isa_check(err);
	if (st != SST2_OK)
		return st;
	st = sst2_read_file(path, CFG_MAX_FILE, &text, &len, err);
	if (st != SST2_OK)
		return st;
	if (len == 0)
	{
		free(text);
		return sst2_set_error(err, SST2_ERR_FORMAT, "\"%s\" is empty", path);
	}

	tok = json_tokener_new();
	if (!tok)
	{
		free(text);
		return sst2_set_error(err, SST2_ERR_NOMEM, "out of memory");
	}
	root = json_tokener_parse_ex(tok, text, (int) len);
	jerr = json_tokener_get_error(tok);
	if (root == NULL || jerr != json_tokener_success ||
		json_tokener_get_parse_end(tok) != len)
	{
		/* trailing whitespace after the object is fine */
		size_t		end = json_tokener_get_parse_end(tok);
		bool		trailing_ok = root != NULL && jerr == json_tokener_success;

		for (size_t i = end; trailing_ok && i < len; i++)
			if (!strchr(" \t\r\n", text[i]))
				trailing_ok = false;
		if (!trailing_ok)
		{
			st = sst2_set_error(err, SST2_ERR_FORMAT,
								"could not parse \"%s\" as JSON: %s", path,
								jerr == json_tokener_continue || (root == NULL && jerr == json_tokener_success) ?
								"unexpected end of data" :
								jerr != json_tokener_success ? json_tokener_error_desc(jerr) :
								"trailing data");
			json_object_put(root);
			json_tokener_free(tok);
			free(text);
			return st;
		}
	}
	json_tokener_free(tok);
	free(text);

	if (!json_object_is_type(root, json_type_object))
		st = sst2_set_error(err, SST2_ERR_FORMAT,
							"\"%s\" does not contain a JSON object", path);
	else
		st = parse_config(cfg, root, path, err);
	json_object_put(root);
	if (st != SST2_OK)
		sst2_config_free(cfg);
	return st;
}

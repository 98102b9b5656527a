/*
 * config.c: the one configuration of every program.
 *
 * Order of precedence, lowest first: built-in defaults, the KEY=VALUE file
 * ($I2M_CONFIG, else ./image2model.conf when present), then environment
 * variables of the same names.  Unknown keys in the file are refused so a
 * typo does not silently fall back to a default.  Every knob of every
 * program is a key of this table; values derived from keys (the request
 * size limit) are computed here too, so scripts ask `i2m config KEY`
 * instead of repeating a formula.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spool.h"

enum ktype { K_STR, K_INT, K_LL, K_DBL };

struct key {
	const char *name;
	enum ktype type;
	size_t off;
	size_t size; /* K_STR: buffer size */
	long long min, max; /* K_INT / K_LL */
	int secret; /* never printed by config_value */
};

/* S a string, X a secret string, I an int, L a long long in [lo, hi]. */
#define S(n, f)                                              \
	{                                                    \
		n, K_STR, offsetof(struct config, f),        \
		    sizeof(((struct config *)0)->f), 0, 0, 0 \
	}
#define X(n, f)                                              \
	{                                                    \
		n, K_STR, offsetof(struct config, f),        \
		    sizeof(((struct config *)0)->f), 0, 0, 1 \
	}
#define I(n, f, lo, hi)                                            \
	{                                                          \
		n, K_INT, offsetof(struct config, f), 0, lo, hi, 0 \
	}
#define L(n, f, lo, hi)                                           \
	{                                                         \
		n, K_LL, offsetof(struct config, f), 0, lo, hi, 0 \
	}
#define D(n, f, lo, hi)                                            \
	{                                                          \
		n, K_DBL, offsetof(struct config, f), 0, lo, hi, 0 \
	}

static const struct key keys[] = {
    S("SPOOL_DIR", spool_dir),
    I("PORT", port, 1, 65535),
    I("WORKERS", workers, 1, 256),
    I("LOCAL_MEMORY_MB", local_memory_mb, 16, 1 << 20),
    I("LOCAL_CPU_S", local_cpu_s, 1, 24 * 3600),
    X("FAL_KEY", fal_key),
    S("FAL_QUEUE_URL", fal_queue_url),
    S("FAL_REST_URL", fal_rest_url),
    I("MAX_FILES", max_files, 1, SPOOL_MAX_FILES),
    L("MAX_FILE_BYTES", max_file_bytes, 1, 1LL << 30),
    I("RETENTION_HOURS", retention_hours, 0, 24 * 365),
    L("DISK_FLOOR_MB", disk_floor_mb, 0, 1LL << 40),
    S("DEFAULT_MODEL", default_model),
    I("FAL_MAX_INFLIGHT", fal_max_inflight, 1, 1000),
    I("FAL_DEADLINE_S", fal_deadline_s, 1, 7 * 24 * 3600),
    I("FAL_POLL_MS", fal_poll_ms, 10, 60000),
    I("FAL_TIMEOUT_MS", fal_timeout_ms, 100, 3600000),
    I("FAL_CANCEL_GRACE_S", fal_cancel_grace_s, 0, 7 * 24 * 3600),
    I("FAL_PROBE_S", fal_probe_s, 1, 3600),
    I("FAL_UPLOAD_TTL_S", fal_upload_ttl_s, 60, 365 * 24 * 3600),
    I("FAL_OUTPUT_TTL_S", fal_output_ttl_s, 60, 365 * 24 * 3600),
    S("CORS_ORIGINS", cors_origins),
    X("API_KEYS", api_keys),
    X("ADMIN_API_KEY", admin_api_key),
    I("SSE_MAX_STREAMS", sse_max_streams, 1, 100000),
    I("SSE_HEARTBEAT_MS", sse_heartbeat_ms, 50, 3600000),
    S("LOG_LEVEL", log_level),
    D("FAL_BUDGET_USD_PER_DAY", fal_budget_usd_per_day, 0, 1000000),
    I("RATE_LIMIT_PER_MIN", rate_limit_per_min, 0, 1000000),
    I("UPLOADS_PER_IP", uploads_per_ip, 0, 100000),
    S("PUBLIC_URL", public_url),
    S("WEBHOOK_URL", webhook_url),
    X("WEBHOOK_SECRET", webhook_secret),
    I("WEBHOOK_ALLOW_PRIVATE", webhook_allow_private, 0, 1),
    I("WEBHOOK_MAX_ATTEMPTS", webhook_max_attempts, 1, 100),
    I("WEBHOOK_BACKOFF_MS", webhook_backoff_ms, 10, 3600000),
    I("WEBHOOK_TIMEOUT_MS", webhook_timeout_ms, 100, 600000),
};

#undef S
#undef X
#undef I
#undef L
#undef D

static void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->spool_dir, sizeof(c->spool_dir), "./var/spool");
	c->port = 8080;
	c->workers = 8;
	c->local_memory_mb = 1024;
	c->local_cpu_s = 120;
	snprintf(c->fal_queue_url, sizeof(c->fal_queue_url),
	    "https://queue.fal.run");
	snprintf(
	    c->fal_rest_url, sizeof(c->fal_rest_url), "https://rest.fal.ai");
	c->max_files = 25;
	c->max_file_bytes = 10LL * 1024 * 1024;
	c->retention_hours = 72;
	c->disk_floor_mb = 256;
	c->fal_max_inflight = 8;
	c->fal_deadline_s = 30 * 60;
	c->fal_poll_ms = 1000;
	c->fal_timeout_ms = 60000;
	c->fal_cancel_grace_s = 600;
	c->fal_probe_s = 60;
	c->fal_upload_ttl_s = 86400;
	c->fal_output_ttl_s = 7 * 86400;
	c->sse_max_streams = 2000;
	c->sse_heartbeat_ms = 15000;
	snprintf(c->log_level, sizeof(c->log_level), "info");
	c->webhook_max_attempts = 8;
	c->webhook_backoff_ms = 5000;
	c->webhook_timeout_ms = 10000;
}

static const struct key *
config_key(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* An amount such as 2.50 (the budget). */
static int
config_set_dbl(struct config *c, const struct key *k, const char *val,
    const char *from, char *err, size_t errlen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(val, &end);
	if (errno != 0 || end == val || *end != '\0' || !isfinite(v) ||
	    v < (double)k->min || v > (double)k->max) {
		snprintf(err, errlen,
		    "%s in %s must be a number from %lld to %lld, not \"%s\".",
		    k->name, from, k->min, k->max, val);
		return -1;
	}
	*(double *)(void *)((char *)c + k->off) = v;
	return 0;
}

/* Store one value; from names where it came from for the message. */
static int
config_set(struct config *c, const struct key *k, const char *val,
    const char *from, char *err, size_t errlen)
{
	char *end;
	long long v;
	char *p = (char *)c + k->off;

	if (k->type == K_STR) {
		if (strlen(val) >= k->size) {
			snprintf(err, errlen,
			    "%s in %s is too long (at most %zu characters).",
			    k->name, from, k->size - 1);
			return -1;
		}
		memcpy(p, val, strlen(val) + 1);
		return 0;
	}
	if (k->type == K_DBL)
		return config_set_dbl(c, k, val, from, err, errlen);
	errno = 0;
	v = strtoll(val, &end, 10);
	if (errno != 0 || end == val || *end != '\0' || v < k->min ||
	    v > k->max) {
		snprintf(err, errlen,
		    "%s in %s must be a whole number from %lld to %lld, not \"%s\".",
		    k->name, from, k->min, k->max, val);
		return -1;
	}
	if (k->type == K_INT)
		*(int *)(void *)p = (int)v;
	else
		*(long long *)(void *)p = v;
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
config_file(
    struct config *c, const char *path, int must, char *err, size_t errlen)
{
	FILE *f;
	char line[2048], from[4200];
	int lineno = 0, rc = -1;

	f = fopen(path, "r");
	if (f == NULL) {
		if (!must && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "Cannot read the config file %s: %s.",
		    path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s, *eq, *val;
		size_t vl;
		const struct key *k;

		lineno++;
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "Line %d of %s is not KEY=VALUE.",
			    lineno, path);
			goto out;
		}
		*eq = '\0';
		val = trim(eq + 1);
		vl = strlen(val);
		/* Allow shell-style quotes so the file can be sourced too. */
		if (vl >= 2 && (val[0] == '"' || val[0] == '\'') &&
		    val[vl - 1] == val[0]) {
			val[vl - 1] = '\0';
			val++;
		}
		k = config_key(trim(s));
		if (k == NULL) {
			snprintf(err, errlen,
			    "Unknown key %s on line %d of %s.", trim(s), lineno,
			    path);
			goto out;
		}
		snprintf(from, sizeof(from), "%s", path);
		if (config_set(c, k, val, from, err, errlen) == -1)
			goto out;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

const char *
config_list_next(const char **p, size_t *len)
{
	const char *w = *p;

	w += strspn(w, " ,");
	*len = strcspn(w, " ,");
	*p = w + *len;
	return *len > 0 ? w : NULL;
}

/* PUBLIC_URL: empty, or http(s)://host[:port][/prefix] that every
 * returned URL can start with (no query, fragment, quote or space). */
static int
public_url_ok(const char *v)
{
	const char *rest;

	if (*v == '\0')
		return 1;
	if (strncmp(v, "https://", 8) == 0)
		rest = v + 8;
	else if (strncmp(v, "http://", 7) == 0)
		rest = v + 7;
	else
		return 0;
	return *rest != '\0' && *rest != '/' &&
	    strpbrk(v, " \t\r\n\"'<>\\?#") == NULL;
}

int
config_load(struct config *c, char *err, size_t errlen)
{
	const char *path;
	size_t i;

	config_defaults(c);
	path = getenv("I2M_CONFIG");
	if (path != NULL && *path != '\0') {
		if (config_file(c, path, 1, err, errlen) == -1)
			return -1;
	} else if (config_file(c, "image2model.conf", 0, err, errlen) == -1)
		return -1;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = getenv(keys[i].name);

		if (v == NULL)
			continue;
		if (config_set(
		        c, &keys[i], v, "the environment", err, errlen) == -1)
			return -1;
	}
	if (c->spool_dir[0] == '\0') {
		snprintf(err, errlen, "SPOOL_DIR must not be empty.");
		return -1;
	}
	if (log_set_level(c->log_level) == -1) {
		snprintf(err, errlen,
		    "LOG_LEVEL must be debug, info or warn, not \"%s\".",
		    c->log_level);
		return -1;
	}
	if (!public_url_ok(c->public_url)) {
		snprintf(err, errlen,
		    "PUBLIC_URL must be http:// or https:// with a host (such as https://models.example.com), not \"%s\".",
		    c->public_url);
		return -1;
	}
	if (c->webhook_url[0] != '\0' &&
	    spool_webhook_url_check(c->webhook_url, err, errlen) == -1) {
		/* The rule's sentence names the upload field. */
		snprintf(err, errlen,
		    "WEBHOOK_URL must be an http:// or https:// URL with a host, without spaces, at most %d bytes.",
		    SPOOL_WEBHOOK_URL_MAX);
		return -1;
	}
	if (c->default_model[0] != '\0') {
		const struct model_info *m = models_find(c->default_model);

		if (m == NULL || !models_usable(m, c)) {
			snprintf(err, errlen,
			    "DEFAULT_MODEL \"%s\" is not a model this server can run%s.",
			    c->default_model,
			    m != NULL ? " without FAL_KEY" : "");
			return -1;
		}
	}
	return 0;
}

long long
config_request_bytes(const struct config *c)
{
	/* Per file: the bytes and up to 64 KiB of part headers and
	 * boundary; per form: 1 MiB for the other fields. */
	return (long long)c->max_files * (c->max_file_bytes + 65536) +
	    1024 * 1024;
}

/* Derived keys: read like keys by scripts, never set. */
static int
config_derived(const struct config *c, const char *name, char *buf, size_t len)
{
	long long v;

	if (strcmp(name, "MAX_REQUEST_BYTES") == 0)
		v = config_request_bytes(c);
	else if (strcmp(name, "MAX_REQUEST_KB") == 0)
		v = config_request_bytes(c) / 1024 + 1; /* rounded up */
	else {
		errno = ENOENT;
		return -1;
	}
	snprintf(buf, len, "%lld", v);
	return 0;
}

int
config_value(const struct config *c, const char *name, char *buf, size_t len)
{
	const struct key *k = config_key(name);
	const char *p;

	if (k == NULL)
		return config_derived(c, name, buf, len);
	if (k->secret) {
		errno = EPERM;
		return -1;
	}
	p = (const char *)c + k->off;
	if (k->type == K_STR)
		snprintf(buf, len, "%s", p);
	else if (k->type == K_INT)
		snprintf(buf, len, "%d", *(const int *)(const void *)p);
	else if (k->type == K_DBL)
		snprintf(buf, len, "%g", *(const double *)(const void *)p);
	else
		snprintf(buf, len, "%lld", *(const long long *)(const void *)p);
	return 0;
}

const char *
config_key_name(size_t i)
{
	static const char *derived[] = {"MAX_REQUEST_BYTES", "MAX_REQUEST_KB"};
	size_t n = sizeof(keys) / sizeof(keys[0]);

	if (i < n)
		return keys[i].name;
	i -= n;
	return i < sizeof(derived) / sizeof(derived[0]) ? derived[i] : NULL;
}

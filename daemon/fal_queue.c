/*
 * fal_queue.c: one function per FAL endpoint (fal_queue.h), and the pure
 * readers of FAL's answers.
 *
 * Invariants:
 *  - the key goes with a call only when its URL is FAL's API (initiate,
 *    submit, status, result, cancel), never to a presigned upload URL or
 *    the CDN (fal_http.c also follows redirects only on calls without it);
 *  - what is stored at FAL carries a lifetime: uploads the object
 *    lifecycle header (FAL_UPLOAD_TTL_S), submits the lifecycle
 *    preference for the model's files (FAL_OUTPUT_TTL_S) — protocol §8.8;
 *  - a model's input holds only fields its row in spool/models.c knows,
 *    since FAL ignores unknown fields and bills the run anyway (§8.7).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fal_queue.h"
#include "sniff.h"

/*
 * The one request set-up of every API call: the key, JSON in and out.
 * attempts 0 = retry transient errors until deadline.
 */
static enum fal_result
api(struct fal_worker *w, const char *method, const char *url, json_t *in,
    const char *const *headers, int attempts, long long deadline,
    struct fal_resp *rs, json_t **ans)
{
	struct fal_req rq = {.method = method,
	    .url = url,
	    .auth = 1,
	    .headers = headers,
	    .attempts = attempts,
	    .idempotent = strcmp(method, "GET") == 0,
	    .fd = -1,
	    .deadline_ms = deadline};
	enum fal_result fr;
	char *body = NULL;

	if (ans != NULL)
		*ans = NULL;
	if (in != NULL) {
		body = json_dumps(in, JSON_COMPACT);
		if (body == NULL)
			return FR_TRANSIENT;
		rq.ctype = "application/json";
		rq.body = body;
		rq.len = strlen(body);
	}
	fr = fal_call(w, &rq, rs);
	free(body);
	/* The key's health, for the heartbeat (a 403 is the account's). */
	if (fr == FR_OK || fr == FR_AUTH)
		fal_gate_key(fr == FR_AUTH);
	if (ans != NULL && rs->body != NULL)
		*ans = json_loadb(rs->body, rs->len, 0, NULL);
	return fr;
}

/* "Name: {"expiration_duration_seconds":N}" into buf. */
static const char *
lifecycle(char *buf, size_t len, const char *name, int seconds)
{
	snprintf(buf, len, "%s: {\"expiration_duration_seconds\":%d}", name,
	    seconds);
	return buf;
}

enum fal_result
fal_q_upload(struct fal_worker *w, const void *img, size_t len,
    const char *ctype, int index, long long deadline, char *file_url,
    size_t urllen, struct fal_resp *rs)
{
	char url[1024], life[128], name[64];
	const char *hdr[2] = {NULL, NULL};
	const char *up, *fu;
	const char *sniffed = NULL;
	const char *ext = img != NULL ? i2g_sniff(img, len, &sniffed) : "png";
	enum fal_result fr;
	json_t *in, *ans = NULL;

	if (ctype == NULL)
		ctype = sniffed != NULL ? sniffed : "application/octet-stream";
	snprintf(name, sizeof(name), "photo-%d.%s", index,
	    ext != NULL ? ext : "bin");

	snprintf(url, sizeof(url),
	    "%s/storage/upload/initiate?storage_type=fal-cdn-v3",
	    w->cfg->fal_rest_url);
	hdr[0] = lifecycle(life, sizeof(life), "X-Fal-Object-Lifecycle",
	    w->cfg->fal_upload_ttl_s);
	in = json_pack("{s:s, s:s}", "content_type", ctype, "file_name", name);
	if (in == NULL)
		return FR_TRANSIENT;
	fr = api(w, "POST", url, in, hdr, FAL_TRIES, deadline, rs, &ans);
	json_decref(in);
	if (fr != FR_OK || img == NULL)
		goto out;
	up = json_string_value(json_object_get(ans, "upload_url"));
	fu = json_string_value(json_object_get(ans, "file_url"));
	if (up == NULL || fu == NULL || strlen(fu) >= urllen) {
		fr = FR_HTTP;
		rs->code = 0;
		goto out;
	}
	snprintf(file_url, urllen, "%s", fu);
	{
		/* The presigned URL: no key, the bytes as they are. */
		struct fal_req rq = {.method = "PUT",
		    .url = up,
		    .ctype = ctype,
		    .body = img,
		    .len = len,
		    .attempts = FAL_TRIES,
		    .fd = -1,
		    .deadline_ms = deadline,
		    .timeout_ms = w->timeout_ms * 10};

		fr = fal_call(w, &rq, rs);
	}
out:
	json_decref(ans);
	return fr;
}

enum fal_result
fal_q_submit(struct fal_worker *w, const char *fal_id, json_t *input,
    long long deadline, struct fal_resp *rs, json_t **ans)
{
	char url[1024], life[128];
	const char *hdr[2] = {NULL, NULL};

	snprintf(url, sizeof(url), "%s/%s", w->cfg->fal_queue_url, fal_id);
	hdr[0] = lifecycle(life, sizeof(life),
	    "X-Fal-Object-Lifecycle-Preference", w->cfg->fal_output_ttl_s);
	return api(w, "POST", url, input, hdr, FAL_TRIES, deadline, rs, ans);
}

enum fal_result
fal_q_status(struct fal_worker *w, const char *status_url, long long deadline,
    struct fal_resp *rs, json_t **ans)
{
	char url[1100];

	snprintf(url, sizeof(url), "%s?logs=1", status_url);
	/* A paid request: keep asking until the deadline. */
	return api(w, "GET", url, NULL, NULL, 0, deadline, rs, ans);
}

enum fal_result
fal_q_result(struct fal_worker *w, const char *response_url,
    struct fal_resp *rs, json_t **ans)
{
	enum fal_result fr = FR_TRANSIENT;
	int tries;

	*ans = NULL;
	for (tries = 0; tries < FAL_TRIES; tries++) {
		json_decref(*ans);
		fr = api(
		    w, "GET", response_url, NULL, NULL, FAL_TRIES, 0, rs, ans);
		if (fr != FR_OK || *ans != NULL)
			break;
		/* A cut answer: the next GET gives it whole. */
		usleep((useconds_t)w->backoff_ms * 1000);
	}
	return fr;
}

enum fal_result
fal_q_cancel(struct fal_worker *w, const char *cancel_url, struct fal_resp *rs,
    json_t **ans)
{
	return api(w, "PUT", cancel_url, NULL, NULL, 4, 0, rs, ans);
}

enum fal_result
fal_q_download(struct fal_worker *w, const char *url, int fd, long long cap,
    struct fal_resp *rs)
{
	struct fal_req rq = {.method = "GET",
	    .url = url,
	    .attempts = FAL_TRIES,
	    .idempotent = 1,
	    .fd = fd,
	    .cap = cap,
	    .timeout_ms = w->timeout_ms * 10};

	return fal_call(w, &rq, rs);
}

int
fal_models_check(const struct config *cfg, char *err, size_t errlen)
{
	const struct model_info *m;
	size_t i;

	(void)cfg;
	for (i = 0; (m = models_at(i)) != NULL; i++)
		if (m->fal_id != NULL &&
		    (m->image_field == NULL || m->outputs[0] == NULL)) {
			snprintf(err, errlen,
			    "The model \"%s\" runs at FAL but its row in the model table names no %s; add it.",
			    m->id,
			    m->image_field == NULL ? "image field"
			                           : "output field");
			return -1;
		}
	return 0;
}

/* A URL of the submit answer when it is on FAL_QUEUE_URL, else built. */
static int
pick_url(const struct config *cfg, const struct model_info *m, json_t *ans,
    const char *field, const char *rid, const char *suffix, char *out,
    size_t len)
{
	const char *u = json_string_value(json_object_get(ans, field));
	const char *base = cfg->fal_queue_url;
	char oa[256];

	if (u != NULL && strncmp(u, base, strlen(base)) == 0 &&
	    u[strlen(base)] == '/' && strlen(u) < len) {
		snprintf(out, len, "%s", u);
		return 0;
	}
	if (fal_owner_alias(m->fal_id, oa, sizeof(oa)) == -1)
		return -1;
	return snprintf(out, len, "%s/%s/requests/%s%s", base, oa, rid,
	           suffix) >= (int)len
	    ? -1
	    : 0;
}

json_t *
fal_q_record(const struct config *cfg, const struct model_info *m, json_t *ans,
    const char *file_url, long long deadline)
{
	const char *rid = json_string_value(json_object_get(ans, "request_id"));
	char su[1024], ru[1024], cu[1024];

	if (rid == NULL || rid[0] == '\0' || strlen(rid) > 128 ||
	    strchr(rid, '/') != NULL ||
	    pick_url(
	        cfg, m, ans, "status_url", rid, "/status", su, sizeof(su)) ||
	    pick_url(cfg, m, ans, "response_url", rid, "", ru, sizeof(ru)) ||
	    pick_url(cfg, m, ans, "cancel_url", rid, "/cancel", cu, sizeof(cu)))
		return NULL;
	/* clang-format off */
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s}",
	    "provider", "fal",
	    "model", m->fal_id,
	    "request_id", rid,
	    "status_url", su,
	    "response_url", ru,
	    "cancel_url", cu,
	    "submitted", (json_int_t)spool_now_ms(),
	    "deadline", (json_int_t)deadline,
	    "file_url", file_url);
	/* clang-format on */
}

enum backend_status
fal_failure(const struct config *cfg, enum fal_result fr,
    const struct fal_resp *rs, const char *what, char *err, size_t errlen)
{
	char text[256];

	fal_error_text(rs, text, sizeof(text));
	if (fr == FR_STOP)
		return BACKEND_HANDBACK;
	if (fr == FR_AUTH)
		snprintf(err, errlen,
		    "FAL rejected the API key (HTTP %ld); check FAL_KEY.",
		    rs->code);
	else if (fr == FR_DEADLINE)
		snprintf(err, errlen,
		    "FAL did not finish this file within %d s (FAL_DEADLINE_S).",
		    cfg->fal_deadline_s);
	else if (fr == FR_TRANSIENT)
		snprintf(err, errlen,
		    "FAL could not be reached for the %s after %d tries (%s); retry the file later.",
		    what, FAL_TRIES, text);
	else if (rs->over)
		snprintf(err, errlen,
		    "FAL's answer to the %s was larger than this server accepts.",
		    what);
	else if (rs->code == 0)
		snprintf(err, errlen,
		    "FAL's answer to the %s could not be read.", what);
	else
		snprintf(err, errlen, "FAL refused the %s (HTTP %ld): %s", what,
		    rs->code, text);
	return BACKEND_FAILED;
}

void
fal_model_error(json_t *done, json_t *result, char *err, size_t errlen)
{
	const char *e = json_string_value(json_object_get(done, "error"));
	const char *et = json_string_value(json_object_get(done, "error_type"));
	char text[300];

	fal_detail_text(result, text, sizeof(text));
	if (text[0] == '\0' && et != NULL)
		snprintf(text, sizeof(text), "%s (%s)",
		    e != NULL ? e : "no reason given", et);
	else if (text[0] == '\0')
		snprintf(text, sizeof(text), "%s",
		    e != NULL ? e : "no reason given");
	snprintf(err, errlen,
	    "The model failed at FAL: %s. Retry the file, or change its parameters or the model.",
	    text);
}

int
fal_run_progress(json_t *logs, long long elapsed_ms, long long typical_ms)
{
	int p = fal_logs_progress(logs);

	/* No log says: elapsed time against the typical run. */
	if (typical_ms <= 0)
		typical_ms = 60000;
	if (p < 0)
		p = elapsed_ms < typical_ms
		    ? (int)(elapsed_ms * 90 / typical_ms)
		    : 90 +
		        (int)(9 -
		            9 * typical_ms / (elapsed_ms > 0 ? elapsed_ms : 1));
	return 15 + p * 75 / 100;
}

/* Readers of FAL's answers ---------------------------------------------- */

/* Copy text into out as one line: control characters become spaces. */
static void
one_line(char *out, size_t len, const char *text)
{
	size_t i;

	snprintf(out, len, "%s", text);
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20)
			out[i] = ' ';
}

/* The first detail's msg, with its type when with_type. */
static void
detail(json_t *j, int with_type, char *out, size_t len)
{
	json_t *d = json_object_get(j, "detail"), *e;
	const char *msg = NULL, *type = NULL;
	char buf[512];

	out[0] = '\0';
	if (json_is_string(d))
		msg = json_string_value(d);
	else if (json_is_array(d)) {
		/* Validation errors: [{loc, msg, type}, ...]; the first. */
		e = json_array_get(d, 0);
		msg = json_string_value(json_object_get(e, "msg"));
		type = json_string_value(json_object_get(e, "type"));
	}
	if (msg == NULL)
		msg = json_string_value(json_object_get(j, "message"));
	if (msg == NULL)
		msg = json_string_value(json_object_get(j, "error"));
	if (msg == NULL)
		return;
	if (type != NULL && with_type)
		snprintf(buf, sizeof(buf), "%s (%s)", msg, type);
	else
		snprintf(buf, sizeof(buf), "%s", msg);
	one_line(out, len, buf);
}

void
fal_detail_text(json_t *j, char *out, size_t len)
{
	detail(j, 1, out, len);
}

void
fal_error_text(const struct fal_resp *rs, char *out, size_t len)
{
	json_t *j = NULL;

	out[0] = '\0';
	if (rs->body != NULL && strstr(rs->ctype, "json") != NULL)
		j = json_loadb(rs->body, rs->len, 0, NULL);
	detail(j, 0, out, len);
	json_decref(j);
	if (out[0] != '\0')
		return;
	if (rs->code > 0)
		snprintf(out, len, "HTTP %ld", rs->code);
	else
		snprintf(out, len, "%s", curl_easy_strerror(rs->cerr));
}

int
fal_logs_progress(json_t *logs)
{
	size_t i;

	if (!json_is_array(logs))
		return -1;
	for (i = json_array_size(logs); i-- > 0;) {
		const char *m = json_string_value(
		    json_object_get(json_array_get(logs, i), "message"));
		const char *p;
		long a, b;
		char *end;

		if (m == NULL)
			continue;
		/* tqdm style "Sampling:  40%|####  | 5/12": the percent. */
		for (p = strchr(m, '%'); p != NULL; p = strchr(p + 1, '%')) {
			const char *q = p;

			while (q > m && q[-1] >= '0' && q[-1] <= '9')
				q--;
			if (q < p) {
				a = strtol(q, NULL, 10);
				if (a >= 0 && a <= 100)
					return (int)a;
			}
		}
		/* "step 3/50": a fraction. */
		for (p = strchr(m, '/'); p != NULL; p = strchr(p + 1, '/')) {
			const char *q = p;

			while (q > m && q[-1] >= '0' && q[-1] <= '9')
				q--;
			if (q == p || p[1] < '0' || p[1] > '9')
				continue;
			a = strtol(q, NULL, 10);
			b = strtol(p + 1, &end, 10);
			/* a * 100 overflows for huge numbers (fuzzing:
			 * "5555...652/1555...", strtol saturates). */
			if (b > 0 && a >= 0 && a <= b)
				return (int)(a <= LONG_MAX / 100
				        ? a * 100 / b
				        : a / (b / 100));
		}
	}
	return -1;
}

int
fal_owner_alias(const char *fal_id, char *out, size_t len)
{
	const char *p = fal_id;
	int parts = strncmp(fal_id, "workflows/", 10) == 0 ||
	        strncmp(fal_id, "comfy/", 6) == 0
	    ? 3
	    : 2;
	int n = 0;

	/* Keep the first `parts` path segments (protocol notes §1.3). */
	while (*p != '\0') {
		if (*p == '/' && ++n == parts)
			break;
		p++;
	}
	if (n < parts - 1 || (size_t)(p - fal_id) >= len) {
		errno = EINVAL;
		return -1;
	}
	memcpy(out, fal_id, (size_t)(p - fal_id));
	out[p - fal_id] = '\0';
	return 0;
}

json_t *
fal_build_input(
    const struct model_info *m, json_t *params, const char *image_url)
{
	json_t *in = json_object(), *v;
	const char *k;

	if (in == NULL)
		return NULL;
	v = json_string(image_url);
	if (m->image_array)
		v = json_pack("[o]", v);
	if (json_object_set_new(in, m->image_field, v))
		goto fail;
	json_object_foreach(params, k, v) {
		/* Validated at upload; a name the model lacks is dropped. */
		if (models_param(m, k) == NULL)
			continue;
		if (json_object_set(in, k, v) == -1)
			goto fail;
	}
	/* We store and serve GLB only. */
	if (models_param(m, "output_format") != NULL &&
	    json_object_set_new(in, "output_format", json_string("glb")) == -1)
		goto fail;
	return in;
fail:
	json_decref(in);
	return NULL;
}

const char *
fal_mesh_url(const struct model_info *m, json_t *result, const char **field)
{
	const char *u;
	int i;

	for (i = 0; m->outputs[i] != NULL; i++) {
		u = json_string_value(json_object_get(
		    json_object_get(result, m->outputs[i]), "url"));
		if (u != NULL) {
			if (field != NULL)
				*field = m->outputs[i];
			return u;
		}
	}
	return NULL;
}

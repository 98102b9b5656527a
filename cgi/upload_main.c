/*
 * upload_main.c: i2m-upload.fcgi, POST /api/v1/upload[/].
 *
 * lighttpd has buffered the whole body (stream-request-body 0), so a slow
 * client never holds a thread; we read it once, through the streaming
 * multipart parser, writing each image straight into the submission's
 * tmp/<id>/in/ (spool/part.c).  Memory does not grow with the upload.
 *
 * Invariant: the answer (200 or 303) is sent only after
 * spool_submit_commit() returned 0, i.e. every image, batch.json, the
 * status files and every queue marker are durable.  Any failure aborts
 * the submission, which removes tmp/<id>; nothing half-written stays and
 * no marker appears.  What is accepted is the spool's one rule for every
 * submission (spool/submit.c: model, parameters, count, size, type by
 * magic bytes, names); this file maps its refusals to the contract's
 * status codes and only adds what belongs to a form.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgi.h"

#define UPLOAD_THREADS 4
#define MAX_FIELDS 32
#define FIELD_MAX 1024

enum kind { K_NONE, K_FILE, K_FIELD, K_SKIP };

struct field {
	char name[64];
	char value[FIELD_MAX];
	size_t len;
};

struct upload {
	struct req *r;
	struct spool_submit s;
	enum kind kind;
	struct field fields[MAX_FIELDS];
	int nfields;
	/* The first error of the form itself wins; status 0 = none. */
	int status;
	char code[40];
	char msg[512];
	json_t *details;
};

static void
fail(struct upload *u, int status, const char *code, json_t *details,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
fail(struct upload *u, int status, const char *code, json_t *details,
    const char *fmt, ...)
{
	va_list ap;

	if (u->status != 0) {
		json_decref(details);
		return;
	}
	u->status = status;
	snprintf(u->code, sizeof(u->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(u->msg, sizeof(u->msg), fmt, ap);
	va_end(ap);
	u->details = details;
}

/* The rule's refusal as the contract's status, code and details. */
static void
fail_rule(struct upload *u)
{
	const struct spool_submit *s = &u->s;
	const char *subj = s->subject;
	json_t *d = NULL;
	int st = 400;
	const char *code = "INVALID_PARAMETER";

	switch (s->err) {
	case SUBMIT_OK:
		return;
	case SUBMIT_BAD_MODEL:
		code = "INVALID_MODEL";
		d = json_pack("{s:s}", "field", "model");
		break;
	case SUBMIT_BAD_PARAM:
		d = s->model != NULL ? json_pack("{s:s, s:s}", "field", subj,
		                           "model", s->model->id)
		                     : json_pack("{s:s}", "field", subj);
		break;
	case SUBMIT_NO_FILES:
		code = "NO_FILES";
		break;
	case SUBMIT_TOO_MANY_FILES:
		code = "TOO_MANY_FILES";
		d = json_pack("{s:i}", "max_files", cgi.cfg.max_files);
		break;
	case SUBMIT_TOO_LARGE:
		st = 413;
		code = "FILE_TOO_LARGE";
		/* clang-format off */
		d = json_pack("{s:s, s:I}",
		    "filename", subj,
		    "limit_bytes", (json_int_t)cgi.cfg.max_file_bytes);
		/* clang-format on */
		break;
	case SUBMIT_EMPTY:
		code = "EMPTY_FILE";
		d = json_pack("{s:s}", "filename", subj);
		break;
	case SUBMIT_NOT_IMAGE:
		st = 415;
		code = "UNSUPPORTED_FILE_TYPE";
		/* clang-format off */
		d = json_pack("{s:s, s:[sss]}",
		    "filename", subj,
		    "supported", "image/jpeg", "image/png", "image/webp");
		/* clang-format on */
		break;
	case SUBMIT_NO_SPACE:
		st = 507;
		code = "INSUFFICIENT_STORAGE";
		break;
	case SUBMIT_IO:
		st = 500;
		code = "INTERNAL_ERROR";
		log_warnx("upload: %s", s->msg);
		break;
	}
	fail(u, st, code, d, "%s", s->msg);
}

static double
mib(long long b)
{
	return (double)b / (1024.0 * 1024.0);
}

static int
is_file_field(const char *name)
{
	return strcmp(name, "files") == 0 || strcmp(name, "files[]") == 0 ||
	    strcmp(name, "file") == 0;
}

static int
on_begin(void *ctx, const char *name, const char *filename)
{
	struct upload *u = ctx;
	char shown[65]; /* the name as it may be echoed: UTF-8, cut */

	u->kind = K_SKIP;
	spool_utf8_clean(shown, sizeof(shown), name);
	if (filename != NULL) {
		if (!is_file_field(name)) {
			fail(u, 400, "INVALID_FIELD",
			    json_pack("{s:s}", "field", shown),
			    "The form field \"%s\" cannot hold a file; send images in \"files\".",
			    shown);
			return -1;
		}
		/* A form with no file chosen sends one empty, unnamed part. */
		if (filename[0] == '\0') {
			u->kind = K_NONE;
			return 0;
		}
		if (spool_submit_file_begin(&u->s, filename) == -1)
			return -1;
		u->kind = K_FILE;
		return 0;
	}
	if (u->nfields >= MAX_FIELDS) {
		fail(u, 400, "TOO_MANY_FIELDS", NULL,
		    "The form has more than %d fields.", MAX_FIELDS);
		return -1;
	}
	if (strlen(name) >= sizeof(u->fields[0].name)) {
		fail(u, 400, "INVALID_PARAMETER",
		    json_pack("{s:s}", "field", shown),
		    "The form field \"%s...\" is unknown.", shown);
		return -1;
	}
	snprintf(
	    u->fields[u->nfields].name, sizeof(u->fields[0].name), "%s", name);
	u->fields[u->nfields].len = 0;
	u->kind = K_FIELD;
	return 0;
}

static int
on_data(void *ctx, const char *buf, size_t len)
{
	struct upload *u = ctx;

	if (u->kind == K_FIELD) {
		struct field *f = &u->fields[u->nfields];

		if (f->len + len >= sizeof(f->value)) {
			char shown[sizeof(f->name) + 8];

			spool_utf8_clean(shown, sizeof(shown), f->name);
			fail(u, 400, "INVALID_PARAMETER",
			    json_pack("{s:s}", "field", shown),
			    "The value of %s is too long.", shown);
			return -1;
		}
		memcpy(f->value + f->len, buf, len);
		f->len += len;
		return 0;
	}
	if (u->kind == K_NONE) {
		/* An unnamed file part that has bytes after all. */
		if (len > 0) {
			fail(u, 400, "INVALID_FILE", NULL,
			    "A file was sent without a file name.");
			return -1;
		}
		return 0;
	}
	if (u->kind != K_FILE)
		return 0;
	return spool_submit_file_write(&u->s, buf, len);
}

static int
on_end(void *ctx)
{
	struct upload *u = ctx;

	if (u->kind == K_FIELD) {
		u->fields[u->nfields].value[u->fields[u->nfields].len] = '\0';
		u->nfields++;
	}
	if (u->kind != K_FILE)
		return 0;
	u->kind = K_NONE;
	return spool_submit_file_end(&u->s);
}

/* The model first, then every other field as one of its parameters. */
static int
read_fields(struct upload *u)
{
	const char *model = NULL;
	int i;

	for (i = 0; i < u->nfields; i++)
		if (strcmp(u->fields[i].name, "model") == 0)
			model = u->fields[i].value;
	if (spool_submit_model(&u->s, model) == -1)
		return -1;
	for (i = 0; i < u->nfields; i++)
		if (strcmp(u->fields[i].name, "model") != 0 &&
		    spool_submit_param(
		        &u->s, u->fields[i].name, u->fields[i].value) == -1)
			return -1;
	return 0;
}

/*
 * The batch's price at FAL (-1 unknown, spool/price.c), held against
 * what is left of today's FAL_BUDGET_USD_PER_DAY before anything is
 * queued: over it is 402 with what is left.
 */
static double
check_budget(struct upload *u, const struct model_info *m, json_t *params)
{
	double one = models_price(m, params), est, left;
	char err[512];

	est = one < 0 ? -1 : one * u->s.nfiles;
	if (strcmp(m->provider, "fal") != 0 ||
	    spool_budget_check(
	        &cgi.sp, &cgi.cfg, est, &left, err, sizeof(err)) == 0)
		return est;
	if (errno != EDQUOT) {
		log_warn("upload: %s", err);
		fail(u, 500, "INTERNAL_ERROR", NULL, "%s", err);
		return est;
	}
	fail(u, 402, "BUDGET_EXCEEDED",
	    json_pack("{s:o, s:f, s:f}", "estimated_cost_usd",
	        est < 0 ? json_null() : json_real(est), "budget_left_usd", left,
	        "budget_usd_per_day", cgi.cfg.fal_budget_usd_per_day),
	    "%s", err);
	return est;
}

/* The 200 answer, from what the commit wrote (s->batch). */
static void
answer(struct upload *u, double estimate)
{
	struct req *r = u->r;
	json_t *b = u->s.batch, *files = json_array(), *f, *j;
	char msg[64], status[CGI_BASE_MAX + 64], stream[CGI_BASE_MAX + 80];
	size_t i;

	if (r->html) {
		json_decref(files);
		cgi_begin(r, 303, "text/plain; charset=utf-8");
		cgi_header(r, "Location: /processing?taskId=%s", u->s.id);
		cgi_end_headers(r);
		FCGX_FPrintF(
		    r->fr->out, "See /processing?taskId=%s\n", u->s.id);
		return;
	}
	json_array_foreach(json_object_get(b, "files"), i, f) {
		json_array_append_new(files,
		    json_pack("{s:O, s:O, s:O, s:O, s:s, s:n}", "file_id",
		        json_object_get(f, "file_id"), "filename",
		        json_object_get(f, "filename"), "file_size",
		        json_object_get(f, "file_size"), "content_type",
		        json_object_get(f, "content_type"), "status", "queued",
		        "task_id"));
	}
	snprintf(msg, sizeof(msg), "%d file%s queued for processing",
	    u->s.nfiles, u->s.nfiles == 1 ? "" : "s");
	snprintf(status, sizeof(status), "%s/api/v1/status/tasks/%s/status",
	    r->base, u->s.id);
	snprintf(stream, sizeof(stream), "%s/api/v1/status/tasks/%s/stream",
	    r->base, u->s.id);
	j = json_pack("{s:s, s:s, s:s, s:o, s:O, s:s, s:i, s:s, s:s, s:o}",
	    "batch_id", u->s.id, "job_id", u->s.id, "task_id", u->s.id,
	    "uploaded_files", files != NULL ? files : json_array(),
	    "face_limit", json_object_get(b, "face_limit"), "model",
	    u->s.model->id, "total_files", u->s.nfiles, "status", "queued",
	    "message", msg, "estimated_cost_usd",
	    estimate < 0 ? json_null() : json_real(estimate));
	if (j != NULL) {
		json_object_set_new(j, "status_url", json_string(status));
		json_object_set_new(j, "stream_url", json_string(stream));
	}
	cgi_json(r, 200, j);
}

static void receive(struct req *r);

static void
upload(struct req *r)
{
	int slot;

	if (r->nseg != 3 || strcmp(r->seg[0], "api") != 0 ||
	    strcmp(r->seg[1], "v1") != 0 || strcmp(r->seg[2], "upload") != 0) {
		cgi_error(r, 404, "NOT_FOUND", NULL,
		    "There is nothing at this address.");
		return;
	}
	if (strcmp(r->method, "POST") != 0) {
		cgi_method_not_allowed(r, "POST");
		return;
	}
	if (!cgi_require_key(r))
		return;
	slot = cgi_upload_enter(r);
	if (slot == -1)
		return;
	receive(r);
	cgi_hold_release(slot);
}

/* The upload's body, checked and committed, and the answer (one held slot of
 * UPLOADS_PER_IP from the caller). */
static void
receive(struct req *r)
{
	struct upload *u;
	char boundary[128];
	long long clen, limit;
	double estimate = -1;
	enum mp_result mr;
	static const struct mp_callbacks cb = {on_begin, on_data, on_end};

	clen = cgi_param_ll(r, "CONTENT_LENGTH", 0);
	limit = config_request_bytes(&cgi.cfg);
	if (clen > limit) {
		cgi_drain(r);
		cgi_error(r, 413, "REQUEST_TOO_LARGE",
		    json_pack("{s:I}", "limit_bytes", (json_int_t)limit),
		    "The upload is %.1f MB; the limit is %.1f MB.", mib(clen),
		    mib(limit));
		return;
	}
	if (mp_boundary(cgi_param(r, "CONTENT_TYPE"), boundary,
	        sizeof(boundary)) == -1) {
		cgi_drain(r);
		cgi_error(r, 400, "INVALID_CONTENT_TYPE", NULL,
		    "Send the images as multipart/form-data in the field \"files\".");
		return;
	}
	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		cgi_drain(r);
		cgi_error(r, 500, "INTERNAL_ERROR", NULL, "Out of memory.");
		return;
	}
	u->r = r;
	spool_submit_init(&u->s, &cgi.sp, &cgi.cfg);
	/* With API keys, the batch names its key (GET /api/v1/batches). */
	if (cgi.cfg.api_keys[0] != '\0')
		cgi_key_id(r, u->s.key_id, sizeof(u->s.key_id));
	mr = mp_parse(r->fr->in, boundary, &cb, u);
	if (mr == MP_MALFORMED)
		fail(u, 400, "MALFORMED_FORM", NULL,
		    "The form data is incomplete or malformed; send it again.");
	else if (mr == MP_IO)
		fail(u, 400, "INCOMPLETE_UPLOAD", NULL,
		    "The upload was cut off; send it again.");
	fail_rule(u);
	if (u->status == 0 && read_fields(u) == -1)
		fail_rule(u);
	if (u->status == 0)
		estimate = check_budget(u, u->s.model, u->s.params);
	if (u->status == 0 && spool_submit_commit(&u->s) == -1)
		fail_rule(u);
	if (u->status != 0) {
		spool_submit_abort(&u->s);
		cgi_drain(r);
		cgi_error(r, u->status, u->code, u->details, "%s", u->msg);
	} else {
		log_info("%s: %d file%s queued (model %s)", u->s.id,
		    u->s.nfiles, u->s.nfiles == 1 ? "" : "s", u->s.model->id);
		answer(u, estimate);
		spool_submit_free(&u->s);
	}
	free(u);
}

int
main(void)
{
	return cgi_main("i2m-upload", UPLOAD_THREADS, upload);
}

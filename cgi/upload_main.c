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
 * no marker appears.  Types are judged by magic bytes only; limits come
 * from the config (MAX_FILES, MAX_FILE_BYTES).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgi.h"
#include "sniff.h"

#define UPLOAD_THREADS 4
#define MAX_FIELDS 32
#define FIELD_MAX 1024
#define SNIFF_LEN 12

enum kind { K_NONE, K_FILE, K_FIELD, K_SKIP };

struct field {
	char name[64];
	char value[FIELD_MAX];
	size_t len;
};

struct upload {
	struct req *r;
	struct spool_submit s;
	int begun;
	struct spool_part part;
	enum kind kind;
	char filename[512];
	unsigned char head[SNIFF_LEN];
	size_t headlen;
	long long size;
	int nfiles;
	struct field fields[MAX_FIELDS];
	int nfields;
	/* The first error wins; status 0 = none. */
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

/* A spool error: no space is 507, anything else is the server's fault. */
static void
fail_io(struct upload *u, const char *what)
{
	if (errno == ENOSPC || errno == EDQUOT)
		fail(u, 507, "INSUFFICIENT_STORAGE", NULL,
		    "The server is out "
		    "of disk space; try again later.");
	else {
		log_warn("upload: %s", what);
		fail(u, 500, "INTERNAL_ERROR", NULL,
		    "The upload could not "
		    "be stored (%s); try again.",
		    strerror(errno));
	}
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

	u->kind = K_SKIP;
	u->size = 0;
	u->headlen = 0;
	if (filename != NULL) {
		if (!is_file_field(name)) {
			fail(u, 400, "INVALID_FIELD",
			    json_pack("{s:s}", "field", name),
			    "The form field \"%.64s\" cannot "
			    "hold a file; send images in \"files\".",
			    name);
			return -1;
		}
		/* A form with no file chosen sends one empty, unnamed part. */
		if (filename[0] == '\0') {
			u->kind = K_NONE;
			return 0;
		}
		if (u->nfiles >= cgi.cfg.max_files) {
			fail(u, 400, "TOO_MANY_FILES",
			    json_pack("{s:i}", "max_files", cgi.cfg.max_files),
			    "At most %d "
			    "files can be uploaded at once.",
			    cgi.cfg.max_files);
			return -1;
		}
		if (!u->begun) {
			if (spool_submit_begin(&cgi.sp, &u->s) == -1) {
				fail_io(u, "submit_begin");
				return -1;
			}
			u->begun = 1;
		}
		if (spool_part_open(&u->s, &u->part) == -1) {
			fail_io(u, "part_open");
			return -1;
		}
		snprintf(u->filename, sizeof(u->filename), "%s", filename);
		u->kind = K_FILE;
		return 0;
	}
	if (u->nfields >= MAX_FIELDS) {
		fail(u, 400, "TOO_MANY_FIELDS", NULL,
		    "The form has more than "
		    "%d fields.",
		    MAX_FIELDS);
		return -1;
	}
	if (strlen(name) >= sizeof(u->fields[0].name)) {
		fail(u, 400, "INVALID_PARAMETER",
		    json_pack("{s:s}", "field", name),
		    "The form field \"%.64s...\" is unknown.", name);
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
			fail(u, 400, "INVALID_PARAMETER",
			    json_pack("{s:s}", "field", f->name),
			    "The value of %s is too long.", f->name);
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
			    "A file was sent "
			    "without a file name.");
			return -1;
		}
		return 0;
	}
	if (u->kind != K_FILE)
		return 0;
	u->size += (long long)len;
	if (u->size > cgi.cfg.max_file_bytes) {
		fail(u, 413, "FILE_TOO_LARGE",
		    json_pack("{s:s, s:I}", "filename", u->filename,
		        "limit_bytes", (json_int_t)cgi.cfg.max_file_bytes),
		    "%.200s is larger "
		    "than the limit of %.1f MB per file.",
		    u->filename, mib(cgi.cfg.max_file_bytes));
		return -1;
	}
	if (u->headlen < SNIFF_LEN) {
		size_t n =
		    SNIFF_LEN - u->headlen < len ? SNIFF_LEN - u->headlen : len;

		memcpy(u->head + u->headlen, buf, n);
		u->headlen += n;
	}
	if (spool_part_write(&u->part, buf, len) == -1) {
		fail_io(u, "part_write");
		return -1;
	}
	return 0;
}

static int
on_end(void *ctx)
{
	struct upload *u = ctx;
	const char *ext, *ctype = NULL;

	if (u->kind == K_FIELD) {
		u->fields[u->nfields].value[u->fields[u->nfields].len] = '\0';
		u->nfields++;
	}
	if (u->kind != K_FILE)
		return 0;
	u->kind = K_NONE;
	if (u->size == 0) {
		fail(u, 400, "EMPTY_FILE",
		    json_pack("{s:s}", "filename", u->filename),
		    "%.200s is empty; choose a photo with "
		    "content.",
		    u->filename);
		return -1;
	}
	ext = i2g_sniff(u->head, u->headlen, &ctype);
	if (ext == NULL) {
		fail(u, 415, "UNSUPPORTED_FILE_TYPE",
		    json_pack("{s:s, s:[sss]}", "filename", u->filename,
		        "supported", "image/jpeg", "image/png", "image/webp"),
		    "%.200s is not a JPEG, PNG or "
		    "WebP image.",
		    u->filename);
		return -1;
	}
	if (spool_part_finish(&u->s, &u->part, u->filename, ext, ctype) == -1) {
		fail_io(u, "part_finish");
		return -1;
	}
	u->nfiles++;
	return 0;
}

/* Model, face_limit and the model's parameters from the form fields. */
static int
read_fields(struct upload *u, const struct model_info **mp, json_t *params,
    long long *face_limit)
{
	const char *model = models_default(&cgi.cfg);
	const struct model_info *m;
	char err[512];
	int i;

	for (i = 0; i < u->nfields; i++)
		if (strcmp(u->fields[i].name, "model") == 0 &&
		    u->fields[i].value[0] != '\0')
			model = u->fields[i].value;
	m = models_find(model);
	if (m == NULL || !models_usable(m, &cgi.cfg)) {
		fail(u, 400, "INVALID_MODEL",
		    json_pack("{s:s, s:s}", "field", "model", "model", model),
		    "The model \"%.64s\" is not "
		    "available here; see /api/v1/models/available.",
		    model);
		return -1;
	}
	*mp = m;
	*face_limit = -1;
	for (i = 0; i < u->nfields; i++) {
		const char *n = u->fields[i].name, *v = u->fields[i].value;
		json_t *val;

		if (strcmp(n, "model") == 0)
			continue;
		if (strcmp(n, "face_limit") == 0) {
			char *end;
			long long fl;

			if (v[0] == '\0')
				continue;
			errno = 0;
			fl = strtoll(v, &end, 10);
			if (errno != 0 || *end != '\0' || fl <= 0) {
				fail(u, 400, "INVALID_PARAMETER",
				    json_pack("{s:s}", "field", "face_limit"),
				    "face_limit "
				    "must be a whole number above 0, not "
				    "\"%.32s\".",
				    v);
				return -1;
			}
			if (models_param(m, "face_limit") != NULL &&
			    models_param_parse(
			        m, n, v, &val, err, sizeof(err)) == -1) {
				fail(u, 400, "INVALID_PARAMETER",
				    json_pack("{s:s}", "field", n), "%s", err);
				return -1;
			}
			if (models_param(m, "face_limit") != NULL)
				json_decref(val);
			*face_limit = fl;
			continue;
		}
		if (models_param_parse(m, n, v, &val, err, sizeof(err)) == -1) {
			fail(u, 400, "INVALID_PARAMETER",
			    json_pack("{s:s, s:s}", "field", n, "model", m->id),
			    "%s", err);
			return -1;
		}
		json_object_set_new(params, n, val);
	}
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

	est = one < 0 ? -1 : one * u->nfiles;
	if (strcmp(m->provider, "fal") != 0 ||
	    spool_budget_check(&cgi.sp, &cgi.cfg, est, &left, err,
	        sizeof(err)) == 0)
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

static void
answer(struct upload *u, const struct model_info *m, long long face_limit,
    double estimate)
{
	struct req *r = u->r;
	json_t *files = json_array(), *e;
	char msg[64];
	size_t i;

	if (r->html) {
		cgi_begin(r, 303, "text/plain; charset=utf-8");
		cgi_header(r, "Location: /processing?taskId=%s", u->s.id);
		cgi_end_headers(r);
		FCGX_FPrintF(
		    r->fr->out, "See /processing?taskId=%s\n", u->s.id);
		return;
	}
	/* u->s.files was consumed by commit: rebuild from batch.json. */
	e = spool_batch_get(&cgi.sp, u->s.id);
	for (i = 0; e != NULL && files != NULL &&
	     i < json_array_size(json_object_get(e, "files"));
	     i++) {
		json_t *f = json_array_get(json_object_get(e, "files"), i);

		json_array_append_new(files,
		    json_pack("{s:O, s:O, s:O, s:O, "
		              "s:s, s:n}",
		        "file_id", json_object_get(f, "file_id"), "filename",
		        json_object_get(f, "filename"), "file_size",
		        json_object_get(f, "file_size"), "content_type",
		        json_object_get(f, "content_type"), "status", "queued",
		        "task_id"));
	}
	json_decref(e);
	snprintf(msg, sizeof(msg), "%d file%s queued for processing", u->nfiles,
	    u->nfiles == 1 ? "" : "s");
	cgi_json(r, 200,
	    json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:i, s:s, "
	              "s:s, s:o}",
	        "batch_id", u->s.id, "job_id", u->s.id, "task_id", u->s.id,
	        "uploaded_files", files != NULL ? files : json_array(),
	        "face_limit",
	        face_limit > 0 ? json_integer(face_limit) : json_null(),
	        "model", m->id, "total_files", u->nfiles, "status", "queued",
	        "message", msg, "estimated_cost_usd",
	        estimate < 0 ? json_null() : json_real(estimate)));
}

static void
upload(struct req *r)
{
	struct upload *u;
	const struct model_info *m = NULL;
	char boundary[128];
	long long clen, limit, face_limit = -1;
	double estimate = -1;
	json_t *params = NULL;
	enum mp_result mr;
	static const struct mp_callbacks cb = {on_begin, on_data, on_end};

	if (r->nseg != 3 || strcmp(r->seg[0], "api") != 0 ||
	    strcmp(r->seg[1], "v1") != 0 || strcmp(r->seg[2], "upload") != 0) {
		cgi_error(r, 404, "NOT_FOUND", NULL,
		    "There is nothing at this "
		    "address.");
		return;
	}
	if (strcmp(r->method, "POST") != 0) {
		cgi_method_not_allowed(r, "POST");
		return;
	}
	if (!cgi_authorized(r)) {
		cgi_drain(r);
		cgi_error(r, 401, "UNAUTHORIZED", NULL,
		    "Send a valid API key "
		    "as \"Authorization: Bearer <key>\".");
		return;
	}
	clen = cgi_param_ll(r, "CONTENT_LENGTH", 0);
	limit = config_request_bytes(&cgi.cfg);
	if (clen > limit) {
		cgi_drain(r);
		cgi_error(r, 413, "REQUEST_TOO_LARGE",
		    json_pack("{s:I}", "limit_bytes", (json_int_t)limit),
		    "The upload is %.1f MB; "
		    "the limit is %.1f MB.",
		    mib(clen), mib(limit));
		return;
	}
	if (mp_boundary(cgi_param(r, "CONTENT_TYPE"), boundary,
	        sizeof(boundary)) == -1) {
		cgi_drain(r);
		cgi_error(r, 400, "INVALID_CONTENT_TYPE", NULL,
		    "Send the "
		    "images as multipart/form-data in the field \"files\".");
		return;
	}
	u = calloc(1, sizeof(*u));
	params = json_object();
	if (u == NULL || params == NULL) {
		free(u);
		json_decref(params);
		cgi_drain(r);
		cgi_error(r, 500, "INTERNAL_ERROR", NULL, "Out of memory.");
		return;
	}
	u->r = r;
	u->part.t.fd = -1;
	u->part.in = -1;
	mr = mp_parse(r->fr->in, boundary, &cb, u);
	if (mr == MP_MALFORMED)
		fail(u, 400, "MALFORMED_FORM", NULL,
		    "The form data is "
		    "incomplete or malformed; send it again.");
	else if (mr == MP_IO)
		fail(u, 400, "INCOMPLETE_UPLOAD", NULL,
		    "The upload was cut "
		    "off; send it again.");
	if (u->status == 0 && u->nfiles == 0)
		fail(u, 400, "NO_FILES", NULL,
		    "No image was uploaded; add at "
		    "least one JPEG, PNG or WebP file in the field \"files\".");
	if (u->status == 0)
		read_fields(u, &m, params, &face_limit);
	if (u->status == 0)
		estimate = check_budget(u, m, params);
	if (u->status == 0 &&
	    spool_submit_commit(&u->s, m->id, params, face_limit) == -1) {
		u->begun = 0; /* commit aborted it already */
		fail_io(u, "submit_commit");
	}
	if (u->status != 0) {
		spool_part_abort(&u->part);
		if (u->begun)
			spool_submit_abort(&u->s);
		cgi_drain(r);
		cgi_error(r, u->status, u->code, u->details, "%s", u->msg);
	} else {
		log_info("%s: %d file%s queued (model %s)", u->s.id, u->nfiles,
		    u->nfiles == 1 ? "" : "s", m->id);
		answer(u, m, face_limit, estimate);
	}
	json_decref(params);
	free(u);
}

int
main(void)
{
	return cgi_main("i2m-upload", UPLOAD_THREADS, upload);
}

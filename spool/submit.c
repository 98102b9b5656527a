/*
 * submit.c: the one rule for every submission (the upload handler and
 * `i2m submit` are thin adapters over it) and putting the batch into the
 * spool.
 *
 * The rule: the model is one of the table's usable models (the default
 * when none is named); every parameter is one of that model's, typed by
 * the table, except face_limit, which every model accepts (whole number
 * above 0; the model's own range when it has the parameter) and
 * print_height_mm, the height of the printable formats (STL, 3MF; a
 * number of millimetres, SPOOL_PRINT_HEIGHT_MIN..MAX), both kept in
 * params like any other (a provider is never sent a field its row lacks);
 * webhook_url, the batch's own webhook (spool/webhook.c's rule), kept in
 * batch.json beside params, never sent to a provider; at most MAX_FILES files, each 1 to
 * MAX_FILE_BYTES bytes, a JPEG, PNG or WebP by its first bytes; client
 * file names are reduced to a display name.  The first refusal wins and
 * is kept as an enum and one sentence, the same for every front end.
 *
 * Order, after qmail-queue: build everything under tmp/<id>/ (images, then
 * batch.json and one "queued" status per file, each published by rename
 * and the directories fsynced); rename tmp/<id> to batches/<id> and fsync
 * batches/; then publish one marker per file into q/new.  Before the
 * directory rename nothing is visible; a crash after it but before every
 * marker is out is repaired by the daemon's sweep, which re-queues queued
 * files that have no marker (spool/README.md, "Recovery").  Abort removes
 * whatever was written, including a batch that lost its markers to ENOSPC.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "sniff.h"
#include "spool.h"

long long
spool_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/*
 * The client's file name, for display only: the last path component,
 * control characters and invalid UTF-8 replaced, at most 200 bytes.
 */
static void
display_name(char *out, size_t outlen, const char *in)
{
	const char *base = in, *p;
	size_t o = 0;

	for (p = in; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	for (p = base; *p != '\0' && o + 5 < outlen && o < 200;) {
		size_t sub;
		int n = spool_utf8_seq(p, &sub);
		unsigned char c = (unsigned char)*p;

		/* Ill-formed bytes (RFC 3629) and controls become '_'. */
		if (n == 0 || (n == 1 && (c < 0x20 || c == 0x7f))) {
			out[o++] = '_';
			p += n == 0 ? sub : 1;
			continue;
		}
		memcpy(out + o, p, (size_t)n);
		o += (size_t)n;
		p += n;
	}
	out[o] = '\0';
	if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		snprintf(out, outlen, "image");
}

static int
refuse(struct spool_submit *s, enum submit_err err, const char *subject,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Keep the first refusal; always -1. */
static int
refuse(struct spool_submit *s, enum submit_err err, const char *subject,
    const char *fmt, ...)
{
	char msg[sizeof(s->msg)];
	va_list ap;

	if (s->err != SUBMIT_OK)
		return -1;
	s->err = err;
	/* Client text is echoed in JSON: valid UTF-8, cut on a boundary. */
	spool_utf8_clean(
	    s->subject, sizeof(s->subject), subject != NULL ? subject : "");
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	spool_utf8_clean(s->msg, sizeof(s->msg), msg);
	return -1;
}

/* A spool error (errno): no space, or anything else. */
static int
refuse_io(struct spool_submit *s)
{
	if (errno == ENOSPC || errno == EDQUOT)
		return refuse(s, SUBMIT_NO_SPACE, NULL,
		    "The server is out of disk space; try again later.");
	return refuse(s, SUBMIT_IO, NULL,
	    "The upload could not be stored (%s); try again.", strerror(errno));
}

static double
mib(long long b)
{
	return (double)b / (1024.0 * 1024.0);
}

void
spool_submit_init(
    struct spool_submit *s, struct spool *sp, const struct config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->sp = sp;
	s->cfg = cfg;
	s->dir = -1;
	s->part.t.fd = -1;
	s->part.in = -1;
}

int
spool_submit_model(struct spool_submit *s, const char *id)
{
	const struct model_info *m;
	char shown[65];

	if (s->err != SUBMIT_OK)
		return -1;
	if (id == NULL || *id == '\0')
		id = models_default(s->cfg);
	m = models_find(id);
	if (m == NULL || !models_usable(m, s->cfg)) {
		spool_utf8_clean(shown, sizeof(shown), id);
		return refuse(s, SUBMIT_BAD_MODEL, "model",
		    "The model \"%s\" is not available here; see /api/v1/models/available.",
		    shown);
	}
	s->model = m;
	return 0;
}

/* face_limit for a model that has no such parameter: any count above 0. */
static int
any_face_limit(struct spool_submit *s, const char *text, json_t **out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v <= 0)
		return refuse(s, SUBMIT_BAD_PARAM, "face_limit",
		    "face_limit must be a whole number above 0, not \"%.32s\".",
		    text);
	*out = json_integer(v);
	return 0;
}

/* print_height_mm: the printable formats' height, any model. */
static int
print_height(struct spool_submit *s, const char *text, json_t **out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' ||
	    !(v >= SPOOL_PRINT_HEIGHT_MIN && v <= SPOOL_PRINT_HEIGHT_MAX))
		return refuse(s, SUBMIT_BAD_PARAM, "print_height_mm",
		    "print_height_mm must be a number of millimetres from %g to %g, not \"%.32s\".",
		    SPOOL_PRINT_HEIGHT_MIN, SPOOL_PRINT_HEIGHT_MAX, text);
	*out = json_real(v);
	return 0;
}

/* webhook_url: not a parameter of any model; "" = none. */
static int
webhook_url(struct spool_submit *s, const char *text)
{
	char err[256];

	if (s->err != SUBMIT_OK)
		return -1;
	if (*text != '\0' &&
	    spool_webhook_url_check(text, err, sizeof(err)) == -1)
		return refuse(s, SUBMIT_BAD_PARAM, "webhook_url", "%s", err);
	snprintf(s->webhook_url, sizeof(s->webhook_url), "%s", text);
	return 0;
}

int
spool_submit_param(struct spool_submit *s, const char *name, const char *text)
{
	char err[512];
	json_t *v = NULL;
	int fl = strcmp(name, "face_limit") == 0;
	int ph = strcmp(name, "print_height_mm") == 0;

	if (strcmp(name, "webhook_url") == 0)
		return webhook_url(s, text);
	if (s->model == NULL && spool_submit_model(s, NULL) == -1)
		return -1;
	if (s->err != SUBMIT_OK)
		return -1;
	/* An empty face_limit is the form's "Auto": no limit. */
	if ((fl || ph) && *text == '\0') {
		json_object_del(s->params, name);
		return 0;
	}
	if (ph && models_param(s->model, name) == NULL) {
		if (print_height(s, text, &v) == -1)
			return -1;
	} else if (fl && models_param(s->model, name) == NULL) {
		if (any_face_limit(s, text, &v) == -1)
			return -1;
	} else if (models_param_parse(
	               s->model, name, text, &v, err, sizeof(err)) == -1)
		return refuse(s, SUBMIT_BAD_PARAM, name, "%s", err);
	if (s->params == NULL)
		s->params = json_object();
	if (v == NULL || s->params == NULL ||
	    json_object_set_new(s->params, name, v) == -1) {
		errno = ENOMEM;
		return refuse_io(s);
	}
	return 0;
}

/* Make tmp/<id>/ with its subdirectories (at the first file). */
static int
batch_begin(struct spool_submit *s)
{
	char path[64];
	int tries;

	for (tries = 0; tries < 8; tries++) {
		if (spool_id_new(s->id) == -1)
			return -1;
		snprintf(path, sizeof(path), "tmp/%s", s->id);
		if (mkdirat(s->sp->root, path, 0770) == 0)
			break;
		if (errno != EEXIST)
			return -1;
	}
	if (tries == 8)
		return -1;
	s->dir = openat(s->sp->root, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dir == -1 || mkdirat(s->dir, "in", 0770) == -1 ||
	    mkdirat(s->dir, "state", 0770) == -1 ||
	    mkdirat(s->dir, "out", 0770) == -1 ||
	    mkdirat(s->dir, "remote", 0770) == -1 ||
	    mkdirat(s->dir, "cancel", 0770) == -1)
		return -1;
	s->files = json_array();
	if (s->files == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
spool_submit_file_begin(struct spool_submit *s, const char *filename)
{
	int max = s->cfg->max_files < SPOOL_MAX_FILES ? s->cfg->max_files
	                                              : SPOOL_MAX_FILES;

	if (s->err != SUBMIT_OK)
		return -1;
	display_name(
	    s->name, sizeof(s->name), filename != NULL ? filename : "");
	if (s->nfiles >= max)
		return refuse(s, SUBMIT_TOO_MANY_FILES, NULL,
		    "At most %d files can be uploaded at once.", max);
	if (s->dir == -1 && spool_check_space(s->sp) == -1)
		return errno != ENOSPC
		    ? refuse_io(s)
		    : refuse(s, SUBMIT_NO_SPACE, NULL,
		          "The server's free disk space is below DISK_FLOOR_MB; try again later.");
	if (s->dir == -1 && batch_begin(s) == -1)
		return refuse_io(s);
	if (spool_part_open(s, &s->part) == -1)
		return refuse_io(s);
	s->size = 0;
	s->headlen = 0;
	return 0;
}

int
spool_submit_file_write(struct spool_submit *s, const void *buf, size_t len)
{
	size_t n;

	if (s->err != SUBMIT_OK)
		return -1;
	if (s->size + (long long)len > s->cfg->max_file_bytes) {
		spool_part_abort(&s->part);
		return refuse(s, SUBMIT_TOO_LARGE, s->name,
		    "%.200s is larger than the limit of %.1f MB per file.",
		    s->name, mib(s->cfg->max_file_bytes));
	}
	n = sizeof(s->head) - s->headlen < len ? sizeof(s->head) - s->headlen
	                                       : len;
	memcpy(s->head + s->headlen, buf, n);
	s->headlen += n;
	s->size += (long long)len;
	if (spool_part_write(&s->part, buf, len) == -1) {
		spool_part_abort(&s->part);
		return refuse_io(s);
	}
	return 0;
}

int
spool_submit_file_end(struct spool_submit *s)
{
	const char *ext, *ctype = NULL;

	if (s->err != SUBMIT_OK)
		return -1;
	if (s->size == 0) {
		spool_part_abort(&s->part);
		return refuse(s, SUBMIT_EMPTY, s->name,
		    "%.200s is empty; choose a photo with content.", s->name);
	}
	ext = i2g_sniff(s->head, s->headlen, &ctype);
	if (ext == NULL) {
		spool_part_abort(&s->part);
		return refuse(s, SUBMIT_NOT_IMAGE, s->name,
		    "%.200s is not a JPEG, PNG or WebP image.", s->name);
	}
	if (spool_part_finish(s, &s->part, s->name, ext, ctype) == -1)
		return refuse_io(s);
	return 0;
}

int
spool_submit_file_fd(struct spool_submit *s, const char *filename, int fd)
{
	char buf[65536];
	ssize_t n;

	if (spool_submit_file_begin(s, filename) == -1)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			spool_part_abort(&s->part);
			return refuse(s, SUBMIT_IO, s->name,
			    "%.200s could not be read (%s).", s->name,
			    strerror(errno));
		}
		if (spool_submit_file_write(s, buf, (size_t)n) == -1)
			return -1;
	}
	return spool_submit_file_end(s);
}

/* Record the file entry once its bytes are in in/ (also used by part.c). */
int
spool_submit_entry(struct spool_submit *s, const char *filename,
    const char *ext, const char *ctype, long long size)
{
	char fid[16], input[32], disp[256];
	json_t *e;

	snprintf(fid, sizeof(fid), "%d", s->nfiles);
	snprintf(input, sizeof(input), "in/%d.%s", s->nfiles, ext);
	display_name(disp, sizeof(disp), filename != NULL ? filename : "");
	/* clang-format off */
	e = json_pack("{s:s, s:s, s:s, s:s, s:I}",
	    "file_id", fid,
	    "filename", disp,
	    "input", input,
	    "content_type", ctype,
	    "file_size", (json_int_t)size);
	/* clang-format on */
	if (e == NULL || json_array_append_new(s->files, e) == -1) {
		errno = ENOMEM;
		return -1;
	}
	s->nfiles++;
	return 0;
}

/*
 * Initial "queued" status of every file, seq 1..n, state/seq = n and the
 * counter in state/.lock = n (status.c), all before the batch is visible.
 */
static int
write_states(struct spool_submit *s, long long now)
{
	char name[32], seq[32];
	size_t i;
	json_t *e;
	int st, rc = -1;

	st = openat(s->dir, "state", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st == -1)
		return -1;
	json_array_foreach(s->files, i, e) {
		/* clang-format off */
		json_t *j = json_pack("{s:O, s:O, s:s, s:i, s:n, s:s, s:n, s:I, s:I, s:i}",
		    "file_id", json_object_get(e, "file_id"),
		    "filename", json_object_get(e, "filename"),
		    "status", "queued",
		    "progress", 0,
		    "queue_position",
		    "message", "Waiting for a worker",
		    "error",
		    "seq", (json_int_t)(i + 1),
		    "updated", (json_int_t)now,
		    "attempt", 0);
		/* clang-format on */

		if (j == NULL) {
			errno = ENOMEM;
			goto out;
		}
		snprintf(name, sizeof(name), "%zu.json", i);
		if (spool_write_json(st, name, j) == -1) {
			json_decref(j);
			goto out;
		}
		json_decref(j);
	}
	snprintf(seq, sizeof(seq), "%d\n", s->nfiles);
	if (spool_write_atomic(st, ".lock", seq, strlen(seq)) == -1)
		goto out;
	rc = spool_write_atomic(st, "seq", seq, strlen(seq));
out:
	close(st);
	return rc;
}

/*
 * The batch's webhook targets (spool/webhook.h): the upload's URL, and
 * whether WEBHOOK_URL was set (the same URL twice is announced once).
 */
static int
webhook_fields(struct spool_submit *s, json_t *b)
{
	const char *cfg = s->cfg->webhook_url;

	if (s->webhook_url[0] != '\0' &&
	    json_object_set_new(
	        b, "webhook_url", json_string(s->webhook_url)) == -1)
		return -1;
	if (cfg[0] != '\0' && strcmp(cfg, s->webhook_url) != 0 &&
	    json_object_set_new(b, "webhook_config", json_true()) == -1)
		return -1;
	return 0;
}

int
spool_submit_commit(struct spool_submit *s)
{
	char from[64], to[64];
	long long now = spool_now_ms();
	json_t *b = NULL, *fl;
	int i, batches = -1, placed = 0;

	if (s->err != SUBMIT_OK)
		return -1;
	if (s->model == NULL && spool_submit_model(s, NULL) == -1)
		return -1;
	if (s->nfiles == 0)
		return refuse(s, SUBMIT_NO_FILES, NULL,
		    "No image was sent; add at least one JPEG, PNG or WebP file.");
	if (s->params == NULL && (s->params = json_object()) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	/* Stored resolved: what the daemon sends is what was priced. */
	if (models_params_resolve(s->model, s->params) == -1) {
		errno = ENOMEM;
		goto fail;
	}
	/* The top-level face_limit mirrors params for older readers. */
	fl = json_object_get(s->params, "face_limit");
	/* clang-format off */
	b = json_pack("{s:s, s:I, s:s, s:O, s:O, s:i, s:O}",
	    "batch_id", s->id,
	    "created", (json_int_t)now,
	    "model", s->model->id,
	    "params", s->params,
	    "face_limit", fl != NULL ? fl : json_null(),
	    "total_files", s->nfiles,
	    "files", s->files);
	/* clang-format on */
	if (b == NULL || webhook_fields(s, b) == -1 ||
	    (s->key_id[0] != '\0' &&
	        json_object_set_new(b, "key_id", json_string(s->key_id)) ==
	            -1)) {
		errno = ENOMEM;
		goto fail;
	}
	if (spool_write_json(s->dir, "batch.json", b) == -1 ||
	    write_states(s, now) == -1 || spool_fsync_at(s->dir, "in") == -1 ||
	    spool_fsync_dir(s->dir) == -1)
		goto fail;
	snprintf(from, sizeof(from), "tmp/%s", s->id);
	snprintf(to, sizeof(to), "batches/%s", s->id);
	if (renameat(s->sp->root, from, s->sp->root, to) == -1)
		goto fail;
	batches =
	    openat(s->sp->root, "batches", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (batches == -1 || spool_fsync_dir(batches) == -1)
		goto unpublish;
	for (i = 0; i < s->nfiles; i++, placed++)
		if (spool_queue_put(s->sp, s->id, i) == -1)
			goto unpublish;
	close(batches);
	close(s->dir);
	s->dir = -1;
	s->batch = b;
	return 0;
unpublish:
	/* The batch was visible but not queued whole: take it all back. */
	{
		int saved = errno;

		for (i = 0; i < placed; i++)
			spool_queue_withdraw(s->sp, s->id, i);
		if (renameat(s->sp->root, to, s->sp->root, from) == -1)
			spool_rmtree(s->sp->root, to);
		errno = saved;
	}
fail:
	if (batches != -1)
		close(batches);
	json_decref(b);
	refuse_io(s);
	spool_submit_abort(s);
	return -1;
}

void
spool_submit_abort(struct spool_submit *s)
{
	char path[64];
	int saved = errno;

	spool_part_abort(&s->part);
	if (s->dir != -1)
		close(s->dir);
	s->dir = -1;
	if (s->id[0] != '\0' && s->batch == NULL) {
		snprintf(path, sizeof(path), "tmp/%s", s->id);
		spool_rmtree(s->sp->root, path);
	}
	spool_submit_free(s);
	errno = saved;
}

void
spool_submit_free(struct spool_submit *s)
{
	json_decref(s->files);
	json_decref(s->params);
	json_decref(s->batch);
	s->files = s->params = s->batch = NULL;
}

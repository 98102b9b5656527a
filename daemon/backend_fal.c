/*
 * backend_fal.c: the FAL.AI backend.  One file goes: wait for a FAL slot
 * (FAL_MAX_INFLIGHT) → upload the image to FAL storage (initiate, PUT) →
 * submit to the queue → record the request → poll status until COMPLETED
 * → fetch the result → download model_mesh (and rendered_image) into out/.
 * The HTTP calls and their retry policy are in fal_http.c.
 *
 * Never paying twice (docs/fal.md):
 *  - the moment a submit answers, batches/<id>/remote/<n>.json gets the
 *    request id and URLs (job_remote_save, fsynced) before anything else;
 *  - run() starts by loading that record: when there is one, the request
 *    is resumed by polling, never submitted again.  The only window in
 *    which a crash leads to a second submit is between sending the submit
 *    and that record being on disk;
 *  - a submit whose answer is 2xx but unreadable is not repeated: the file
 *    fails and the user decides (retry removes the record);
 *  - daemon_stopping makes run() return BACKEND_HANDBACK without touching
 *    the request: it runs on at FAL and the next daemon resumes it.
 *  - once fetched, the result JSON is added to the record, so a crash
 *    while downloading resumes at the download (FAL keeps results only
 *    minutes; its CDN files much longer).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fal_http.h"
#include "sniff.h"

#define IMAGE_CAP (1LL << 30) /* MAX_FILE_BYTES can be at most 1 GiB */
#define CALL_TRIES 8 /* upload, submit, result, download */
#define CANCEL_TRIES 4

/* Requests this daemon has in flight at FAL, capped by FAL_MAX_INFLIGHT. */
static pthread_mutex_t inflight_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t inflight_cv = PTHREAD_COND_INITIALIZER;
static int inflight;

/* One run of one file. */
struct run {
	struct job *job;
	struct fal_worker *w;
	const struct config *cfg;
	const struct model_info *m;
	json_t *rec; /* remote record (new reference) or NULL */
	long long deadline; /* ms, spool_now_ms() clock */
	int slot; /* holds an in-flight slot */
	char *err;
	size_t errlen;
	/* what the status file last got, to write only changes */
	int last_st, last_prog, last_qpos;
	long long last_write;
	long long proc_start; /* first IN_PROGRESS seen */
};

static void
progress(struct run *r, enum file_state st, int prog, int qpos, const char *msg,
    int force)
{
	long long now = spool_now_ms();

	/*
	 * Every write is an fsync and an SSE event: write state or queue
	 * changes at once, progress at most once a second.
	 */
	if (!force && (int)st == r->last_st && qpos == r->last_qpos &&
	    (prog == r->last_prog || now - r->last_write < 1000))
		return;
	if (job_progress(r->job, st, prog, qpos, msg) == 0) {
		r->last_st = (int)st;
		r->last_prog = prog;
		r->last_qpos = qpos;
		r->last_write = now;
	}
}

/*
 * Take an in-flight slot.  With wait, sleep while FAL_MAX_INFLIGHT are in
 * flight (the file shows as queued).  0 = taken, else the status to end
 * with (cancelled / handed back).
 */
static int
slot_take(struct run *r, int wait)
{
	struct timespec ts;
	int said = 0;

	pthread_mutex_lock(&inflight_mu);
	while (wait && inflight >= r->cfg->fal_max_inflight) {
		int n = inflight;

		pthread_mutex_unlock(&inflight_mu);
		if (atomic_load(&daemon_stopping))
			return BACKEND_HANDBACK;
		/* Queued files never reach FAL when cancelled. */
		if (job_cancel_requested(r->job))
			return BACKEND_CANCELLED;
		if (!said) {
			char msg[96];

			snprintf(msg, sizeof(msg),
			    "Waiting for a FAL slot (%d requests in flight)",
			    n);
			progress(r, FS_QUEUED, 0, -1, msg, 1);
			said = 1;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&inflight_mu);
		pthread_cond_timedwait(&inflight_cv, &inflight_mu, &ts);
	}
	inflight++;
	r->slot = 1;
	pthread_mutex_unlock(&inflight_mu);
	return 0;
}

static void
slot_give(struct run *r)
{
	if (!r->slot)
		return;
	pthread_mutex_lock(&inflight_mu);
	inflight--;
	pthread_cond_signal(&inflight_cv);
	pthread_mutex_unlock(&inflight_mu);
	r->slot = 0;
}

/*
 * Turn a failed call into the file's final status and reason.  what names
 * the step for people ("upload", "request", ...).
 */
static enum backend_status
call_failed(
    struct run *r, enum fal_result fr, struct fal_resp *rs, const char *what)
{
	char text[256];

	switch (fr) {
	case FR_STOP:
		return BACKEND_HANDBACK;
	case FR_AUTH:
		snprintf(r->err, r->errlen,
		    "FAL rejected the API key (HTTP %ld); check FAL_KEY.",
		    rs->code);
		return BACKEND_FAILED;
	case FR_DEADLINE:
		snprintf(r->err, r->errlen,
		    "FAL did not finish this file within %d s "
		    "(FAL_DEADLINE_S).",
		    r->cfg->fal_deadline_s);
		return BACKEND_FAILED;
	case FR_TRANSIENT:
		fal_error_text(rs, text, sizeof(text));
		snprintf(r->err, r->errlen,
		    "FAL could not be reached for the %s after %d tries "
		    "(%s); retry the file later.",
		    what, CALL_TRIES, text);
		return BACKEND_FAILED;
	default:
		if (rs->over) {
			snprintf(r->err, r->errlen,
			    "FAL's answer to the %s was larger than this "
			    "server "
			    "accepts.",
			    what);
			return BACKEND_FAILED;
		}
		fal_error_text(rs, text, sizeof(text));
		snprintf(r->err, r->errlen, "FAL refused the %s (HTTP %ld): %s",
		    what, rs->code, text);
		return BACKEND_FAILED;
	}
}

/*
 * Cancel the request at FAL (PUT cancel_url).  Best effort: an answer of
 * ALREADY_COMPLETED or NOT_FOUND is fine too.  -1 only when the daemon is
 * stopping (the next daemon will cancel it, the cancel file stays).
 */
static int
cancel_at_fal(struct run *r)
{
	struct fal_req rq = {.method = "PUT",
	    .url = json_string_value(json_object_get(r->rec, "cancel_url")),
	    .auth = 1,
	    .attempts = CANCEL_TRIES,
	    .fd = -1};
	struct fal_resp rs = {0};
	enum fal_result fr;
	char text[256];

	if (rq.url == NULL)
		return 0;
	fr = fal_call(r->w, &rq, &rs);
	if (fr == FR_STOP) {
		fal_resp_free(&rs);
		return -1;
	}
	if (fr == FR_OK)
		log_info(
		    "%s: cancelled at FAL (HTTP %ld)", r->job->marker, rs.code);
	else {
		fal_error_text(&rs, text, sizeof(text));
		fal_redact(text, r->cfg->fal_key);
		log_warnx("%s: cancel at FAL: HTTP %ld: %s", r->job->marker,
		    rs.code, text);
	}
	fal_resp_free(&rs);
	return 0;
}

/* Upload the input image to FAL storage; file_url gets its URL. */
static enum backend_status
upload(struct run *r, char *file_url, size_t urllen)
{
	struct job *job = r->job;
	struct fal_resp rs = {0};
	struct fal_req rq;
	enum fal_result fr;
	enum backend_status bs = BACKEND_FAILED;
	char url[1024], name[96], *img = NULL, *body = NULL;
	const char *ctype, *sniffed_ct, *ext, *up, *fu;
	json_t *j = NULL;
	size_t len;

	progress(r, FS_UPLOADING, 3, -1, "Uploading the image to FAL", 1);
	if (spool_read_file(AT_FDCWD, job->input, IMAGE_CAP, &img, &len) ==
	    -1) {
		snprintf(r->err, r->errlen,
		    "The uploaded image could not be read back from the "
		    "spool (%s).",
		    strerror(errno));
		goto out;
	}
	ext = i2g_sniff(img, len, &sniffed_ct);
	ctype = json_string_value(json_object_get(job->entry, "content_type"));
	if (ctype == NULL)
		ctype = ext != NULL ? sniffed_ct : "application/octet-stream";
	/* The name lets FAL's logs (and the test double) tell files apart. */
	snprintf(name, sizeof(name), "%s_%d.%s", job->id, job->file,
	    ext != NULL ? ext : "bin");
	j = json_pack("{s:s, s:s}", "content_type", ctype, "file_name", name);
	if (j != NULL)
		body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	j = NULL;
	if (body == NULL) {
		snprintf(r->err, r->errlen, "Out of memory.");
		goto out;
	}
	snprintf(url, sizeof(url),
	    "%s/storage/upload/initiate?storage_type=fal-cdn-v3",
	    r->cfg->fal_rest_url);
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.url = url;
	rq.auth = 1;
	rq.ctype = "application/json";
	rq.body = body;
	rq.len = strlen(body);
	rq.attempts = CALL_TRIES;
	rq.fd = -1;
	rq.deadline_ms = r->deadline;
	fr = fal_call(r->w, &rq, &rs);
	if (fr != FR_OK) {
		bs = call_failed(r, fr, &rs, "upload");
		goto out;
	}
	j = json_loadb(rs.body, rs.len, 0, NULL);
	up = json_string_value(json_object_get(j, "upload_url"));
	fu = json_string_value(json_object_get(j, "file_url"));
	if (up == NULL || fu == NULL || strlen(fu) >= urllen) {
		snprintf(r->err, r->errlen,
		    "FAL's storage answered without an upload URL.");
		goto out;
	}
	snprintf(file_url, urllen, "%s", fu);

	/* The presigned URL: no key, the bytes as they are. */
	memset(&rq, 0, sizeof(rq));
	rq.method = "PUT";
	rq.url = up;
	rq.ctype = ctype;
	rq.body = img;
	rq.len = len;
	rq.attempts = CALL_TRIES;
	rq.fd = -1;
	rq.deadline_ms = r->deadline;
	rq.timeout_ms = r->w->timeout_ms * 10;
	fr = fal_call(r->w, &rq, &rs);
	if (fr != FR_OK) {
		bs = call_failed(r, fr, &rs, "upload");
		goto out;
	}
	bs = BACKEND_OK;
out:
	json_decref(j);
	fal_resp_free(&rs);
	free(body);
	free(img);
	return bs;
}

/*
 * A URL from FAL's answer, used only when it points at FAL_QUEUE_URL
 * (the key goes with it); else the documented form built from owner/alias.
 */
static int
pick_url(struct run *r, json_t *ans, const char *field, const char *rid,
    const char *suffix, char *out, size_t len)
{
	const char *u = json_string_value(json_object_get(ans, field));
	const char *base = r->cfg->fal_queue_url;
	char oa[256];

	if (u != NULL && strncmp(u, base, strlen(base)) == 0 &&
	    u[strlen(base)] == '/' && strlen(u) < len) {
		snprintf(out, len, "%s", u);
		return 0;
	}
	if (fal_owner_alias(r->m->fal_id, oa, sizeof(oa)) == -1)
		return -1;
	return snprintf(out, len, "%s/%s/requests/%s%s", base, oa, rid,
	           suffix) >= (int)len
	    ? -1
	    : 0;
}

/* Submit the file; on success r->rec is the durable request record. */
static enum backend_status
submit(struct run *r, const char *file_url)
{
	struct job *job = r->job;
	struct fal_resp rs = {0};
	struct fal_req rq;
	enum fal_result fr;
	enum backend_status bs = BACKEND_FAILED;
	char url[1024], su[1024], ru[1024], cu[1024];
	char *body = NULL;
	const char *rid;
	json_t *in, *ans = NULL, *qp;
	int tries;

	in = fal_build_input(r->m, job->params, job->face_limit, file_url);
	if (in != NULL)
		body = json_dumps(in, JSON_COMPACT);
	json_decref(in);
	if (body == NULL) {
		snprintf(r->err, r->errlen, "Out of memory.");
		goto out;
	}
	snprintf(
	    url, sizeof(url), "%s/%s", r->cfg->fal_queue_url, r->m->fal_id);
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.url = url;
	rq.auth = 1;
	rq.ctype = "application/json";
	rq.body = body;
	rq.len = strlen(body);
	rq.attempts = CALL_TRIES;
	rq.fd = -1;
	rq.deadline_ms = r->deadline;
	fr = fal_call(r->w, &rq, &rs);
	if (fr != FR_OK) {
		bs = call_failed(r, fr, &rs, "request");
		goto out;
	}
	ans = json_loadb(rs.body, rs.len, 0, NULL);
	rid = json_string_value(json_object_get(ans, "request_id"));
	if (rid == NULL || rid[0] == '\0' || strlen(rid) > 128 ||
	    strchr(rid, '/') != NULL ||
	    pick_url(r, ans, "status_url", rid, "/status", su, sizeof(su)) ||
	    pick_url(r, ans, "response_url", rid, "", ru, sizeof(ru)) ||
	    pick_url(r, ans, "cancel_url", rid, "/cancel", cu, sizeof(cu))) {
		/* It was accepted (2xx): sending it again could pay twice. */
		snprintf(r->err, r->errlen,
		    "FAL accepted the request but its answer could not be "
		    "read; it was not sent again so that it is not paid "
		    "twice. Retry the file to submit it anew.");
		log_warnx("%s: unreadable submit answer (HTTP %ld, %zu bytes)",
		    job->marker, rs.code, rs.len);
		goto out;
	}
	r->rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s}",
	    "provider", "fal", "model", r->m->fal_id, "request_id", rid,
	    "status_url", su, "response_url", ru, "cancel_url", cu, "submitted",
	    (json_int_t)spool_now_ms(), "deadline", (json_int_t)r->deadline,
	    "file_url", file_url);
	/* Durable before anything else; one retry for a passing hiccup. */
	for (tries = 0; tries < 2; tries++) {
		if (r->rec != NULL && job_remote_save(job, r->rec) == 0)
			break;
		usleep(100 * 1000);
	}
	if (tries == 2) {
		snprintf(r->err, r->errlen,
		    "The FAL request could not be recorded on the server's "
		    "disk (%s); it was cancelled at FAL.",
		    strerror(errno));
		if (r->rec == NULL)
			r->rec = json_pack("{s:s}", "cancel_url", cu);
		cancel_at_fal(r);
		goto out;
	}
	log_info(
	    "%s: submitted to FAL %s as %s", job->marker, r->m->fal_id, rid);
	qp = json_object_get(ans, "queue_position");
	progress(r, FS_IN_QUEUE, 8,
	    json_is_integer(qp) ? (int)json_integer_value(qp) : 0,
	    "In FAL's queue", 1);
	bs = BACKEND_OK;
out:
	json_decref(ans);
	fal_resp_free(&rs);
	free(body);
	return bs;
}

/* Sleep one poll interval unless the daemon stops or a cancel arrives. */
static void
poll_wait(struct run *r)
{
	long ms = r->cfg->fal_poll_ms;
	struct timespec ts;

	while (ms > 0 && !atomic_load(&daemon_stopping)) {
		long step = ms < 50 ? ms : 50;

		ts.tv_sec = 0;
		ts.tv_nsec = step * 1000000L;
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/* Progress 15..90 while FAL runs the model. */
static int
run_progress(struct run *r, json_t *logs)
{
	long long el = spool_now_ms() - r->proc_start;
	long long typ = (long long)r->m->typical_s * 1000;
	int p = fal_logs_progress(logs);

	if (p < 0) {
		/* No log says: elapsed time against the typical run. */
		if (typ <= 0)
			typ = 60000;
		p = el < typ ? (int)(el * 90 / typ)
		             : 90 + (int)(9 - 9 * typ / (el > 0 ? el : 1));
	}
	return 15 + p * 75 / 100;
}

/*
 * Poll until COMPLETED.  BACKEND_OK when it completed without an error;
 * cancel requests and the deadline are honoured between polls.
 */
static enum backend_status
poll_status(struct run *r)
{
	struct job *job = r->job;
	struct fal_resp rs = {0};
	struct fal_req rq;
	enum fal_result fr;
	enum backend_status bs = BACKEND_FAILED;
	char url[1100], msg[128];
	const char *st, *su;
	json_t *j = NULL, *qp;
	int bad = 0;

	su = json_string_value(json_object_get(r->rec, "status_url"));
	snprintf(url, sizeof(url), "%s?logs=1", su);
	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.url = url;
	rq.auth = 1;
	rq.attempts = 0; /* a paid request: keep asking until the deadline */
	rq.idempotent = 1;
	rq.fd = -1;
	rq.deadline_ms = r->deadline;
	for (;;) {
		json_decref(j);
		j = NULL;
		if (atomic_load(&daemon_stopping)) {
			bs = BACKEND_HANDBACK;
			goto out;
		}
		if (job_cancel_requested(job)) {
			bs = cancel_at_fal(r) == -1 ? BACKEND_HANDBACK
			                            : BACKEND_CANCELLED;
			goto out;
		}
		if (spool_now_ms() >= r->deadline)
			goto deadline;
		fr = fal_call(r->w, &rq, &rs);
		if (fr == FR_DEADLINE)
			goto deadline;
		if (fr == FR_HTTP && rs.code == 404) {
			snprintf(r->err, r->errlen,
			    "FAL no longer knows this request (it may have "
			    "expired); retry the file.");
			goto out;
		}
		if (fr != FR_OK) {
			bs = call_failed(r, fr, &rs, "status");
			goto out;
		}
		j = json_loadb(rs.body, rs.len, 0, NULL);
		st = json_string_value(json_object_get(j, "status"));
		if (st == NULL) {
			/* A cut answer: ask again, but not forever. */
			if (++bad >= CALL_TRIES) {
				snprintf(r->err, r->errlen,
				    "FAL's status answers could not be read.");
				goto out;
			}
			poll_wait(r);
			continue;
		}
		bad = 0;
		if (strcmp(st, "COMPLETED") == 0) {
			const char *e =
			    json_string_value(json_object_get(j, "error"));
			const char *et =
			    json_string_value(json_object_get(j, "error_type"));

			if (e != NULL) {
				char text[256];

				snprintf(text, sizeof(text), "%s", e);
				snprintf(r->err, r->errlen,
				    "The model failed at FAL: %s%s%s%s", text,
				    et != NULL ? " (" : "",
				    et != NULL ? et : "",
				    et != NULL ? ")" : "");
				goto out;
			}
			bs = BACKEND_OK;
			goto out;
		}
		if (strcmp(st, "IN_QUEUE") == 0) {
			qp = json_object_get(j, "queue_position");
			snprintf(msg, sizeof(msg),
			    "In FAL's queue (position %d)",
			    json_is_integer(qp) ? (int)json_integer_value(qp)
			                        : 0);
			progress(r, FS_IN_QUEUE, 8,
			    json_is_integer(qp) ? (int)json_integer_value(qp)
			                        : 0,
			    msg, 0);
		} else {
			if (r->proc_start == 0)
				r->proc_start = spool_now_ms();
			progress(r, FS_PROCESSING,
			    run_progress(r, json_object_get(j, "logs")), -1,
			    "Generating the model at FAL", 0);
		}
		poll_wait(r);
	}
deadline:
	/* Past the deadline: stop paying for it. */
	cancel_at_fal(r);
	bs = call_failed(r, FR_DEADLINE, &rs, "status");
	snprintf(r->err + strlen(r->err), r->errlen - strlen(r->err),
	    " The request was cancelled at FAL.");
out:
	json_decref(j);
	fal_resp_free(&rs);
	return bs;
}

/* GET the result; *result gets it (new reference). */
static enum backend_status
fetch_result(struct run *r, json_t **result)
{
	struct fal_resp rs = {0};
	struct fal_req rq;
	enum fal_result fr;
	enum backend_status bs = BACKEND_FAILED;
	char text[256];
	json_t *j = NULL;
	int tries;

	*result = NULL;
	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.url = json_string_value(json_object_get(r->rec, "response_url"));
	rq.auth = 1;
	rq.attempts = CALL_TRIES;
	rq.idempotent = 1;
	rq.fd = -1;
	for (tries = 0; tries < CALL_TRIES; tries++) {
		fr = fal_call(r->w, &rq, &rs);
		if (fr != FR_OK)
			break;
		j = json_loadb(rs.body, rs.len, 0, NULL);
		if (j != NULL)
			break;
		/* A cut answer: the next GET gives it whole. */
		usleep((useconds_t)r->w->backoff_ms * 1000);
	}
	if (fr == FR_HTTP && (rs.code == 404 || rs.code == 410)) {
		snprintf(r->err, r->errlen,
		    "FAL no longer has the result of this file (it expired "
		    "before it could be fetched); retry the file.");
		goto out;
	}
	if (fr == FR_HTTP && rs.code == 499) {
		snprintf(r->err, r->errlen, "FAL cancelled the request.");
		goto out;
	}
	if (fr == FR_HTTP && rs.code >= 400 && rs.code < 500) {
		/* The model's own error comes back as the result. */
		fal_error_text(&rs, text, sizeof(text));
		snprintf(
		    r->err, r->errlen, "The model failed at FAL: %s", text);
		goto out;
	}
	if (fr != FR_OK) {
		bs = call_failed(r, fr, &rs, "result");
		goto out;
	}
	if (j == NULL) {
		snprintf(r->err, r->errlen, "FAL's result could not be read.");
		goto out;
	}
	if (!json_is_string(
	        json_object_get(json_object_get(j, "model_mesh"), "url"))) {
		snprintf(r->err, r->errlen,
		    "FAL's result has no model (model_mesh).");
		goto out;
	}
	*result = j;
	j = NULL;
	bs = BACKEND_OK;
out:
	json_decref(j);
	fal_resp_free(&rs);
	return bs;
}

/* An unnamed file in out/ for a download (it never shows in out/). */
static int
tmp_open(int dir, int file)
{
	char name[64];
	int fd;

	fd = openat(dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0640);
	if (fd != -1 ||
	    (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	snprintf(name, sizeof(name), ".fal-%d-%lld.part", file, spool_now_ms());
	fd = openat(dir, name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0640);
	if (fd != -1)
		unlinkat(dir, name, 0);
	return fd;
}

/*
 * GET url (a CDN link: no key) into out/<name> atomically.  magic, when
 * not NULL, must start the file.  0, or -1 with r->err set.
 */
static enum backend_status
download(struct run *r, const char *url, long long cap, const char *magic,
    char *name, size_t namelen, const char *ext, long long *size,
    const char **sniffed)
{
	struct fal_resp rs = {0};
	struct fal_req rq;
	enum fal_result fr;
	enum backend_status bs = BACKEND_FAILED;
	unsigned char head[16];
	off_t copied = 0;
	ssize_t n;
	int fd;

	fd = tmp_open(r->job->outdir, r->job->file);
	if (fd == -1) {
		snprintf(r->err, r->errlen,
		    "No temporary file for the download (%s).",
		    strerror(errno));
		return BACKEND_FAILED;
	}
	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.url = url;
	rq.attempts = CALL_TRIES;
	rq.idempotent = 1;
	rq.fd = fd;
	rq.cap = cap;
	rq.timeout_ms = r->w->timeout_ms * 10;
	fr = fal_call(r->w, &rq, &rs);
	if (fr != FR_OK) {
		bs = call_failed(r, fr, &rs, "download");
		goto out;
	}
	n = pread(fd, head, sizeof(head), 0);
	if (n < 0)
		n = 0;
	if (magic != NULL &&
	    ((size_t)n < strlen(magic) || memcmp(head, magic, strlen(magic)))) {
		snprintf(r->err, r->errlen,
		    "FAL returned a model that is not a GLB file.");
		goto out;
	}
	if (sniffed != NULL) {
		*sniffed = i2g_sniff(head, (size_t)n, NULL);
		if (*sniffed == NULL) {
			snprintf(r->err, r->errlen,
			    "The preview is not a PNG, JPEG or WebP image.");
			goto out;
		}
		ext = *sniffed;
	}
	snprintf(name, namelen, "%d.%s", r->job->file, ext);
	if (lseek(fd, 0, SEEK_SET) == -1 ||
	    spool_copy_atomic(r->job->outdir, name, fd, &copied) == -1) {
		snprintf(r->err, r->errlen,
		    errno == ENOSPC ? "The server's disk is full; retry this "
		                      "file later (%s)."
		                    : "The model could not be saved (%s).",
		    strerror(errno));
		goto out;
	}
	*size = (long long)copied;
	bs = BACKEND_OK;
out:
	fal_resp_free(&rs);
	close(fd);
	return bs;
}

static enum backend_status
fetch_files(struct run *r, json_t *result)
{
	struct job *job = r->job;
	const char *mu, *iu, *ext = NULL;
	enum backend_status bs;
	char save[512];

	progress(r, FS_DOWNLOADING, 92, -1, "Downloading the model", 1);
	mu = json_string_value(
	    json_object_get(json_object_get(result, "model_mesh"), "url"));
	bs = download(r, mu, FAL_MESH_CAP, "glTF", job->result_model,
	    sizeof(job->result_model), "glb", &job->result_size, NULL);
	if (bs != BACKEND_OK)
		return bs;
	iu = json_string_value(
	    json_object_get(json_object_get(result, "rendered_image"), "url"));
	if (iu == NULL)
		return BACKEND_OK;
	/* The preview is a bonus: its failure does not fail the model. */
	snprintf(save, sizeof(save), "%s", r->err);
	bs = download(r, iu, FAL_IMAGE_CAP, NULL, job->result_image,
	    sizeof(job->result_image), "png", &job->result_image_size, &ext);
	if (bs == BACKEND_HANDBACK)
		return bs;
	if (bs != BACKEND_OK) {
		fal_redact(r->err, r->cfg->fal_key);
		log_warnx("%s: preview not kept: %s", job->marker, r->err);
		snprintf(r->err, r->errlen, "%s", save);
		job->result_image[0] = '\0';
		return BACKEND_OK;
	}
	snprintf(job->result_image_type, sizeof(job->result_image_type),
	    "image/%s", strcmp(ext, "jpg") == 0 ? "jpeg" : ext);
	return BACKEND_OK;
}

static void *
fal_worker_init(const struct config *cfg)
{
	return fal_worker_new(cfg);
}

static void
fal_worker_done(void *w)
{
	fal_worker_free(w);
}

static enum backend_status
fal_run(struct job *job, char *err, size_t errlen)
{
	struct run r;
	enum backend_status bs = BACKEND_FAILED;
	char file_url[1024];
	json_t *result = NULL, *dl;
	const char *rid;

	memset(&r, 0, sizeof(r));
	r.job = job;
	r.w = job->worker;
	r.cfg = job->cfg;
	r.err = err;
	r.errlen = errlen;
	r.last_st = r.last_prog = r.last_qpos = -2;
	r.m = models_find(job->model);
	if (r.w == NULL) {
		snprintf(err, errlen, "The FAL client could not start.");
		goto out;
	}
	if (r.m == NULL || r.m->fal_id == NULL || r.m->image_field == NULL) {
		snprintf(err, errlen, "The model \"%s\" does not run at FAL.",
		    job->model);
		goto out;
	}

	r.rec = job_remote_load(job);
	rid = json_string_value(json_object_get(r.rec, "request_id"));
	if (rid != NULL &&
	    json_is_string(json_object_get(r.rec, "status_url")) &&
	    json_is_string(json_object_get(r.rec, "response_url"))) {
		/* Submitted by an earlier run: resume, never submit again. */
		log_info("%s: resuming FAL request %s", job->marker, rid);
		dl = json_object_get(r.rec, "deadline");
		r.deadline = json_is_integer(dl)
		    ? json_integer_value(dl)
		    : spool_now_ms() + r.cfg->fal_deadline_s * 1000LL;
		slot_take(&r, 0); /* it is at FAL already: no waiting */
	} else {
		json_decref(r.rec);
		r.rec = NULL;
		if (r.cfg->fal_key[0] == '\0') {
			snprintf(err, errlen,
			    "This server has no FAL key (FAL_KEY).");
			goto out;
		}
		if ((bs = (enum backend_status)slot_take(&r, 1)) != 0)
			goto out;
		r.deadline = spool_now_ms() + r.cfg->fal_deadline_s * 1000LL;
		if ((bs = upload(&r, file_url, sizeof(file_url))) != BACKEND_OK)
			goto out;
		/* Last point at which a cancel costs nothing. */
		if (job_cancel_requested(job)) {
			bs = BACKEND_CANCELLED;
			goto out;
		}
		if (atomic_load(&daemon_stopping)) {
			bs = BACKEND_HANDBACK;
			goto out;
		}
		if ((bs = submit(&r, file_url)) != BACKEND_OK)
			goto out;
	}

	result = json_incref(json_object_get(r.rec, "result"));
	if (result == NULL) {
		if ((bs = poll_status(&r)) != BACKEND_OK)
			goto out;
		/* Completed = paid: counted once per request id (spend.c). */
		if (spool_spend_add(job->sp, NULL, models_price(r.m, job->params),
		        json_string_value(json_object_get(r.rec, "request_id")),
		        job->marker) == -1)
			log_warn("%s: counting the FAL spend", job->marker);
		if ((bs = fetch_result(&r, &result)) != BACKEND_OK)
			goto out;
		/* Keep it: a crash while downloading resumes here. */
		if (json_object_set(r.rec, "result", result) == -1 ||
		    job_remote_save(job, r.rec) == -1)
			log_warn("%s: saving the FAL result", job->marker);
	}
	slot_give(&r); /* done at FAL */
	if (job_cancel_requested(job)) {
		bs = BACKEND_CANCELLED;
		goto out;
	}
	bs = fetch_files(&r, result);
out:
	slot_give(&r);
	if (bs == BACKEND_FAILED)
		fal_redact(err, r.cfg->fal_key);
	json_decref(result);
	json_decref(r.rec);
	return bs;
}

const struct backend backend_fal = {
    .name = "fal",
    .worker_init = fal_worker_init,
    .worker_free = fal_worker_done,
    .run = fal_run,
};

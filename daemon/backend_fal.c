/*
 * backend_fal.c: the life of one file at FAL: wait at the gate (in-flight
 * cap, account health: fal_gate.c) → upload → submit → record → poll →
 * result → download into out/ (fal_fetch.c).  Calls are in fal_queue.c;
 * the model's fields come from its row in spool/models.c.
 *
 * Never paying for a model and throwing it away (docs/fal.md): a submit's
 * answer is in remote/<n>.json (fsynced) before anything else, and a file
 * with a record is resumed, never submitted again; a resumed request is
 * asked for its status before any deadline applies (COMPLETED = paid); a
 * cancel (the user's or FAL_DEADLINE_S) only asks FAL: a running request
 * may still finish and bill, so polling goes on for FAL_CANCEL_GRACE_S
 * and its model is kept; the result goes into the record before the
 * download, so a failed download is retried from the stored URL.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fal_queue.h"

#define IMAGE_CAP (1LL << 30) /* MAX_FILE_BYTES can be at most 1 GiB */

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
	struct fal_shown shown; /* what the status file has */
};

static void
slot_give(struct run *r)
{
	if (r->slot)
		fal_gate_slot_give();
	r->slot = 0;
}

/* Record a submit answer durably; BACKEND_OK or the reason. */
static enum backend_status
record(struct run *r, json_t *ans, const char *file_url)
{
	struct fal_resp rs = {0};

	r->rec = fal_q_record(r->cfg, r->m, ans, file_url, r->deadline);
	if (r->rec == NULL) {
		/* It was accepted (2xx): sending it again could pay twice. */
		snprintf(r->err, r->errlen,
		    "FAL accepted the request but its answer could not be read; it was not sent again so that it is not paid twice. Retry the file to submit it anew.");
		return BACKEND_FAILED;
	}
	/* Durable before anything else; one retry for a passing hiccup. */
	if (job_remote_save(r->job, r->rec) == 0 ||
	    job_remote_save(r->job, r->rec) == 0) {
		log_info("%s: submitted to FAL %s as %s", r->job->marker,
		    r->m->fal_id,
		    json_string_value(json_object_get(r->rec, "request_id")));
		return BACKEND_OK;
	}
	snprintf(r->err, r->errlen,
	    "The FAL request could not be recorded on the server's disk (%s); it was cancelled at FAL.",
	    strerror(errno));
	fal_q_cancel(r->w,
	    json_string_value(json_object_get(r->rec, "cancel_url")), &rs,
	    NULL);
	fal_resp_free(&rs);
	return BACKEND_FAILED;
}

/*
 * Upload and submit the file.  BACKEND_OK with r->rec set, BS_LOCKED when
 * the account refused, else the status to end with.
 */
static int
send_file(struct run *r)
{
	struct job *job = r->job;
	struct fal_resp rs = {0};
	enum fal_result fr;
	int bs = BACKEND_FAILED;
	char file_url[1024], *img = NULL;
	json_t *in = NULL, *ans = NULL, *qp;
	size_t len;

	fal_show(&r->shown, r->job, FS_UPLOADING, 3, -1,
	    "Uploading the image to FAL", 1);
	if (spool_read_file(AT_FDCWD, job->input, IMAGE_CAP, &img, &len) ==
	    -1) {
		snprintf(r->err, r->errlen,
		    "The uploaded image could not be read back from the spool (%s).",
		    strerror(errno));
		goto out;
	}
	fr = fal_q_upload(r->w, img, len,
	    json_string_value(json_object_get(job->entry, "content_type")),
	    job->file, r->deadline, file_url, sizeof(file_url), &rs);
	if (fr == FR_DENIED) {
		bs = fal_gate_refused(&rs);
		goto out;
	}
	if (fr != FR_OK) {
		bs = fal_failure(r->cfg, fr, &rs, "upload", r->err, r->errlen);
		goto out;
	}
	/* Last point at which a cancel costs nothing. */
	if (job_cancel_requested(job) || atomic_load(&daemon_stopping)) {
		bs = job_cancel_requested(job) ? BACKEND_CANCELLED
		                               : BACKEND_HANDBACK;
		goto out;
	}
	in = fal_build_input(r->m, job->params, file_url);
	fr = in != NULL
	    ? fal_q_submit(r->w, r->m->fal_id, in, r->deadline, &rs, &ans)
	    : FR_TRANSIENT;
	if (fr == FR_DENIED)
		bs = fal_gate_refused(&rs);
	else if (fr != FR_OK)
		bs = fal_failure(r->cfg, fr, &rs, "request", r->err, r->errlen);
	else if ((bs = record(r, ans, file_url)) == BACKEND_OK) {
		qp = json_object_get(ans, "queue_position");
		fal_show(&r->shown, r->job, FS_IN_QUEUE, 8,
		    json_is_integer(qp) ? (int)json_integer_value(qp) : 0,
		    "In FAL's queue", 1);
	}
out:
	json_decref(ans);
	json_decref(in);
	fal_resp_free(&rs);
	free(img);
	return bs;
}

/* Ask FAL to cancel (once per request; the time goes in the record). */
static void
cancel(struct run *r, const char *why)
{
	struct fal_resp rs = {0};

	fal_q_cancel(r->w,
	    json_string_value(json_object_get(r->rec, "cancel_url")), &rs,
	    NULL);
	log_info("%s: cancel (%s) sent to FAL: HTTP %ld", r->job->marker, why,
	    rs.code);
	json_object_set_new(
	    r->rec, "cancel_sent", json_integer((json_int_t)spool_now_ms()));
	json_object_set_new(r->rec, "cancel_why", json_string(why));
	if (job_remote_save(r->job, r->rec) == -1)
		log_warn("%s: saving the FAL record", r->job->marker);
	fal_resp_free(&rs);
}

/* How a cancelled request ends when FAL brought no model. */
static enum backend_status
cancelled(struct run *r)
{
	const char *why =
	    json_string_value(json_object_get(r->rec, "cancel_why"));

	if (why != NULL && strcmp(why, "user") == 0)
		return BACKEND_CANCELLED;
	snprintf(r->err, r->errlen,
	    "FAL did not finish this file within %d s (FAL_DEADLINE_S). The request was cancelled at FAL.",
	    r->cfg->fal_deadline_s);
	return BACKEND_FAILED;
}

/*
 * Poll until COMPLETED (BACKEND_OK; *done gets the answer).  Status comes
 * first, the deadline after: a resumed request may be done and paid.
 */
static enum backend_status
poll(struct run *r, json_t **done)
{
	struct fal_resp rs = {0};
	enum backend_status bs = BACKEND_FAILED;
	enum fal_result fr;
	const char *su =
	    json_string_value(json_object_get(r->rec, "status_url"));
	const char *st, *want;
	long long sent, giveup;
	json_t *j = NULL;
	int bad = 0;

	for (;; fal_nap(r->cfg->fal_poll_ms)) {
		/* NULL again: a stop right below leaves through out's decref. */
		json_decref(j);
		j = NULL;
		sent =
		    json_integer_value(json_object_get(r->rec, "cancel_sent"));
		giveup = (sent > 0 ? sent : r->deadline) +
		    r->cfg->fal_cancel_grace_s * 1000LL;
		if (atomic_load(&daemon_stopping)) {
			bs = BACKEND_HANDBACK;
			goto out;
		}
		fr = fal_q_status(r->w, su, giveup, &rs, &j);
		if (fr == FR_HTTP && rs.code == 404) {
			if (sent > 0)
				bs = cancelled(r);
			else
				snprintf(r->err, r->errlen,
				    "FAL no longer knows this request (it may have expired); retry the file.");
			goto out;
		}
		if (fr == FR_DEADLINE ||
		    (fr == FR_OK && sent > 0 && spool_now_ms() >= giveup)) {
			bs = sent > 0 ? cancelled(r)
			              : fal_failure(r->cfg, fr, &rs, "", r->err,
			                    r->errlen);
			goto out;
		}
		if (fr != FR_OK) {
			bs = fal_failure(
			    r->cfg, fr, &rs, "status", r->err, r->errlen);
			goto out;
		}
		st = json_string_value(json_object_get(j, "status"));
		if (st == NULL) {
			/* A cut answer: ask again, but not forever. */
			if (++bad < FAL_TRIES)
				continue;
			snprintf(r->err, r->errlen,
			    "FAL's status answers could not be read.");
			goto out;
		}
		bad = 0;
		if (strcmp(st, "COMPLETED") == 0) {
			*done = j;
			j = NULL;
			bs = BACKEND_OK;
			goto out;
		}
		fal_show_status(&r->shown, r->job, r->m, j,
		    json_object_get(r->rec, "cancel_sent") != NULL);
		want = job_cancel_requested(r->job) ? "user"
		    : spool_now_ms() >= r->deadline ? "deadline"
		                                    : NULL;
		if (want != NULL && sent == 0)
			cancel(r, want);
	}
out:
	json_decref(j);
	fal_resp_free(&rs);
	return bs;
}

/*
 * COMPLETED: fetch the result (once, also for an error: its detail says
 * why, §8.6) and keep it in the record before anything is downloaded.
 */
static enum backend_status
completed(struct run *r, json_t *done)
{
	struct fal_resp rs = {0};
	enum backend_status bs = BACKEND_FAILED;
	enum fal_result fr;
	const char *e = json_string_value(json_object_get(done, "error"));
	json_t *res = NULL;

	fr = fal_q_result(r->w,
	    json_string_value(json_object_get(r->rec, "response_url")), &rs,
	    &res);
	if (json_object_get(r->rec, "cancel_sent") != NULL &&
	    (e != NULL || (fr == FR_HTTP && rs.code == 499)))
		bs = cancelled(r);
	else if (e != NULL ||
	    (fr == FR_HTTP && rs.code >= 400 && rs.code < 500 &&
	        rs.code != 404 && rs.code != 410))
		fal_model_error(done, res, r->err, r->errlen);
	else if (fr == FR_HTTP && (rs.code == 404 || rs.code == 410))
		snprintf(r->err, r->errlen,
		    "FAL no longer has the result of this file (it expired before it could be fetched); retry the file.");
	else if (fr != FR_OK)
		bs = fal_failure(r->cfg, fr, &rs, "result", r->err, r->errlen);
	else if (fal_mesh_url(r->m, res, NULL) == NULL)
		snprintf(r->err, r->errlen,
		    "FAL's result has no model (none of the fields this model's row names).");
	else {
		/* Paid: keep it, a failed download is retried from here. */
		if (json_object_set(r->rec, "result", res) == -1 ||
		    job_remote_save(r->job, r->rec) == -1)
			log_warn("%s: saving the FAL result", r->job->marker);
		bs = BACKEND_OK;
	}
	/* Completed = paid: counted once per request id (spend.c). */
	if (e == NULL &&
	    spool_spend_add(r->job->sp, NULL,
	        models_price(r->m, r->job->params),
	        json_string_value(json_object_get(r->rec, "request_id")),
	        r->job->marker) == -1)
		log_warn("%s: counting the FAL spend", r->job->marker);
	json_decref(res);
	fal_resp_free(&rs);
	return bs;
}

/* The model is in out/: say so when a cancel came too late to save money. */
static void
kept_message(struct run *r)
{
	const char *why =
	    json_string_value(json_object_get(r->rec, "cancel_why"));

	if (why == NULL && !job_cancel_requested(r->job))
		return;
	snprintf(r->job->result_message, sizeof(r->job->result_message),
	    "%s after FAL had started the model; FAL finished it and charged for it, so the model was kept.",
	    why != NULL && strcmp(why, "deadline") == 0
	        ? "FAL_DEADLINE_S passed"
	        : "The cancel came");
}

static enum backend_status
fal_run(struct job *job, char *err, size_t errlen)
{
	struct run r = {.job = job,
	    .w = job->worker,
	    .cfg = job->cfg,
	    .err = err,
	    .errlen = errlen,
	    .shown = {.st = -2}};
	enum backend_status bs = BACKEND_FAILED;
	json_t *done = NULL;
	int rc;

	r.m = models_find(job->model);
	if (r.w == NULL || r.m == NULL || r.m->fal_id == NULL) {
		snprintf(err, errlen,
		    "The model \"%s\" cannot run at FAL here.", job->model);
		goto out;
	}
	r.rec = job_remote_load(job);
	if (json_is_string(json_object_get(r.rec, "request_id"))) {
		/* Submitted by an earlier run: resume, never submit again. */
		log_info("%s: resuming FAL request %s", job->marker,
		    json_string_value(json_object_get(r.rec, "request_id")));
		r.deadline =
		    json_integer_value(json_object_get(r.rec, "deadline"));
		r.slot = fal_gate_slot(0, 0); /* at FAL already: no waiting */
	} else {
		json_decref(r.rec);
		r.rec = NULL;
		if (r.cfg->fal_key[0] == '\0') {
			snprintf(err, errlen,
			    "This server has no FAL key (FAL_KEY).");
			goto out;
		}
		/* A 403 on upload or submit: back to the gate, not failed. */
		for (rc = BS_LOCKED; rc == BS_LOCKED; slot_give(&r)) {
			if ((rc = fal_gate_enter(r.w, job)) != 0) {
				bs = (enum backend_status)rc;
				goto out;
			}
			r.slot = 1;
			r.deadline =
			    spool_now_ms() + r.cfg->fal_deadline_s * 1000LL;
			if ((rc = send_file(&r)) != BS_LOCKED)
				break;
		}
		if ((bs = (enum backend_status)rc) != BACKEND_OK)
			goto out;
	}
	if (json_object_get(r.rec, "result") == NULL &&
	    ((bs = poll(&r, &done)) != BACKEND_OK ||
	        (bs = completed(&r, done)) != BACKEND_OK))
		goto out;
	slot_give(&r); /* done at FAL */
	fal_show(
	    &r.shown, job, FS_DOWNLOADING, 92, -1, "Downloading the model", 1);
	bs = fal_fetch_files(
	    r.w, job, r.m, json_object_get(r.rec, "result"), err, errlen);
	if (bs == BACKEND_OK)
		kept_message(&r);
out:
	slot_give(&r);
	if (bs == BACKEND_FAILED)
		fal_redact(err, r.cfg->fal_key);
	json_decref(done);
	json_decref(r.rec);
	return bs;
}

const struct backend backend_fal = {
    .name = "fal",
    .check = fal_models_check,
    .status = fal_gate_status,
    .worker_init = fal_worker_init,
    .worker_free = fal_worker_done,
    .run = fal_run,
};

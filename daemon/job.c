/*
 * job.c: one claimed file, from marker to final status.
 *
 * Order of writes (spool/README.md, "Life of a batch"): every state change
 * goes to state/<n>.json before the next step starts; the final status is
 * written before the marker is removed.  So a crash anywhere leaves either
 * a marker to run again or a final status that a re-run recognises and
 * skips: a file is never completed twice, and a provider request recorded
 * in remote/<n>.json is resumed, never submitted again.
 *
 * A marker is never just dropped: when the final status cannot be written
 * (a full disk) or the batch cannot be read for a reason that may pass
 * (permissions, I/O), the marker goes back to q/new after a pause and the
 * file is finished later; only a batch that is gone (retention) or a file
 * whose failure was recorded loses its marker.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#define JOB_RETRY_PAUSE_MS \
	1000 /* before a file that could not be finished is queued again */

atomic_int daemon_stopping;

const struct backend *const job_backends[JOB_NBACKENDS] = {
    &backend_local,
    &backend_fal,
};

int
job_backends_check(const struct config *cfg, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < JOB_NBACKENDS; i++)
		if (job_backends[i]->check != NULL &&
		    job_backends[i]->check(cfg, err, errlen) == -1)
			return -1;
	return 0;
}

json_t *
job_backends_status(const struct config *cfg)
{
	json_t *j = json_pack("{s:[]}", "backends"), *s;
	int i;

	for (i = 0; j != NULL && i < JOB_NBACKENDS; i++) {
		json_array_append_new(json_object_get(j, "backends"),
		    json_string(job_backends[i]->name));
		if (job_backends[i]->status == NULL)
			continue;
		s = job_backends[i]->status(cfg);
		if (s != NULL)
			json_object_update(j, s);
		json_decref(s);
	}
	return j;
}

static int
backend_index(const char *model)
{
	const struct model_info *m = models_find(model);
	int i;

	if (m == NULL)
		return -1;
	for (i = 0; i < JOB_NBACKENDS; i++)
		if (strcmp(job_backends[i]->name, m->provider) == 0)
			return i;
	return -1;
}

int
job_progress(struct job *job, enum file_state st, int progress,
    int queue_position, const char *message)
{
	json_t *p;
	long long rc;

	if (progress < 0)
		progress = 0;
	if (progress > 100)
		progress = 100;
	/* clang-format off */
	p = json_pack("{s:s, s:i, s:o, s:s}",
	    "status", file_state_name(st),
	    "progress", progress,
	    "queue_position", queue_position >= 0 ? json_integer(queue_position) : json_null(),
	    "message", message != NULL ? message : "");
	/* clang-format on */
	if (p == NULL) {
		errno = ENOMEM;
		return -1;
	}
	rc = spool_status_update(job->sp, job->id, job->file, p, -1);
	json_decref(p);
	if (rc == -1) {
		log_warn("%s: status", job->marker);
		return -1;
	}
	return 0;
}

int
job_cancel_requested(struct job *job)
{
	return spool_cancel_requested(job->sp, job->id, job->file);
}

int
job_remote_save(struct job *job, json_t *rec)
{
	return spool_remote_put(job->sp, job->id, job->file, rec);
}

json_t *
job_remote_load(struct job *job)
{
	return spool_remote_get(job->sp, job->id, job->file);
}

/* Fill job from the batch; -1 when the batch or file is gone. */
static int
job_load(struct job *job)
{
	const char *input;
	json_t *fl;

	job->batch = spool_batch_get(job->sp, job->id);
	if (job->batch == NULL)
		return -1;
	job->entry = json_array_get(
	    json_object_get(job->batch, "files"), (size_t)job->file);
	job->model = json_string_value(json_object_get(job->batch, "model"));
	job->params = json_object_get(job->batch, "params");
	input = json_string_value(json_object_get(job->entry, "input"));
	if (job->entry == NULL || job->model == NULL) {
		errno = EBADMSG;
		return -1;
	}
	/*
	 * An older batch keeps face_limit beside its params: it is one of the
	 * model's parameters, so fold it in (a params value wins) and the
	 * backends read every parameter from params.
	 */
	fl = json_object_get(job->batch, "face_limit");
	if (json_is_integer(fl) && json_is_object(job->params) &&
	    json_object_get(job->params, "face_limit") == NULL)
		json_object_set(job->params, "face_limit", fl);
	if (spool_input_path(
	        job->sp, job->id, input, job->input, sizeof(job->input)) == -1)
		return -1;
	job->outdir = spool_out_dir(job->sp, job->id);
	return job->outdir == -1 ? -1 : 0;
}

/* The status patch of a failed file: why, and when it ended. */
static json_t *
failed_patch(const char *err)
{
	/* clang-format off */
	return json_pack("{s:s, s:n, s:s, s:s, s:I}",
	    "status", "failed",
	    "queue_position",
	    "message", "Failed",
	    "error", err,
	    "finished", (json_int_t)spool_now_ms());
	/* clang-format on */
}

/* Write the final status of a job; 0 or -1. */
static int
job_finish(
    struct job *job, enum backend_status bs, const char *err, long long started)
{
	json_t *p;
	long long rc;

	switch (bs) {
	case BACKEND_OK:
		/* clang-format off */
		p = json_pack("{s:s, s:i, s:n, s:s, s:n, s:s, s:I, s:s?, s:s?," " s:o, s:I}",
		    "status", "completed",
		    "progress", 100,
		    "queue_position",
		    "message", job->result_message[0] ? job->result_message : "Model ready",
		    "error",
		    "model_file", job->result_model,
		    "file_size", (json_int_t)job->result_size,
		    "rendered_image_file", job->result_image[0] ? job->result_image : NULL,
		    "rendered_image_type", job->result_image[0] ? job->result_image_type : NULL,
		    "rendered_image_size", job->result_image[0] ? json_integer(job->result_image_size) : json_null(),
		    "finished", (json_int_t)spool_now_ms());
		/* clang-format on */
		if (p != NULL && job->result_extra != NULL)
			json_object_update(p, job->result_extra);
		break;
	case BACKEND_CANCELLED:
		/* clang-format off */
		p = json_pack("{s:s, s:n, s:s, s:n, s:I}",
		    "status", "cancelled",
		    "queue_position",
		    "message", "Cancelled by the user",
		    "error",
		    "finished", (json_int_t)spool_now_ms());
		/* clang-format on */
		break;
	default:
		p = failed_patch(err);
		break;
	}
	if (p == NULL) {
		errno = ENOMEM;
		return -1;
	}
	rc = spool_status_update(job->sp, job->id, job->file, p, -1);
	json_decref(p);
	if (rc == -1)
		return -1;
	log_info("%s: %s in %lld ms%s%s", job->marker,
	    bs == BACKEND_OK              ? "completed"
	        : bs == BACKEND_CANCELLED ? "cancelled"
	                                  : "failed",
	    spool_now_ms() - started, bs == BACKEND_FAILED ? ": " : "",
	    bs == BACKEND_FAILED ? err : "");
	return 0;
}

/* The daemon is stopping: the file waits again for the next one. */
static void
job_handback(struct job *job, const char *owner)
{
	json_t *patch;

	/* clang-format off */
	patch = json_pack("{s:s, s:s}",
	    "message", "Waiting for a worker (the server restarted)",
	    "status", "queued");
	/* clang-format on */
	if (patch != NULL)
		spool_status_update(job->sp, job->id, job->file, patch, -1);
	json_decref(patch);
	if (spool_queue_release(job->sp, owner, job->marker) == -1)
		log_warn("%s: hand back", job->marker);
	else
		log_info("%s: handed back", job->marker);
}

/*
 * The file could not be finished now (its final status is not durable, or
 * its batch could not be read): its marker goes back to q/new after a
 * pause, so a full disk is retried at a walking pace, never dropped.
 */
static void
job_later(struct spool *sp, const char *owner, const char *marker)
{
	struct timespec ts = {
	    JOB_RETRY_PAUSE_MS / 1000, (JOB_RETRY_PAUSE_MS % 1000) * 1000000L};

	if (!atomic_load(&daemon_stopping))
		nanosleep(&ts, NULL);
	if (spool_queue_release(sp, owner, marker) == -1)
		log_warn("%s: hand back", marker);
}

/*
 * The batch of marker cannot be loaded (errno says why): 1 when the marker
 * may go (the batch is gone, or the failure is now recorded in the file's
 * status), 0 when it must stay.
 */
static int
job_unloadable(struct spool *sp, struct job *job, const char *marker)
{
	char msg[256];
	json_t *patch;
	int err = errno, gone;

	if (job->id[0] == '\0') {
		log_warnx("%s: not a marker; removing it", marker);
		return 1;
	}
	gone = spool_batch_dir(sp, job->id, NULL);
	if (gone == -1 && (errno == ENOENT || errno == ENOTDIR)) {
		log_info("%s: the batch is gone; removing the marker", marker);
		return 1;
	}
	if (gone != -1)
		close(gone);
	snprintf(msg, sizeof(msg),
	    "The server could not read this file's data (%s); an operator has to look at the spool.",
	    strerror(err));
	patch = failed_patch(msg);
	if (patch != NULL &&
	    spool_status_update(sp, job->id, job->file, patch, -1) != -1) {
		json_decref(patch);
		log_warnx("%s: cannot load the batch (%s); failed", marker,
		    strerror(err));
		return 1;
	}
	json_decref(patch);
	log_warn(
	    "%s: cannot load the batch (%s) nor record it; keeping the marker",
	    marker, strerror(err));
	return 0;
}

/*
 * A file still "processing" when claimed: the run before never ended (the
 * daemon died during it).  The count lives in the state file, so it is
 * durable across crashes.  Returns the new count, or -1 when the file has
 * been interrupted too often and was failed here instead of run again.
 */
static json_int_t
job_interrupted(
    struct job *job, json_t *st, int state, int bi, long long started)
{
	char err[512];
	json_t *patch;
	json_int_t interrupted;

	interrupted = json_integer_value(json_object_get(st, "interrupted")) +
	    (state == FS_PROCESSING);
	if (job_backends[bi]->max_interrupted <= 0 ||
	    interrupted < job_backends[bi]->max_interrupted)
		return interrupted;
	snprintf(err, sizeof(err),
	    "The server stopped (crashed or was killed) while converting this file %lld times, so it is not run again; an image that needs more memory or time than the server has can cause this.",
	    (long long)interrupted);
	patch = json_pack("{s:I}", "interrupted", interrupted);
	if (patch != NULL)
		spool_status_update(job->sp, job->id, job->file, patch, -1);
	json_decref(patch);
	job_finish(job, BACKEND_FAILED, err, started);
	return -1;
}

/* The state a run starts from: attempt counted, interruptions carried. */
static int
job_mark_processing(
    struct job *job, json_t *st, json_int_t interrupted, long long started)
{
	json_t *patch;
	int rc;

	/* clang-format off */
	patch = json_pack("{s:s, s:i, s:s, s:n, s:I, s:I, s:I}",
	    "status", "processing",
	    "progress", 2,
	    "message", "Starting",
	    "error",
	    "attempt", (json_int_t)(json_integer_value(json_object_get(st, "attempt")) + 1),
	    "interrupted", interrupted,
	    "started", (json_int_t)started);
	/* clang-format on */
	if (patch == NULL)
		return -1;
	rc = spool_status_update(job->sp, job->id, job->file, patch, -1);
	json_decref(patch);
	return rc;
}

void
job_run(struct spool *sp, const struct config *cfg, const char *owner,
    const char *marker, void *wstate[JOB_NBACKENDS])
{
	struct job job;
	char err[512] = "";
	enum backend_status bs;
	json_t *st = NULL;
	long long started = spool_now_ms();
	int state, bi;
	json_int_t interrupted;

	memset(&job, 0, sizeof(job));
	job.sp = sp;
	job.cfg = cfg;
	job.outdir = -1;
	snprintf(job.marker, sizeof(job.marker), "%s", marker);
	if (spool_marker_parse(marker, job.id, &job.file) == -1) {
		job.id[0] = '\0';
		if (job_unloadable(sp, &job, marker))
			goto done;
		goto out;
	}
	if (job_load(&job) == -1) {
		/* Retention removed it, or it is unreadable: never silently. */
		if (job_unloadable(sp, &job, marker))
			goto done;
		job_later(sp, owner, marker);
		goto out;
	}
	st = spool_status_get(sp, job.id, job.file);
	state = st != NULL
	    ? file_state_parse(json_string_value(json_object_get(st, "status")))
	    : -1;
	if (state >= 0 && file_state_final((enum file_state)state)) {
		/* Finished before a crash removed the marker: never twice. */
		log_info("%s: already %s", marker,
		    file_state_name((enum file_state)state));
		goto done;
	}
	if (job_cancel_requested(&job)) {
		/* Never run a cancelled file; its status first, then the marker. */
		if (job_finish(&job, BACKEND_CANCELLED, NULL, started) == -1)
			goto later;
		goto done;
	}
	bi = backend_index(job.model);
	if (bi < 0) {
		snprintf(err, sizeof(err),
		    "The model \"%s\" is not available on this server.",
		    job.model);
		if (job_finish(&job, BACKEND_FAILED, err, started) == -1)
			goto later;
		goto done;
	}
	interrupted = job_interrupted(&job, st, state, bi, started);
	if (interrupted < 0)
		goto done;
	if (job_mark_processing(&job, st, interrupted, started) == -1) {
		log_warn("%s: status; handing back", marker);
		job_later(sp, owner, marker);
		goto out;
	}
	log_info("%s: start (%s, model %s)", marker, job_backends[bi]->name,
	    job.model);
	thumb_make(&job, st);
	if (wstate[bi] == NULL && job_backends[bi]->worker_init != NULL)
		wstate[bi] = job_backends[bi]->worker_init(cfg);
	job.worker = wstate[bi];
	bs = job_backends[bi]->run(&job, err, sizeof(err));
	if (bs == BACKEND_FAILED && err[0] == '\0')
		snprintf(
		    err, sizeof(err), "The model failed without a reason.");
	if (bs == BACKEND_HANDBACK) {
		job_handback(&job, owner);
		goto out;
	}
	if (bs == BACKEND_OK)
		formats_make(&job);
	/* Keep the marker: the status must be written before it goes. */
	if (job_finish(&job, bs, err, started) == -1)
		goto later;
done:
	if (spool_queue_done(sp, owner, marker) == -1 && errno != ENOENT)
		log_warn("%s: remove marker", marker);
	/* The batch's last file announces it (also when found final). */
	if (job.id[0] != '\0')
		webhook_file_done(sp, job.id);
	goto out;
later:
	log_warn("%s: final status not written; queued again", marker);
	job_later(sp, owner, marker);
out:
	json_decref(st);
	json_decref(job.batch);
	json_decref(job.formats);
	json_decref(job.result_extra);
	if (job.outdir != -1)
		close(job.outdir);
}

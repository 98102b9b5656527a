/*
 * fal_show.c: what a file's status file says while it is at FAL
 * (fal_queue.h).  in_queue: 8 %, with FAL's queue position; processing:
 * 15-90 %, from FAL's logs or the clock against the model's typical_s;
 * writes are throttled, since each one is an fsync and an SSE event.
 */
#include <stdio.h>
#include <string.h>

#include "fal_queue.h"

void
fal_show(struct fal_shown *s, struct job *job, enum file_state st, int prog,
    int qpos, const char *msg, int force)
{
	long long now = spool_now_ms();

	if (!force && (int)st == s->st && qpos == s->qpos &&
	    (prog == s->prog || now - s->at < 1000))
		return;
	if (job_progress(job, st, prog, qpos, msg) == 0) {
		s->st = (int)st;
		s->prog = prog;
		s->qpos = qpos;
		s->at = now;
	}
}

void
fal_show_status(struct fal_shown *s, struct job *job,
    const struct model_info *m, json_t *status, int cancel_sent)
{
	json_t *qp = json_object_get(status, "queue_position");
	int pos = json_is_integer(qp) ? (int)json_integer_value(qp) : 0;
	const char *st = json_string_value(json_object_get(status, "status"));
	char msg[128];

	if (st != NULL && strcmp(st, "IN_QUEUE") == 0) {
		snprintf(msg, sizeof(msg), "In FAL's queue (position %d)", pos);
		fal_show(s, job, FS_IN_QUEUE, 8, pos, msg, 0);
		return;
	}
	if (s->proc_start == 0)
		s->proc_start = spool_now_ms();
	fal_show(s, job, FS_PROCESSING,
	    fal_run_progress(json_object_get(status, "logs"),
	        spool_now_ms() - s->proc_start, m->typical_s * 1000LL),
	    -1,
	    cancel_sent
	        ? "Cancel sent; FAL had already started the model, waiting for it to stop or finish"
	        : "Generating the model at FAL",
	    0);
}

/*
 * api_tasks.c: one upload's status, and cancel and retry of its files
 * (spool/control.c does the work; every answer is the polling object of
 * cgi/batch.c, so a client sees the same shape whatever it asked).
 */
#include <errno.h>
#include <string.h>

#include "api.h"

void
api_status(struct req *r, const char *const *arg)
{
	json_t *s = api_summary_or_reply(r, arg[0]);

	if (s == NULL)
		return;
	cgi_json(r, 200, batch_status_json(arg[0], s));
	json_decref(s);
}

static void
control(struct req *r, const char *id, int retry)
{
	json_t *s;
	int n;

	/* Changing a batch takes the key an upload takes. */
	if (!cgi_require_key(r))
		return;
	if (!spool_id_valid(id)) {
		api_unknown_task(r, id);
		return;
	}
	n = retry ? spool_retry(&cgi.sp, id) : spool_cancel(&cgi.sp, id);
	if (n == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			api_unknown_task(r, id);
		else if (errno == ENOSPC || errno == EDQUOT)
			cgi_error(r, 507, "INSUFFICIENT_STORAGE",
			    json_pack("{s:s}", "task_id", id),
			    retry
			        ? "The server's disk is full, so nothing was queued again; try again when space has been freed."
			        : "The server's disk is full, so the cancel could not be recorded; try again in a moment.");
		else
			cgi_error(r, 500, "INTERNAL_ERROR", NULL,
			    "The %s failed (%s).", retry ? "retry" : "cancel",
			    strerror(errno));
		return;
	}
	if (retry && n == 0) {
		cgi_error(r, 409, "NOTHING_TO_RETRY",
		    json_pack("{s:s}", "task_id", id),
		    "No file of this upload has failed or was cancelled, so there is nothing to retry.");
		return;
	}
	log_info("%s: %s %d file%s", id, retry ? "retried" : "cancelled", n,
	    n == 1 ? "" : "s");
	s = api_summary_or_reply(r, id);
	if (s == NULL)
		return;
	cgi_json(r, 200, batch_status_json(id, s));
	json_decref(s);
}

void
api_cancel(struct req *r, const char *const *arg)
{
	control(r, arg[0], 0);
}

void
api_retry(struct req *r, const char *const *arg)
{
	control(r, arg[0], 1);
}

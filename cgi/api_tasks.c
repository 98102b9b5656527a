/*
 * api_tasks.c: one upload's status, and cancel and retry of its files
 * (spool/control.c does the work; every answer is the polling object of
 * cgi/batch.c, so a client sees the same shape whatever it asked).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* FNV-1a of the URL base: part of the ETag, not a secret. */
static unsigned
base_hash(const char *b)
{
	unsigned h = 2166136261u;

	for (; *b != '\0'; b++)
		h = (h ^ (unsigned char)*b) * 16777619u;
	return h;
}

/* 1 when an If-None-Match list names etag (or is "*"). */
static int
etag_listed(const char *inm, const char *etag)
{
	size_t el = strlen(etag);

	while (inm != NULL && *inm != '\0') {
		size_t l;

		while (*inm == ' ' || *inm == ',')
			inm++;
		if (strncmp(inm, "W/", 2) == 0)
			inm += 2; /* weak comparison, as RFC 9110 asks */
		l = strcspn(inm, ",");
		while (l > 0 && inm[l - 1] == ' ')
			l--;
		if ((l == 1 && *inm == '*') ||
		    (l == el && strncmp(inm, etag, el) == 0))
			return 1;
		inm = strchr(inm, ',');
	}
	return 0;
}

/*
 * The polling object.  A batch's state is a function of its seq
 * (cgi/batch.c) and its URLs of the base (cgi/urlbase.c), so the ETag is
 * "<seq>-<hash of the base>": a client that has it gets 304, a changed
 * PUBLIC_URL or another Host never revalidates an old body,
 * and every other answer is the text serialized once per change.  "no-
 * cache" lets a cache keep it but ask again every time.
 */
void
api_status(struct req *r, const char *const *arg)
{
	json_t *s = api_summary_or_reply(r, arg[0]);
	char etag[32], *txt;
	size_t len = 0;

	if (s == NULL)
		return;
	snprintf(etag, sizeof(etag), "\"%lld-%08x\"",
	    json_integer_value(json_object_get(s, "seq")), base_hash(r->base));
	if (etag_listed(cgi_param(r, "HTTP_IF_NONE_MATCH"), etag)) {
		cgi_begin(r, 304, NULL);
		cgi_header(r, "ETag: %s", etag);
		cgi_header(r, "Cache-Control: no-cache");
		cgi_end_headers(r);
		json_decref(s);
		return;
	}
	txt = batch_status_text(s, r->base, &len);
	if (txt == NULL) {
		json_t *j = batch_status_json(arg[0], r->base, s);

		txt = j != NULL
		    ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15))
		    : NULL;
		json_decref(j);
		len = txt != NULL ? strlen(txt) : 0;
	}
	json_decref(s);
	if (txt == NULL) {
		cgi_error(r, 500, "OUT_OF_MEMORY", NULL,
		    "The server ran out of memory.");
		return;
	}
	cgi_begin(r, 200, "application/json");
	cgi_header(r, "Cache-Control: no-cache");
	cgi_header(r, "ETag: %s", etag);
	cgi_header(r, "Content-Length: %zu", len + 1);
	cgi_end_headers(r);
	FCGX_PutStr(txt, (int)len, r->fr->out);
	FCGX_PutChar('\n', r->fr->out);
	free(txt);
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
	cgi_json(r, 200, batch_status_json(id, r->base, s));
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

/*
 * sse_event.c: the stream's events (shared/docs/api.md) as text.
 *
 * Event ids are the batch's status sequence numbers (spool/README.md):
 * a file_update carries the seq of the status it reports, and every other
 * event the highest seq sent so far, so ids never decrease and
 * "Last-Event-ID: k" means "I have every change up to k".  The objects
 * come from cgi/batch.c, prepared once per change; what is rendered here
 * depends only on (summary, the seq a stream has), so the loop renders a
 * change once for all the streams at the same point and writes the same
 * bytes to each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgi.h"
#include "sse.h"

int
sse_event(struct sbuf *b, const char *id, const char *event, long long evid,
    json_t *data)
{
	char *txt;
	int rc;

	if (data == NULL)
		return -1;
	json_object_set_new(data, "task_id", json_string(id));
	json_object_set_new(data, "job_id", json_string(id));
	json_object_set_new(data, "batch_id", json_string(id));
	json_object_set_new(data, "timestamp", json_integer(spool_now_ms()));
	txt = json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(9));
	json_decref(data);
	if (txt == NULL)
		return -1;
	rc = sbuf_printf(
	    b, "id: %lld\nevent: %s\ndata: %s\n\n", evid, event, txt);
	free(txt);
	return rc;
}

int
sse_progress(struct sbuf *b, const char *id, long long evid, json_t *sum)
{
	long long cur = json_integer_value(json_object_get(sum, "current"));
	long long tot = json_integer_value(json_object_get(sum, "total"));
	char msg[96];

	snprintf(msg, sizeof(msg), "%lld of %lld file%s finished", cur, tot,
	    tot == 1 ? "" : "s");
	return sse_event(b, id, "task_progress", evid,
	    json_pack("{s:s, s:O?, s:I, s:I, s:I, s:s, s:O?}", "status",
	        "processing", "progress", json_object_get(sum, "progress"),
	        "current", (json_int_t)cur, "total", (json_int_t)tot,
	        "total_files", (json_int_t)tot, "message", msg, "batch_status",
	        json_object_get(sum, "status")));
}

static int
cmp_seq(const void *a, const void *b)
{
	const long long *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

static int
completed(struct sbuf *b, const char *id, const char *base, json_t *sum,
    json_t *names, long long evid)
{
	json_t *res = batch_result_json(id, base, sum, names);
	json_int_t failed = json_integer_value(json_object_get(sum, "failed")) +
	    json_integer_value(json_object_get(sum, "cancelled"));

	return sse_event(b, id, "task_completed", evid,
	    json_pack("{s:s, s:i, s:o, s:{s:O?, s:O?, s:I}}", "status",
	        "completed", "progress", 100, "result",
	        res != NULL ? res : json_null(), "summary", "total_files",
	        json_object_get(sum, "total"), "successful_files",
	        json_object_get(sum, "successful"), "failed_files", failed));
}

int
sse_changes(struct sbuf *b, const char *id, const char *base, json_t *sum,
    long long *sent)
{
	json_t *names = batch_names(sum),
	       *files = json_object_get(sum, "files"), *f;
	long long(*order)[2] = NULL;
	size_t i, n = 0;
	int rc = -1;

	if (names == NULL)
		return -1;
	order = calloc(json_array_size(files) + 1, sizeof(*order));
	if (order == NULL)
		goto out;
	json_array_foreach(files, i, f) {
		long long seq = json_integer_value(json_object_get(f, "seq"));

		if (seq > *sent) {
			order[n][0] = seq;
			order[n][1] = (long long)i;
			n++;
		}
	}
	qsort(order, n, sizeof(*order), cmp_seq);
	for (i = 0; i < n; i++) {
		*sent = order[i][0];
		if (sse_event(b, id, "file_update", *sent,
		        batch_file_json(
		            id, base, sum, names, (size_t)order[i][1])) == -1 ||
		    sse_progress(b, id, *sent, sum) == -1)
			goto out;
	}
	if (json_is_true(json_object_get(sum, "finished"))) {
		if (completed(b, id, base, sum, names, *sent) == -1)
			goto out;
		rc = 1;
	} else
		rc = 0;
out:
	free(order);
	json_decref(names);
	return rc;
}

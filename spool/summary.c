/*
 * summary.c: one batch as every reader sees it (HTTP status and SSE,
 * CLI).  It is derived from batch.json and the status files on each call
 * and never stored, so it cannot disagree with them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "spool.h"

/* A status object for a file whose status file cannot be read. */
static json_t *
unreadable(json_t *entry)
{
	/* clang-format off */
	return json_pack("{s:O, s:O, s:s, s:i, s:n, s:s, s:s, s:i}",
	    "file_id", json_object_get(entry, "file_id"),
	    "filename", json_object_get(entry, "filename"),
	    "status", "failed",
	    "progress", 0,
	    "queue_position",
	    "message", "Its status file is unreadable",
	    "error", "The spool data of this file is unreadable.",
	    "seq", 0);
	/* clang-format on */
}

/* face_limit is one of params; the top level mirrors it (older batches). */
static json_t *
face_limit(json_t *b)
{
	json_t *v = json_object_get(json_object_get(b, "params"), "face_limit");

	if (v == NULL)
		v = json_object_get(b, "face_limit");
	return v != NULL ? v : json_null();
}

json_t *
spool_batch_summary(struct spool *sp, const char *id)
{
	json_t *b, *files, *out = NULL, *entry;
	long long seq = 0, progress = 0;
	int n, done = 0, ok = 0, failed = 0, cancelled = 0, queued = 0;
	const char *status, *result;
	size_t i;

	b = spool_batch_get(sp, id);
	if (b == NULL)
		return NULL;
	files = json_array();
	if (files == NULL)
		goto nomem;
	n = (int)json_array_size(json_object_get(b, "files"));
	json_array_foreach(json_object_get(b, "files"), i, entry) {
		json_t *st = spool_status_get(sp, id, (int)i);
		int s;

		if (st == NULL)
			st = unreadable(entry);
		if (st == NULL)
			goto nomem;
		s = file_state_parse(
		    json_string_value(json_object_get(st, "status")));
		if (json_integer_value(json_object_get(st, "seq")) > seq)
			seq = json_integer_value(json_object_get(st, "seq"));
		if (s >= 0 && file_state_final((enum file_state)s)) {
			done++;
			progress += 100;
		} else
			progress +=
			    json_integer_value(json_object_get(st, "progress"));
		ok += s == FS_COMPLETED;
		failed += s == FS_FAILED || s < 0;
		cancelled += s == FS_CANCELLED;
		queued += s == FS_QUEUED;
		json_object_set_new(st, "content_type",
		    json_incref(json_object_get(entry, "content_type")));
		json_object_set_new(st, "input_size",
		    json_incref(json_object_get(entry, "file_size")));
		json_array_append_new(files, st);
	}
	if (done < n)
		status = queued == n ? "queued" : "processing";
	else if (ok > 0)
		status = "completed";
	else if (cancelled > 0 && failed == 0)
		status = "cancelled";
	else
		status = "failed";
	if (done < n)
		result = NULL;
	else if (ok == n)
		result = "completed";
	else if (ok > 0)
		result = "partially_completed";
	else
		result = status;
	/* clang-format off */
	out = json_pack("{s:s, s:O, s:O, s:O, s:O, s:i, s:i, s:I, s:s, s:s?, s:i, s:i, s:i, s:I, s:b, s:o}",
	    "batch_id", id,
	    "model", json_object_get(b, "model"),
	    "created", json_object_get(b, "created"),
	    "params", json_object_get(b, "params"),
	    "face_limit", face_limit(b),
	    "total", n,
	    "current", done,
	    "progress", (json_int_t)(n > 0 ? progress / n : 0),
	    "status", status,
	    "result_status", result,
	    "successful", ok,
	    "failed", failed,
	    "cancelled", cancelled,
	    "seq", (json_int_t)seq,
	    "finished", done == n,
	    "files", files);
	/* clang-format on */
	files = NULL;
	if (out == NULL)
		goto nomem;
	json_decref(b);
	return out;
nomem:
	json_decref(files);
	json_decref(b);
	errno = ENOMEM;
	return NULL;
}

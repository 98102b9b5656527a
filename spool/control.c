/*
 * control.c: cancel and retry of a batch (HTTP API and CLI).
 *
 * Cancel: every unfinished file first gets the flag batches/<id>/cancel/<n>
 * (durable before anything else changes: every path that starts a file
 * checks it, so a flagged file never runs, whatever fails afterwards).  A
 * waiting file is then withdrawn from q/new by rename (the same race a
 * claim runs, so it is either withdrawn here or taken by a worker, never
 * both) and marked cancelled; if that status cannot be written (a full
 * disk) its marker is put back and the daemon finishes it as cancelled.
 * A file a worker holds sees the flag between steps and the FAL backend
 * cancels the remote request.  Finished files stay as they are.
 *
 * A cancel that leaves every file final announces the batch to its
 * webhooks (spool_webhook_batch_done) without waiting for the daemon.
 *
 * Both return how many files they changed; when none could be changed
 * because a write failed, -1 with that errno (ENOSPC: the API says 507).
 *
 * Retry: failed and cancelled files lose their flag and their remote
 * record (a retry is a new, paid submission by the user's choice), go
 * back to "queued", and get a new marker.  A record that holds a result
 * stays: that model is paid for, and the retry downloads it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"

static int
batch_files(struct spool *sp, const char *id)
{
	json_t *b;
	int n;

	b = spool_batch_get(sp, id);
	if (b == NULL)
		return -1;
	n = (int)json_array_size(json_object_get(b, "files"));
	json_decref(b);
	return n;
}

static int
cancel_flag(struct spool *sp, const char *id, int file)
{
	char name[16];
	int dir, rc;

	dir = spool_batch_dir(sp, id, "cancel");
	if (dir == -1)
		return -1;
	snprintf(name, sizeof(name), "%d", file);
	/* An empty file, published like every other (a second one replaces). */
	rc = spool_write_atomic(dir, name, "", 0);
	close(dir);
	return rc;
}

/* File i's state, or -1 when it has no readable status. */
static int
file_state_at(struct spool *sp, const char *id, int i)
{
	json_t *st = spool_status_get(sp, id, i);
	int s;

	if (st == NULL)
		return -1;
	s = file_state_parse(json_string_value(json_object_get(st, "status")));
	json_decref(st);
	return s;
}

int
spool_cancel(struct spool *sp, const char *id)
{
	int i, n, touched = 0, failed = 0;

	n = batch_files(sp, id);
	if (n == -1)
		return -1;
	for (i = 0; i < n; i++) {
		int s = file_state_at(sp, id, i);
		json_t *p;

		if (s < 0 || file_state_final((enum file_state)s))
			continue;
		if (cancel_flag(sp, id, i) == -1) {
			failed = errno;
			continue;
		}
		touched++;
		if (spool_queue_withdraw(sp, id, i) == -1)
			continue; /* held by a worker (or a dead daemon) */
		/* clang-format off */
		p = json_pack("{s:s, s:s, s:n, s:n}",
		    "status", "cancelled",
		    "message", "Cancelled before it started",
		    "error",
		    "queue_position");
		/* clang-format on */
		if (p == NULL || spool_status_update(sp, id, i, p, -1) == -1)
			/* The daemon sees the flag and writes it. */
			spool_queue_put(sp, id, i);
		json_decref(p);
	}
	if (touched == 0 && failed != 0) {
		errno = failed;
		return -1;
	}
	/* A batch this made final is announced now (webhook.c; the daemon's
	 * sweep does it too, so a failure here loses nothing). */
	if (touched > 0)
		spool_webhook_batch_done(sp, id);
	return touched;
}

/* 1 when the remote record holds a provider's result (a paid model). */
static int
record_has_result(int rdir, const char *name)
{
	json_t *rec = spool_read_json(rdir, name, 64 * 1024);
	int has = json_object_get(rec, "result") != NULL;

	json_decref(rec);
	return has;
}

int
spool_retry(struct spool *sp, const char *id)
{
	char name[32];
	int i, n, touched = 0, failed = 0, cdir, rdir;

	n = batch_files(sp, id);
	if (n == -1)
		return -1;
	/* A retry is new work: below the disk floor it waits, like uploads. */
	if (spool_check_space(sp) == -1)
		return -1;
	cdir = spool_batch_dir(sp, id, "cancel");
	rdir = spool_batch_dir(sp, id, "remote");
	for (i = 0; i < n; i++) {
		json_t *p;
		int s = file_state_at(sp, id, i);

		if (s != FS_FAILED && s != FS_CANCELLED)
			continue;
		if (spool_queue_has(sp, id, i))
			continue;
		snprintf(name, sizeof(name), "%d", i);
		if (cdir != -1)
			unlinkat(cdir, name, 0);
		snprintf(name, sizeof(name), "%d.json", i);
		if (rdir != -1 && !record_has_result(rdir, name))
			unlinkat(rdir, name, 0);
		/* clang-format off */
		p = json_pack("{s:s, s:i, s:s, s:n, s:n, s:i}",
		    "status", "queued",
		    "progress", 0,
		    "message", "Queued again",
		    "error",
		    "queue_position",
		    "interrupted", 0);
		/* clang-format on */
		if (p == NULL) {
			failed = ENOMEM;
			continue;
		}
		/*
		 * Only if nobody changed it meanwhile (a second retry).  A
		 * queued file whose marker could not be written is queued
		 * again by the daemon's orphan sweep.
		 */
		if (spool_status_update(sp, id, i, p, s) != -1) {
			spool_queue_put(sp, id, i);
			touched++;
		} else if (errno != EAGAIN)
			failed = errno;
		json_decref(p);
	}
	if (cdir != -1)
		close(cdir);
	if (rdir != -1)
		close(rdir);
	if (touched == 0 && failed != 0) {
		errno = failed;
		return -1;
	}
	/* A batch this made final is announced now (webhook.c; the daemon's
	 * sweep does it too, so a failure here loses nothing). */
	if (touched > 0)
		spool_webhook_batch_done(sp, id);
	return touched;
}

int
spool_cancel_requested(struct spool *sp, const char *id, int file)
{
	char path[96];

	if (!spool_id_valid(id) || file < 0)
		return 0;
	snprintf(path, sizeof(path), "batches/%s/cancel/%d", id, file);
	return faccessat(sp->root, path, F_OK, 0) == 0;
}

/*
 * scan.c: recovery, the queue scan and retention.
 *
 * The directory is the truth and inotify only a hint: scan_claim() reads
 * all of q/new every time it is called (on any inotify event, on overflow,
 * after a job ends and on a timer), so a lost event costs latency, never
 * a file.  Recovery never touches a live daemon's claims: a daemon is live
 * while it holds its lock in daemons/ (spool/daemons.c), which the kernel
 * drops when it dies, however it dies.  Every path is the spool's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"

#define STALE_TMP_S 3600 /* longer than any upload may take */
#define ORPHAN_S 60 /* a queued file without a marker this long */

/* Queued files of one batch that lost their marker get it back. */
static int
orphan_batch(const char *id, void *arg)
{
	struct spool *sp = arg;
	long long now = spool_now_ms();
	json_t *b;
	size_t n, i;

	b = spool_batch_get(sp, id);
	if (b == NULL)
		return 0;
	n = json_array_size(json_object_get(b, "files"));
	json_decref(b);
	for (i = 0; i < n; i++) {
		json_t *st = spool_status_get(sp, id, (int)i);
		long long upd;
		int s;

		if (st == NULL)
			continue;
		s = file_state_parse(
		    json_string_value(json_object_get(st, "status")));
		upd = json_integer_value(json_object_get(st, "updated"));
		json_decref(st);
		if (s != FS_QUEUED || now - upd < ORPHAN_S * 1000)
			continue;
		if (spool_queue_has(sp, id, (int)i))
			continue;
		if (spool_queue_put(sp, id, (int)i) == 0)
			log_info(
			    "%s.%zu: queued file had no marker; queued again",
			    id, i);
	}
	return 0;
}

int
scan_recover(struct spool *sp, const char *me)
{
	int n;

	n = spool_daemon_reap(sp, me);
	spool_sweep(sp, STALE_TMP_S);
	spool_batch_foreach(sp, orphan_batch, sp);
	return n > 0 ? n : 0;
}

/* Oldest first; within one instant, by batch then file number. */
static int
marker_cmp(const void *a, const void *b)
{
	const struct spool_marker *x = a, *y = b;
	int c;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	c = strcmp(x->id, y->id);
	if (c != 0)
		return c;
	return x->file - y->file;
}

int
scan_claim(struct spool *sp, const char *me, struct pool *p, int *more)
{
	struct spool_marker *m = NULL;
	size_t i, n = 0;
	int claimed = 0;

	*more = 0;
	if (pool_free(p) <= 0) {
		*more = 1;
		return 0;
	}
	if (spool_queue_list(sp, &m, &n) == -1) {
		log_warn("scan of the queue");
		return -1;
	}
	/* The keys were parsed once by spool_queue_list, not per compare. */
	if (n > 1)
		qsort(m, n, sizeof(*m), marker_cmp);
	for (i = 0; i < n; i++) {
		if (pool_free(p) <= 0) {
			*more = 1;
			break;
		}
		if (spool_queue_claim(sp, me, m[i].name) == -1) {
			if (errno != ENOENT)
				log_warn("%s: claim", m[i].name);
			continue; /* another daemon or a cancel won */
		}
		if (pool_push(p, m[i].name) == -1) {
			spool_queue_release(sp, me, m[i].name);
			*more = 1;
			break;
		}
		claimed++;
	}
	free(m);
	return claimed;
}

static void
expired(const char *id, void *arg)
{
	(void)arg;
	log_info("%s: removed after the retention period", id);
}

int
scan_retention(struct spool *sp, int hours)
{
	if (hours <= 0)
		return 0;
	return spool_batches_expire(
	    sp, spool_now_ms() - (long long)hours * 3600 * 1000, expired, NULL);
}

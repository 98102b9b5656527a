/*
 * test_layout.c: unit tests of the parts of libspool that own the tree
 * for everyone else: the daemons registry (register, beat, alive, reap),
 * batches as a set (foreach, remove), the in/ and out/ paths (nothing
 * from outside can leave the batch), the queue list and the sweep.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"
#include "tap.h"

static char root[320];

static int
exists(const char *rel)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return access(path, F_OK) == 0;
}

static int
submit(struct spool *sp, int n, char *id)
{
	static const unsigned char png[] = {
	    0x89, 'P', 'N', 'G', 13, 10, 26, 10};
	struct config cfg = {.max_files = 25, .max_file_bytes = 1 << 20};
	struct spool_submit s;
	int i;

	spool_submit_init(&s, sp, &cfg);
	spool_submit_model(&s, "local");
	for (i = 0; i < n; i++)
		if (spool_submit_file_begin(&s, "a.png") == -1 ||
		    spool_submit_file_write(&s, png, sizeof(png)) == -1 ||
		    spool_submit_file_end(&s) == -1)
			break;
	if (spool_submit_commit(&s) == -1) {
		spool_submit_abort(&s);
		return -1;
	}
	memcpy(id, s.id, SPOOL_ID_LEN + 1);
	spool_submit_free(&s);
	return 0;
}

static int
count_one(const char *id, void *arg)
{
	(void)id;
	(*(int *)arg)++;
	return 0;
}

static void
test_batches(struct spool *sp)
{
	char a[SPOOL_ID_LEN + 1], b[SPOOL_ID_LEN + 1], path[PATH_MAX];
	char rel[128];
	struct spool_marker *m = NULL;
	size_t n = 0;
	int seen = 0;

	TAP_OK(submit(sp, 2, a) == 0 && submit(sp, 1, b) == 0,
	    "two batches submitted");
	TAP_OK(spool_batch_foreach(sp, count_one, &seen) == 0 && seen == 2,
	    "foreach visits every batch");
	TAP_OK(spool_queue_list(sp, &m, &n) == 0 && n == 3 &&
	        spool_id_valid(m[0].id) && m[0].file >= 0,
	    "queue list has 3 parsed markers");
	free(m);
	TAP_OK(spool_input_path(sp, a, "in/0.png", path, sizeof(path)) == 0 &&
	        strstr(path, "/batches/") != NULL,
	    "input path of in/0.png");
	TAP_OK(
	    spool_input_path(sp, a, "in/../../x", path, sizeof(path)) == -1 &&
	        spool_input_path(sp, a, "/etc/passwd", path, sizeof(path)) ==
	            -1 &&
	        spool_input_path(sp, a, "state/0.json", path, sizeof(path)) ==
	            -1,
	    "an input outside in/ is refused");
	TAP_OK(spool_out_path(sp, a, "0.glb", path, sizeof(path)) == 0 &&
	        spool_out_path(sp, a, "../batch.json", path, sizeof(path)) ==
	            -1 &&
	        spool_out_path(sp, a, ".0.glb.tmp", path, sizeof(path)) == -1 &&
	        spool_out_path(sp, "nope", "0.glb", path, sizeof(path)) == -1,
	    "out paths: names only, no dot-names, valid ids");
	TAP_OK(spool_batch_remove(sp, a) == 0, "batch removed");
	snprintf(rel, sizeof(rel), "batches/%s", a);
	TAP_OK(!exists(rel) && spool_queue_depth(sp) == 1,
	    "removed whole, its markers withdrawn, the other kept");
	TAP_OK(spool_batch_remove(sp, a) == -1 && errno == ENOENT,
	    "removing it again is ENOENT");
	spool_batch_remove(sp, b);
}

static void
count_removed(const char *id, void *arg)
{
	if (spool_id_valid(id))
		(*(int *)arg)++;
}

/* The retention rule: "created" before the cutoff goes, the rest stays. */
static void
test_expire(struct spool *sp)
{
	char a[SPOOL_ID_LEN + 1], b[SPOOL_ID_LEN + 1];
	json_t *areas;
	int seen = 0;

	TAP_OK(submit(sp, 2, a) == 0 && submit(sp, 1, b) == 0,
	    "two batches to expire");
	areas = spool_areas_bytes(sp);
	TAP_OK(spool_batch_bytes(sp, a) > 0 &&
	        spool_batch_bytes(sp, "nope") == 0 &&
	        json_integer_value(json_object_get(areas, "batches")) >=
	            spool_batch_bytes(sp, a) + spool_batch_bytes(sp, b),
	    "a batch's bytes, and the areas hold them");
	json_decref(areas);
	TAP_OK(
	    spool_batches_expire(sp, 0, count_removed, &seen) == 0 && seen == 0,
	    "nothing was created before the epoch");
	TAP_OK(spool_batches_expire(
	           sp, spool_now_ms() + 1, count_removed, &seen) == 2 &&
	        seen == 2 && spool_queue_depth(sp) == 0,
	    "everything older than now goes, its markers withdrawn");
	TAP_OK(spool_batches_expire(sp, spool_now_ms() + 1, NULL, NULL) == 0,
	    "and the next run finds nothing");
}

static void
test_daemons(struct spool *sp)
{
	struct spool_daemon me, other;
	struct spool_beat beat = {1000, 4, 1, NULL, NULL};
	char id[SPOOL_ID_LEN + 1], m[SPOOL_MARKER_MAX], rel[160];
	json_t *beats = json_array(), *hb;

	TAP_OK(spool_daemon_register(sp, &me) == 0 && me.lockfd != -1,
	    "daemon registered (%s)", me.name);
	beat.health =
	    json_pack("{s:[s], s:s}", "backends", "local", "fal_auth", "none");
	TAP_OK(spool_daemon_beat(sp, &me, &beat) == 0, "heartbeat written");
	TAP_OK(
	    spool_daemons_alive(sp, beats) == 1 && json_array_size(beats) == 1,
	    "one daemon alive");
	hb = json_array_get(beats, 0);
	TAP_OK(json_integer_value(json_object_get(hb, "workers")) == 4 &&
	        strcmp(json_string_value(json_object_get(hb, "fal_auth")),
	            "none") == 0 &&
	        json_is_null(json_object_get(hb, "paused")) &&
	        json_is_array(json_object_get(hb, "backends")),
	    "heartbeat carries the daemon's and the backends' fields");
	json_decref(beats);
	json_decref(beat.health);

	/* A second daemon with a claim, then "killed": its lock dropped. */
	TAP_OK(spool_daemon_register(sp, &other) == 0 && submit(sp, 1, id) == 0,
	    "second daemon and a batch");
	spool_marker_name(m, sizeof(m), id, 0);
	TAP_OK(spool_queue_claim(sp, other.name, m) == 0, "claimed by it");
	TAP_OK(spool_daemon_reap(sp, me.name) == 0,
	    "a live daemon's claims are never reaped");
	close(other.lockfd);
	TAP_OK(
	    spool_daemon_reap(sp, me.name) == 1 && spool_queue_depth(sp) == 1,
	    "a dead daemon's claim goes back to q/new");
	snprintf(rel, sizeof(rel), "daemons/%s.lock", other.name);
	TAP_OK(!exists(rel), "its lock file is gone");
	snprintf(rel, sizeof(rel), "q/cur/%s", me.name);
	TAP_OK(exists(rel), "ours stays");
	spool_daemon_unregister(sp, &me);
	snprintf(rel, sizeof(rel), "daemons/%s.json", me.name);
	TAP_OK(!exists(rel) && spool_daemons_alive(sp, NULL) == 0,
	    "unregister leaves no trace");
	spool_batch_remove(sp, id);
}

static void
test_sweep(struct spool *sp)
{
	char path[600];
	struct timespec old[2] = {{1000, 0}, {1000, 0}};
	int fd;

	/* A marker temp left by a crashed submitter is a dot-name. */
	snprintf(path, sizeof(path), "%s/q/tmp/.x.0.abcd.tmp", root);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	utimensat(AT_FDCWD, path, old, 0);
	snprintf(path, sizeof(path), "%s/q/tmp/.fresh.tmp", root);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	TAP_OK(spool_sweep(sp, 3600) == 1 && !exists("q/tmp/.x.0.abcd.tmp") &&
	        exists("q/tmp/.fresh.tmp"),
	    "sweep removes stale dot-names only");
	unlink(path);
	TAP_OK(spool_writable(sp) == 1, "spool is writable");
	TAP_OK(spool_sweep(sp, 3600) == 0, "the probe leaves nothing");
}

int
main(void)
{
	struct spool sp;
	char path[300];

	snprintf(path, sizeof(path), "/tmp/test_layout.XXXXXX");
	if (mkdtemp(path) == NULL)
		return 1;
	snprintf(root, sizeof(root), "%s/spool", path);
	TAP_OK(spool_open(&sp, root, 1) == 0, "spool created");
	test_batches(&sp);
	test_expire(&sp);
	test_daemons(&sp);
	test_sweep(&sp);
	spool_close(&sp);
	spool_rmtree(AT_FDCWD, path);
	return tap_done();
}

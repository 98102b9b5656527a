/*
 * status.c: per-file status files and the batch sequence number.
 *
 * batches/<id>/state/<n>.json is replaced whole (fsio.c) on every change
 * and carries "seq", the batch-wide number of that change.  Writers take
 * flock(state/.lock); the lock file also holds the counter, the last
 * number handed out.  A writer bumps the counter in place and makes it
 * durable (fdatasync) first, then publishes the status, then state/seq.
 * A writer that dies between any two of those steps leaves the counter
 * at or above every number it used, so a number never repeats; a crash
 * costs a gap, never a duplicate.  Allocation reads one small file, not
 * every status of the batch.  A batch whose counter is empty (written
 * before the counter existed) is scanned once: 1 + the highest seq of
 * state/seq and every state/<n>.json.
 *
 * Readers take no lock: they read state/seq first to learn whether
 * anything changed, then the status files, and treat seq as the SSE
 * event id.  state/seq is written after the status it names, so a reader
 * that sees k finds the change k in the status files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "spool.h"

#define STATUS_CAP (64 * 1024)

static const char *const state_names[FS_NSTATES] = {
    "queued",
    "uploading",
    "in_queue",
    "processing",
    "downloading",
    "completed",
    "failed",
    "cancelled",
};

const char *
file_state_name(enum file_state st)
{
	if ((int)st < 0 || st >= FS_NSTATES)
		return "unknown";
	return state_names[st];
}

int
file_state_parse(const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < FS_NSTATES; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

int
file_state_final(enum file_state st)
{
	return st == FS_COMPLETED || st == FS_FAILED || st == FS_CANCELLED;
}

static long long
read_seq(int st)
{
	char *buf;
	long long v;

	if (spool_read_file(st, "seq", 64, &buf, NULL) == -1)
		return errno == ENOENT ? 0 : -1;
	v = strtoll(buf, NULL, 10);
	free(buf);
	return v < 0 ? 0 : v;
}

/* Highest seq in state/ (seq file and every status file): legacy only. */
static long long
max_seq(int st)
{
	DIR *d;
	struct dirent *de;
	long long best;

	best = read_seq(st);
	if (best == -1)
		return -1;
	d = spool_opendir(st, ".");
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		json_t *j;

		if (de->d_name[0] == '.' || l < 6 ||
		    strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		j = spool_read_json(st, de->d_name, STATUS_CAP);
		if (j == NULL)
			continue;
		if (json_integer_value(json_object_get(j, "seq")) > best)
			best = json_integer_value(json_object_get(j, "seq"));
		json_decref(j);
	}
	closedir(d);
	return best;
}

static int
lock_state(int st)
{
	int fd;

	fd = openat(st, ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	if (fd == -1)
		return -1;
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			int saved = errno;

			close(fd);
			errno = saved;
			return -1;
		}
	}
	return fd;
}

/* The last number handed out, from the lock file (else a scan). */
static long long
counter_get(int lk, int sdir)
{
	char buf[32], *end;
	ssize_t n;
	long long v;

	n = pread(lk, buf, sizeof(buf) - 1, 0);
	if (n == -1)
		return -1;
	buf[n] = '\0';
	v = strtoll(buf, &end, 10);
	if (n == 0 || end == buf || *end != '\n' || v < 0)
		return max_seq(sdir);
	return v;
}

/*
 * Make seq the counter, durably, before anything carries it.  Numbers
 * only grow, so the new text is never shorter than the old one and an
 * overwrite in place leaves no stale digits.
 */
static int
counter_put(int lk, long long seq)
{
	char num[32];
	int len;

	len = snprintf(num, sizeof(num), "%lld\n", seq);
	errno = 0;
	if (pwrite(lk, num, (size_t)len, 0) != len) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return fdatasync(lk);
}

/* Under the lock: stamp st with the next seq and publish it. */
static long long
put_locked(int sdir, int lk, int file, json_t *st)
{
	char name[32], num[32];
	long long seq;

	seq = counter_get(lk, sdir);
	if (seq == -1)
		return -1;
	seq++;
	if (counter_put(lk, seq) == -1)
		return -1;
	if (json_object_set_new(st, "seq", json_integer(seq)) == -1 ||
	    json_object_set_new(st, "updated", json_integer(spool_now_ms())) ==
	        -1) {
		errno = ENOMEM;
		return -1;
	}
	snprintf(name, sizeof(name), "%d.json", file);
	if (spool_write_json(sdir, name, st) == -1)
		return -1;
	snprintf(num, sizeof(num), "%lld\n", seq);
	if (spool_write_atomic(sdir, "seq", num, strlen(num)) == -1)
		return -1;
	return seq;
}

static long long
status_change(struct spool *sp, const char *id, int file, json_t *st,
    json_t *patch, int only_if_state)
{
	char name[32];
	json_t *cur = NULL;
	long long rc = -1;
	int sdir, lk = -1;

	if (file < 0 || file >= SPOOL_MAX_FILES) {
		errno = EINVAL;
		return -1;
	}
	sdir = spool_batch_dir(sp, id, "state");
	if (sdir == -1)
		return -1;
	lk = lock_state(sdir);
	if (lk == -1)
		goto out;
	if (patch != NULL) {
		snprintf(name, sizeof(name), "%d.json", file);
		cur = spool_read_json(sdir, name, STATUS_CAP);
		if (cur == NULL)
			goto out;
		if (only_if_state >= 0 &&
		    file_state_parse(json_string_value(
		        json_object_get(cur, "status"))) != only_if_state) {
			errno = EAGAIN;
			goto out;
		}
		if (json_object_update(cur, patch) == -1) {
			errno = ENOMEM;
			goto out;
		}
		st = cur;
	}
	rc = put_locked(sdir, lk, file, st);
out : {
	int saved = errno;

	json_decref(cur);
	if (lk != -1)
		close(lk);
	close(sdir);
	errno = saved;
}
	return rc;
}

long long
spool_status_put(struct spool *sp, const char *id, int file, json_t *st)
{
	return status_change(sp, id, file, st, NULL, -1);
}

long long
spool_status_update(struct spool *sp, const char *id, int file, json_t *patch,
    int only_if_state)
{
	return status_change(sp, id, file, NULL, patch, only_if_state);
}

json_t *
spool_status_get(struct spool *sp, const char *id, int file)
{
	char name[32];
	json_t *j;
	int sdir, saved;

	if (file < 0 || file >= SPOOL_MAX_FILES) {
		errno = EINVAL;
		return NULL;
	}
	sdir = spool_batch_dir(sp, id, "state");
	if (sdir == -1)
		return NULL;
	snprintf(name, sizeof(name), "%d.json", file);
	j = spool_read_json(sdir, name, STATUS_CAP);
	saved = errno;
	close(sdir);
	errno = saved;
	return j;
}

long long
spool_seq_get(struct spool *sp, const char *id)
{
	long long v;
	int sdir, saved;

	sdir = spool_batch_dir(sp, id, "state");
	if (sdir == -1)
		return -1;
	v = read_seq(sdir);
	saved = errno;
	close(sdir);
	errno = saved;
	return v;
}

int
spool_state_watch(
    struct spool *sp, int inotify_fd, const char *id, unsigned mask)
{
	char path[PATH_MAX + 64];

	if (!spool_id_valid(id)) {
		errno = ENOENT;
		return -1;
	}
	if (snprintf(path, sizeof(path), "%s/batches/%s/state", sp->path, id) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return inotify_add_watch(inotify_fd, path, mask | IN_ONLYDIR);
}

json_t *
spool_batch_get(struct spool *sp, const char *id)
{
	json_t *j;
	int dir, saved;

	dir = spool_batch_dir(sp, id, NULL);
	if (dir == -1)
		return NULL;
	j = spool_read_json(dir, "batch.json", 1024 * 1024);
	saved = errno;
	close(dir);
	errno = saved;
	return j;
}

/*
 * webhook.c: the durable queue of webhook deliveries, and the rule for a
 * webhook_url.
 *
 *   webhooks/.lock                       flock(2): every enqueue and move
 *   webhooks/tmp/.<name>.<r>.tmp         a record being written
 *   webhooks/new/<id>.<k>.json           waiting for a sender (due at
 *                                        its "next_attempt")
 *   webhooks/cur/<daemon>/<id>.<k>.json  being delivered by that daemon
 *   webhooks/done/<id>.<k>.json          delivered, refused or given up
 *
 * Exactly once per batch and target: a record's name is in exactly one of
 * new/, cur/<d>/ and done/ at any time.  Every move of it (claim, requeue,
 * finish, a dead daemon's release) and every enqueue happen under the
 * lock, and an enqueue publishes only when the name is in none of them,
 * with RENAME_NOREPLACE as the last guard; done/ keeps the final record,
 * so a later sweep, a second daemon or a restart never announces the
 * batch again.  Records are written by the temp-file rule (fsio.c) from
 * webhooks/tmp/ into their directory, so a crash leaves the old record or
 * the new one.  A claimed record goes back to new/ when its daemon dies
 * (spool_daemon_reap), like a queue marker.  Retention removes a batch's
 * records from new/ and done/; one still being delivered carries its own
 * body and is removed by the sweep once it is done.  The webhook_url
 * rule is in webhook_url.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"

#define RECORD_CAP (16 * 1024 * 1024) /* a record, body included */

static const char *const hook_dirs[] = {"webhooks", "webhooks/tmp",
    "webhooks/new", "webhooks/cur", "webhooks/done"};

int
spool_webhook_init(struct spool *sp)
{
	size_t i;

	for (i = 0; i < sizeof(hook_dirs) / sizeof(hook_dirs[0]); i++)
		if (spool_mkdir(sp->root, hook_dirs[i], 0770) == -1)
			return -1;
	return 0;
}

int
spool_webhook_name(char *out, size_t len, const char *id, int target)
{
	if (!spool_id_valid(id) || target < 0 || target >= SPOOL_HOOK_TARGETS ||
	    len < SPOOL_ID_LEN + 8) {
		errno = EINVAL;
		return -1;
	}
	snprintf(out, len, "%s.%d.json", id, target);
	return 0;
}

int
spool_webhook_parse(const char *name, char id[], int *target)
{
	if (strlen(name) != SPOOL_ID_LEN + 7 || name[SPOOL_ID_LEN] != '.' ||
	    name[SPOOL_ID_LEN + 1] < '0' ||
	    name[SPOOL_ID_LEN + 1] >= '0' + SPOOL_HOOK_TARGETS ||
	    strcmp(name + SPOOL_ID_LEN + 2, ".json") != 0)
		return -1;
	memcpy(id, name, SPOOL_ID_LEN);
	id[SPOOL_ID_LEN] = '\0';
	if (!spool_id_valid(id))
		return -1;
	*target = name[SPOOL_ID_LEN + 1] - '0';
	return 0;
}

/* 1 when name may be an owner's directory under cur/. */
static int
owner_ok(const char *owner)
{
	size_t n = strlen(owner);

	return n > 0 && n < 65 && owner[0] != '.' && strchr(owner, '/') == NULL;
}

/* The area's lock, taken; its fd or -1. */
static int
hook_lock(struct spool *sp)
{
	int fd, rc;

	fd = openat(
	    sp->root, "webhooks/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	if (fd == -1)
		return -1;
	do
		rc = flock(fd, LOCK_EX);
	while (rc == -1 && errno == EINTR);
	if (rc == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
hook_unlock(int fd)
{
	int saved = errno;

	close(fd); /* drops the flock */
	errno = saved;
}

static int
at_exists(struct spool *sp, const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%.160s/%.64s", dir, name);
	return faccessat(sp->root, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* 1 when name is in new/, done/ or any cur/<d>/. */
static int
hook_exists(struct spool *sp, const char *name)
{
	char sub[160];
	struct dirent *de;
	DIR *d;
	int found;

	found = at_exists(sp, "webhooks/new", name) ||
	    at_exists(sp, "webhooks/done", name);
	d = found ? NULL : spool_opendir(sp->root, "webhooks/cur");
	while (d != NULL && !found && (de = readdir(d)) != NULL) {
		if (!owner_ok(de->d_name))
			continue;
		snprintf(sub, sizeof(sub), "webhooks/cur/%.64s", de->d_name);
		found = at_exists(sp, sub, name);
	}
	if (d != NULL)
		closedir(d);
	return found;
}

/* Write rec by the temp-file rule into webhooks/<sub>/<name>. */
static int
hook_write(struct spool *sp, const char *sub, const char *name,
    const json_t *rec, int excl)
{
	struct spool_tmpfile t;
	char path[160];
	char *s = NULL;
	int tmp = -1, dst = -1, rc = -1;

	snprintf(path, sizeof(path), "webhooks/%s", sub);
	tmp = openat(
	    sp->root, "webhooks/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dst = openat(sp->root, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	s = json_dumps(rec, JSON_COMPACT);
	if (tmp == -1 || dst == -1 || s == NULL) {
		if (s == NULL)
			errno = ENOMEM;
		goto out;
	}
	if (spool_tmp_open(&t, tmp, name) == -1)
		goto out;
	t.todir = dst;
	t.excl = excl;
	if (spool_tmp_write(&t, s, strlen(s)) == -1) {
		spool_tmp_abort(&t);
		goto out;
	}
	rc = spool_tmp_publish(&t);
out:
	free(s);
	if (tmp != -1)
		close(tmp);
	if (dst != -1)
		close(dst);
	return rc;
}

int
spool_webhook_enqueue(struct spool *sp, const char *id, int target,
    const char *url, const char *body)
{
	char name[SPOOL_WEBHOOK_NAME_MAX];
	long long now = spool_now_ms();
	json_t *rec;
	int lock, rc = -1;

	if (spool_webhook_name(name, sizeof(name), id, target) == -1)
		return -1;
	/* clang-format off */
	rec = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:i, s:I, s:I, s:n, s:n, s:n, s:s}",
	    "batch_id", id,
	    "target", target == SPOOL_HOOK_UPLOAD ? "upload" : "config",
	    "url", url,
	    "event", "batch.finished",
	    "state", "pending",
	    "attempts", 0,
	    "created", (json_int_t)now,
	    "next_attempt", (json_int_t)now,
	    "last_attempt",
	    "last_error",
	    "http_status",
	    "body", body);
	/* clang-format on */
	if (rec == NULL) {
		errno = ENOMEM;
		return -1;
	}
	lock = hook_lock(sp);
	if (lock == -1)
		goto out;
	if (hook_exists(sp, name))
		rc = 0;
	else if (hook_write(sp, "new", name, rec, 1) == 0)
		rc = 1;
	else if (errno == EEXIST)
		rc = 0;
	hook_unlock(lock);
out:
	json_decref(rec);
	return rc;
}

/* The body: the batch summary as every reader sees it, and the event. */
static char *
finished_body(struct spool *sp, const char *id)
{
	json_t *sum = spool_batch_summary(sp, id);
	char *s = NULL;

	if (sum == NULL)
		return NULL;
	if (json_is_true(json_object_get(sum, "finished")) &&
	    json_object_set_new(sum, "event", json_string("batch.finished")) ==
	        0)
		s = json_dumps(sum, JSON_COMPACT | JSON_REAL_PRECISION(9));
	else
		errno = EAGAIN;
	json_decref(sum);
	return s;
}

int
spool_webhook_batch_done(struct spool *sp, const char *id)
{
	char name[SPOOL_WEBHOOK_NAME_MAX];
	const char *url[SPOOL_HOOK_TARGETS];
	char *body = NULL;
	json_t *b;
	int k, want = 0, n = 0, rc;

	b = spool_batch_get(sp, id);
	if (b == NULL)
		return -1;
	url[SPOOL_HOOK_UPLOAD] =
	    json_string_value(json_object_get(b, "webhook_url"));
	url[SPOOL_HOOK_CONFIG] =
	    json_is_true(json_object_get(b, "webhook_config")) ? "" : NULL;
	/* Cheap first: a batch without targets, or announced, costs no
	 * summary (the sweep asks about every batch). */
	for (k = 0; k < SPOOL_HOOK_TARGETS; k++)
		if (url[k] != NULL &&
		    spool_webhook_name(name, sizeof(name), id, k) == 0 &&
		    !hook_exists(sp, name))
			want++;
	if (want == 0)
		goto out;
	body = finished_body(sp, id);
	if (body == NULL) {
		n = errno == EAGAIN ? 0 : -1;
		goto out;
	}
	for (k = 0; k < SPOOL_HOOK_TARGETS; k++) {
		if (url[k] == NULL)
			continue;
		rc = spool_webhook_enqueue(
		    sp, id, k, k == SPOOL_HOOK_UPLOAD ? url[k] : NULL, body);
		if (rc == -1) {
			n = -1;
			break;
		}
		n += rc;
	}
out:
	free(body);
	json_decref(b);
	return n;
}

int
spool_webhook_due(
    struct spool *sp, long long now, char *name, size_t len, long long *next)
{
	char id[SPOOL_ID_LEN + 1], best[SPOOL_WEBHOOK_NAME_MAX] = "";
	long long first = LLONG_MAX;
	struct dirent *de;
	DIR *d;
	int k;

	*next = LLONG_MAX;
	d = spool_opendir(sp->root, "webhooks/new");
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		json_t *rec;
		long long at;

		if (spool_webhook_parse(de->d_name, id, &k) == -1)
			continue;
		rec = spool_read_json(dirfd(d), de->d_name, RECORD_CAP);
		if (rec == NULL)
			continue; /* claimed meanwhile, or unreadable */
		at = json_integer_value(json_object_get(rec, "next_attempt"));
		json_decref(rec);
		if (at < first) {
			first = at;
			snprintf(best, sizeof(best), "%.47s", de->d_name);
		}
	}
	closedir(d);
	if (best[0] != '\0' && first <= now) {
		snprintf(name, len, "%s", best);
		return 1;
	}
	*next = first;
	return 0;
}

static int
owner_path(char *out, size_t len, const char *owner, const char *name)
{
	if (!owner_ok(owner)) {
		errno = EINVAL;
		return -1;
	}
	if (name != NULL)
		snprintf(out, len, "webhooks/cur/%s/%s", owner, name);
	else
		snprintf(out, len, "webhooks/cur/%s", owner);
	return 0;
}

int
spool_webhook_watch(struct spool *sp, int inotify_fd)
{
	char path[4096 + 16];

	snprintf(path, sizeof(path), "%s/webhooks/new", sp->path);
	return inotify_add_watch(
	    inotify_fd, path, IN_MOVED_TO | IN_CREATE | IN_ONLYDIR);
}

int
spool_webhook_owner_add(struct spool *sp, const char *owner)
{
	char path[160];

	if (owner_path(path, sizeof(path), owner, NULL) == -1)
		return -1;
	return spool_mkdir(sp->root, path, 0770);
}

int
spool_webhook_owner_remove(struct spool *sp, const char *owner)
{
	char path[160];

	if (owner_path(path, sizeof(path), owner, NULL) == -1)
		return -1;
	if (unlinkat(sp->root, path, AT_REMOVEDIR) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

/* Rename webhooks/<from> to webhooks/<to> under the lock, fsync <todir>. */
static int
hook_move(struct spool *sp, const char *from, const char *to, const char *todir)
{
	int lock, rc;

	lock = hook_lock(sp);
	if (lock == -1)
		return -1;
	rc = spool_io_rename(sp->root, from, sp->root, to);
	if (rc == 0)
		rc = spool_fsync_at(sp->root, todir);
	hook_unlock(lock);
	return rc;
}

json_t *
spool_webhook_claim(struct spool *sp, const char *owner, const char *name)
{
	char id[SPOOL_ID_LEN + 1], src[160], dst[160];
	int k;

	if (spool_webhook_parse(name, id, &k) == -1 ||
	    owner_path(dst, sizeof(dst), owner, name) == -1) {
		errno = EINVAL;
		return NULL;
	}
	snprintf(src, sizeof(src), "webhooks/new/%s", name);
	if (hook_move(sp, src, dst, "webhooks/new") == -1)
		return NULL;
	return spool_read_json(sp->root, dst, RECORD_CAP);
}

int
spool_webhook_save(
    struct spool *sp, const char *owner, const char *name, const json_t *rec)
{
	char sub[160];
	char id[SPOOL_ID_LEN + 1];
	int k;

	if (spool_webhook_parse(name, id, &k) == -1 || !owner_ok(owner)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(sub, sizeof(sub), "cur/%s", owner);
	return hook_write(sp, sub, name, rec, 0);
}

int
spool_webhook_requeue(struct spool *sp, const char *owner, const char *name)
{
	char src[160], dst[160];

	if (owner_path(src, sizeof(src), owner, name) == -1)
		return -1;
	snprintf(dst, sizeof(dst), "webhooks/new/%s", name);
	return hook_move(sp, src, dst, "webhooks/new");
}

int
spool_webhook_finish(struct spool *sp, const char *owner, const char *name)
{
	char src[160], dst[160];

	if (owner_path(src, sizeof(src), owner, name) == -1)
		return -1;
	snprintf(dst, sizeof(dst), "webhooks/done/%s", name);
	return hook_move(sp, src, dst, "webhooks/done");
}

int
spool_webhook_release_all(struct spool *sp, const char *owner)
{
	char path[160], id[SPOOL_ID_LEN + 1];
	struct dirent *de;
	DIR *d;
	int k, n = 0;

	if (owner_path(path, sizeof(path), owner, NULL) == -1)
		return -1;
	d = spool_opendir(sp->root, path);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (spool_webhook_parse(de->d_name, id, &k) == -1 ||
		    spool_webhook_requeue(sp, owner, de->d_name) == -1)
			continue;
		log_info(
		    "webhook %s: recovered from daemon %s", de->d_name, owner);
		n++;
	}
	closedir(d);
	return n;
}

void
spool_webhook_forget(struct spool *sp, const char *id)
{
	char name[SPOOL_WEBHOOK_NAME_MAX], path[160];
	int k, lock;

	lock = hook_lock(sp);
	if (lock == -1)
		return;
	for (k = 0; k < SPOOL_HOOK_TARGETS; k++) {
		if (spool_webhook_name(name, sizeof(name), id, k) == -1)
			break;
		snprintf(path, sizeof(path), "webhooks/new/%s", name);
		unlinkat(sp->root, path, 0);
		snprintf(path, sizeof(path), "webhooks/done/%s", name);
		unlinkat(sp->root, path, 0);
	}
	hook_unlock(lock);
}

/* Records of webhooks/<sub>/ whose batch is gone are removed. */
static int
sweep_orphans(struct spool *sp, const char *sub)
{
	char path[64], id[SPOOL_ID_LEN + 1];
	struct dirent *de;
	DIR *d;
	int k, fd, n = 0;

	snprintf(path, sizeof(path), "webhooks/%s", sub);
	d = spool_opendir(sp->root, path);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (spool_webhook_parse(de->d_name, id, &k) == -1)
			continue;
		fd = spool_batch_dir(sp, id, NULL);
		if (fd != -1) {
			close(fd);
			continue;
		}
		if (errno == ENOENT && unlinkat(dirfd(d), de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int
spool_webhook_sweep(struct spool *sp, long stale_s)
{
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	DIR *d;
	int n = sweep_orphans(sp, "new") + sweep_orphans(sp, "done");

	d = spool_opendir(sp->root, "webhooks/tmp");
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		        -1 ||
		    now - st.st_mtime < stale_s)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			n++;
	}
	if (d != NULL)
		closedir(d);
	return n;
}

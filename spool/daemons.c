/*
 * daemons.c: the registry of daemons working on the spool.
 *
 *   daemons/<d>.lock   flock(2)ed by daemon <d> for its whole life
 *   daemons/<d>.json   its heartbeat, replaced every few seconds
 *   q/cur/<d>/         its claims (queue.c)
 *   webhooks/cur/<d>/  its webhook deliveries under way (webhook.c)
 *
 * A daemon is alive exactly while it holds the flock of its lock file:
 * the kernel drops it when the process dies, however it dies.  The lock
 * is taken on a dot-name before the rename makes it visible, so nobody can
 * ever see a live daemon's lock unlocked.  Reaping hands a dead daemon's
 * claims back to q/new and removes its files; a live daemon's claims are
 * never touched.  The readiness check also wants a fresh heartbeat
 * (under SPOOL_HEARTBEAT_FRESH_MS), so a hung daemon counts as not alive.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "spool.h"

static int
daemons_dir(struct spool *sp)
{
	return openat(sp->root, "daemons", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* "<d>.lock" or "<d>.json" into out; -1 when d is no daemon name. */
static int
daemon_file(char *out, size_t len, const char *d, const char *ext)
{
	int n;

	if (d[0] == '\0' || d[0] == '.' || strchr(d, '/') != NULL) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(out, len, "%s.%s", d, ext);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
spool_daemon_register(struct spool *sp, struct spool_daemon *d)
{
	char id[SPOOL_ID_LEN + 1], tmp[SPOOL_DAEMON_MAX + 8];
	char name[SPOOL_DAEMON_MAX + 8];
	int dir, saved;

	d->lockfd = -1;
	if (spool_id_new(id) == -1)
		return -1;
	snprintf(d->name, sizeof(d->name), "d-%.12s", id);
	dir = daemons_dir(sp);
	if (dir == -1)
		return -1;
	snprintf(tmp, sizeof(tmp), ".%s.lock", d->name);
	daemon_file(name, sizeof(name), d->name, "lock");
	/* Lock before visible: no one can see our lock unlocked. */
	d->lockfd =
	    openat(dir, tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
	if (d->lockfd == -1)
		goto fail;
	if (flock(d->lockfd, LOCK_EX | LOCK_NB) == -1 ||
	    renameat(dir, tmp, dir, name) == -1) {
		unlinkat(dir, tmp, 0);
		goto fail;
	}
	close(dir);
	return spool_queue_owner_add(sp, d->name);
fail:
	saved = errno;
	if (d->lockfd != -1)
		close(d->lockfd);
	d->lockfd = -1;
	close(dir);
	errno = saved;
	return -1;
}

void
spool_daemon_unregister(struct spool *sp, struct spool_daemon *d)
{
	char name[SPOOL_DAEMON_MAX + 8];
	int dir;

	if (d->lockfd == -1)
		return;
	/* Our claims are all finished or handed back; leave no trace. */
	if (spool_queue_owner_remove(sp, d->name) == -1)
		log_warn("q/cur/%s", d->name);
	if (spool_webhook_owner_remove(sp, d->name) == -1)
		log_warn("webhooks/cur/%s", d->name);
	dir = daemons_dir(sp);
	if (dir != -1) {
		daemon_file(name, sizeof(name), d->name, "json");
		unlinkat(dir, name, 0);
		daemon_file(name, sizeof(name), d->name, "lock");
		unlinkat(dir, name, 0);
		close(dir);
	}
	close(d->lockfd);
	d->lockfd = -1;
}

int
spool_daemon_beat(
    struct spool *sp, const struct spool_daemon *d, const struct spool_beat *b)
{
	char name[SPOOL_DAEMON_MAX + 8];
	json_t *j;
	int dir, rc = -1;

	/* clang-format off */
	j = json_pack("{s:s, s:i, s:I, s:I, s:i, s:i}",
	    "daemon", d->name,
	    "pid", (int)getpid(),
	    "started", (json_int_t)b->started,
	    "heartbeat", (json_int_t)spool_now_ms(),
	    "workers", b->workers,
	    "busy", b->busy);
	/* clang-format on */
	if (j == NULL) {
		errno = ENOMEM;
		return -1;
	}
	/* The backends' own fields ("backends", "fal_auth", ...) as given. */
	if (b->health != NULL)
		json_object_update(j, b->health);
	json_object_set_new(j, "paused",
	    b->paused != NULL ? json_string(b->paused) : json_null());
	dir = daemons_dir(sp);
	if (dir != -1 && daemon_file(name, sizeof(name), d->name, "json") == 0)
		rc = spool_write_json(dir, name, j);
	if (dir != -1)
		close(dir);
	json_decref(j);
	return rc;
}

/* 1 when daemon d is gone: its lock file is missing or not held. */
static int
daemon_dead(int dir, const char *d, int *lockfd)
{
	char name[SPOOL_DAEMON_MAX + 8];

	*lockfd = -1;
	if (daemon_file(name, sizeof(name), d, "lock") == -1)
		return 0;
	*lockfd = openat(dir, name, O_RDWR | O_CLOEXEC);
	if (*lockfd != -1 && flock(*lockfd, LOCK_EX | LOCK_NB) == -1) {
		close(*lockfd); /* held: alive */
		*lockfd = -1;
		return 0;
	}
	return 1;
}

/* Hand back the claims of daemon d when it is dead; 1 when it was. */
static int
reap_one(struct spool *sp, int dir, const char *me, const char *d)
{
	char name[SPOOL_DAEMON_MAX + 8];
	int lockfd, gone;

	if (strcmp(d, me) == 0 || strlen(d) >= SPOOL_DAEMON_MAX ||
	    !daemon_dead(dir, d, &lockfd))
		return 0;
	spool_queue_release_all(sp, d);
	spool_webhook_release_all(sp, d);
	gone = spool_queue_owner_remove(sp, d) == 0 &&
	    spool_webhook_owner_remove(sp, d) == 0;
	if (daemon_file(name, sizeof(name), d, "json") == 0)
		unlinkat(dir, name, 0);
	/* The lock goes last: while claims remain, it names their owner. */
	if (gone && daemon_file(name, sizeof(name), d, "lock") == 0)
		unlinkat(dir, name, 0);
	if (lockfd != -1)
		close(lockfd);
	return gone;
}

int
spool_daemon_reap(struct spool *sp, const char *me)
{
	char d[SPOOL_DAEMON_MAX];
	struct dirent *de;
	DIR *cur;
	int dir, n = 0;

	dir = daemons_dir(sp);
	if (dir == -1)
		return -1;
	/* Owners with claims, then registered daemons without any. */
	cur = spool_opendir(sp->root, "q/cur");
	while (cur != NULL && (de = readdir(cur)) != NULL)
		if (de->d_name[0] != '.')
			n += reap_one(sp, dir, me, de->d_name);
	if (cur != NULL)
		closedir(cur);
	/* Webhook senders with claims (spool/webhook.c). */
	cur = spool_opendir(sp->root, "webhooks/cur");
	while (cur != NULL && (de = readdir(cur)) != NULL)
		if (de->d_name[0] != '.')
			n += reap_one(sp, dir, me, de->d_name);
	if (cur != NULL)
		closedir(cur);
	cur = spool_opendir(dir, ".");
	while (cur != NULL && (de = readdir(cur)) != NULL) {
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.' || l < 6 || l - 5 >= sizeof(d) ||
		    strcmp(de->d_name + l - 5, ".lock") != 0)
			continue;
		memcpy(d, de->d_name, l - 5);
		d[l - 5] = '\0';
		n += reap_one(sp, dir, me, d);
	}
	if (cur != NULL)
		closedir(cur);
	close(dir);
	return n;
}

/* 1 when daemon d's lock is held by someone (its daemon lives). */
static int
lock_held(int dir, const char *d)
{
	char name[SPOOL_DAEMON_MAX + 8];
	int fd, held;

	if (daemon_file(name, sizeof(name), d, "lock") == -1)
		return 0;
	fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return 0;
	/* We can take it only when its daemon is gone. */
	held = flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

int
spool_daemons_alive(struct spool *sp, json_t *beats)
{
	char d[SPOOL_DAEMON_MAX];
	long long now = spool_now_ms();
	struct dirent *de;
	DIR *dd;
	int alive = 0;

	dd = spool_opendir(sp->root, "daemons");
	if (dd == NULL)
		return 0;
	while ((de = readdir(dd)) != NULL) {
		size_t l = strlen(de->d_name);
		json_t *j;
		long long hb;

		if (de->d_name[0] == '.' || l < 6 || l - 5 >= sizeof(d) ||
		    strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		j = spool_read_json(dirfd(dd), de->d_name, 65536);
		if (j == NULL)
			continue;
		hb = json_integer_value(json_object_get(j, "heartbeat"));
		memcpy(d, de->d_name, l - 5);
		d[l - 5] = '\0';
		if (now - hb <= SPOOL_HEARTBEAT_FRESH_MS &&
		    lock_held(dirfd(dd), d)) {
			alive++;
			if (beats != NULL)
				json_array_append(beats, j);
		}
		json_decref(j);
	}
	closedir(dd);
	return alive;
}

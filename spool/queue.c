/*
 * queue.c: queue markers, one empty file "<id>.<n>" per file to process.
 *
 *   q/tmp/.<m>.<r>.tmp being published (spool_tmp_open: O_EXCL, fsynced,
 *                      then renamed straight into q/new)
 *   q/new/<m>          waiting; the instant it appears the file is queued
 *   q/cur/<owner>/<m>  claimed by daemon <owner> (rename; the loser of a
 *                      race gets ENOENT and moves on)
 *
 * A marker leaves q/cur only after the file's final status is written,
 * so a daemon that dies leaves its claims for recovery to hand back.
 * Cancel withdraws a waiting marker by the same rename race.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"

/* fd of q/<sub>, or -1. */
static int
qdir(struct spool *sp, const char *sub)
{
	char path[32];

	snprintf(path, sizeof(path), "q/%s", sub);
	return openat(sp->root, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int
spool_queue_put(struct spool *sp, const char *id, int file)
{
	struct spool_tmpfile t;
	char m[SPOOL_MARKER_MAX];
	int tmp = -1, dst = -1, rc = -1;

	if (spool_marker_name(m, sizeof(m), id, file) == -1)
		return -1;
	tmp = qdir(sp, "tmp");
	dst = qdir(sp, "new");
	if (tmp == -1 || dst == -1)
		goto out;
	/* Published from q/tmp straight into q/new: never seen half-made. */
	if (spool_tmp_open(&t, tmp, m) == -1)
		goto out;
	t.todir = dst;
	rc = spool_tmp_publish(&t);
out:
	if (tmp != -1)
		close(tmp);
	if (dst != -1)
		close(dst);
	return rc;
}

static int
marker_ok(const char *marker)
{
	char id[SPOOL_ID_LEN + 1];
	int file;

	return spool_marker_parse(marker, id, &file) == 0;
}

static int
owner_ok(const char *owner)
{
	size_t i, n = strlen(owner);

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((owner[i] >= '0' && owner[i] <= '9') ||
		        (owner[i] >= 'a' && owner[i] <= 'z') ||
		        owner[i] == '-'))
			return 0;
	return 1;
}

int
spool_queue_claim(struct spool *sp, const char *owner, const char *marker)
{
	char src[96], dst[160];

	if (!marker_ok(marker) || !owner_ok(owner)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(src, sizeof(src), "q/new/%s", marker);
	snprintf(dst, sizeof(dst), "q/cur/%s/%s", owner, marker);
	return spool_io_rename(sp->root, src, sp->root, dst);
}

int
spool_queue_done(struct spool *sp, const char *owner, const char *marker)
{
	char path[160];

	if (!marker_ok(marker) || !owner_ok(owner)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(path, sizeof(path), "q/cur/%s/%s", owner, marker);
	if (unlinkat(sp->root, path, 0) == -1)
		return -1;
	snprintf(path, sizeof(path), "q/cur/%s", owner);
	return spool_fsync_at(sp->root, path);
}

int
spool_queue_release(struct spool *sp, const char *owner, const char *marker)
{
	char src[160], dst[96];

	if (!marker_ok(marker) || !owner_ok(owner)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(src, sizeof(src), "q/cur/%s/%s", owner, marker);
	snprintf(dst, sizeof(dst), "q/new/%s", marker);
	if (spool_io_rename(sp->root, src, sp->root, dst) == -1)
		return -1;
	return spool_fsync_at(sp->root, "q/new");
}

int
spool_queue_withdraw(struct spool *sp, const char *id, int file)
{
	char m[SPOOL_MARKER_MAX], src[96], dst[96];

	if (spool_marker_name(m, sizeof(m), id, file) == -1)
		return -1;
	snprintf(src, sizeof(src), "q/new/%s", m);
	/* Rename first: it is the same race a claim runs, so only one wins. */
	snprintf(dst, sizeof(dst), "q/tmp/%s.withdrawn", m);
	if (spool_io_rename(sp->root, src, sp->root, dst) == -1)
		return -1;
	unlinkat(sp->root, dst, 0);
	return spool_fsync_at(sp->root, "q/new");
}

static int
dir_has(struct spool *sp, const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return faccessat(sp->root, path, F_OK, 0) == 0;
}

/* 1 when a marker m is being published: q/tmp/.<m>.<rand>.tmp exists. */
static int
publishing(struct spool *sp, const char *m)
{
	struct dirent *de;
	size_t l = strlen(m);
	DIR *d;
	int found = 0;

	d = spool_opendir(sp->root, "q/tmp");
	if (d == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL)
		found = de->d_name[0] == '.' &&
		    strncmp(de->d_name + 1, m, l) == 0 &&
		    de->d_name[l + 1] == '.';
	closedir(d);
	return found;
}

int
spool_queue_has(struct spool *sp, const char *id, int file)
{
	char m[SPOOL_MARKER_MAX], sub[320];
	struct dirent *de;
	DIR *d;
	int found = 0;

	if (spool_marker_name(m, sizeof(m), id, file) == -1)
		return 0;
	if (dir_has(sp, "q/new", m) || publishing(sp, m))
		return 1;
	d = spool_opendir(sp->root, "q/cur");
	if (d == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "q/cur/%s", de->d_name);
		found = dir_has(sp, sub, m);
	}
	closedir(d);
	/* A claim may have moved it while we looked: check q/new again. */
	return found || dir_has(sp, "q/new", m);
}

int
spool_queue_depth(struct spool *sp)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = spool_opendir(sp->root, "q/new");
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* "q/cur/<owner>" into path; -1 with EINVAL for a bad owner. */
static int
owner_dir(char *path, size_t len, const char *owner)
{
	if (!owner_ok(owner)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(path, len, "q/cur/%s", owner);
	return 0;
}

int
spool_queue_owner_add(struct spool *sp, const char *owner)
{
	char path[96];

	if (owner_dir(path, sizeof(path), owner) == -1)
		return -1;
	return spool_mkdir(sp->root, path, 0770);
}

int
spool_queue_owner_remove(struct spool *sp, const char *owner)
{
	char path[96];

	if (owner_dir(path, sizeof(path), owner) == -1)
		return -1;
	if (unlinkat(sp->root, path, AT_REMOVEDIR) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

int
spool_queue_release_all(struct spool *sp, const char *owner)
{
	char path[96];
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (owner_dir(path, sizeof(path), owner) == -1)
		return -1;
	d = spool_opendir(sp->root, path);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    spool_queue_release(sp, owner, de->d_name) == -1)
			continue;
		log_info(
		    "%s: recovered from dead daemon %s", de->d_name, owner);
		n++;
	}
	closedir(d);
	return n;
}

/* Append <dir>/<name> to *v when it is a marker still there. */
static int
list_one(
    int dir, const char *name, struct spool_marker **v, size_t *n, size_t *cap)
{
	struct spool_marker *m;
	struct stat st;

	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;

		m = realloc(*v, c * sizeof(*m));
		if (m == NULL)
			return -1;
		*v = m;
		*cap = c;
	}
	m = &(*v)[*n];
	if (spool_marker_parse(name, m->id, &m->file) == -1)
		return 0;
	if (fstatat(dir, name, &st, 0) == -1)
		return 0; /* claimed meanwhile */
	snprintf(m->name, sizeof(m->name), "%.47s", name);
	m->mtime = st.st_mtim;
	(*n)++;
	return 0;
}

/* Append every marker of the directory sub (of the spool) to *v. */
static int
list_dir(struct spool *sp, const char *sub, struct spool_marker **v, size_t *n,
    size_t *cap)
{
	struct dirent *de;
	DIR *d;
	int saved;

	d = spool_opendir(sp->root, sub);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (list_one(dirfd(d), de->d_name, v, n, cap) == -1) {
			saved = errno;
			closedir(d);
			errno = saved;
			return -1;
		}
	}
	closedir(d);
	return 0;
}

int
spool_queue_list(struct spool *sp, struct spool_marker **out, size_t *count)
{
	struct spool_marker *v = NULL;
	size_t n = 0, cap = 0;

	if (list_dir(sp, "q/new", &v, &n, &cap) == -1) {
		free(v);
		return -1;
	}
	*out = v;
	*count = n;
	return 0;
}

int
spool_queue_list_all(struct spool *sp, struct spool_marker **out, size_t *count)
{
	struct spool_marker *v = NULL;
	size_t n = 0, cap = 0;
	char sub[320];
	struct dirent *de;
	DIR *d = NULL;
	int saved;

	if (list_dir(sp, "q/new", &v, &n, &cap) == -1)
		goto fail;
	d = spool_opendir(sp->root, "q/cur");
	if (d == NULL)
		goto fail;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "q/cur/%s", de->d_name);
		/* An owner that left meanwhile has no claims to count. */
		if (list_dir(sp, sub, &v, &n, &cap) == -1 && errno != ENOENT &&
		    errno != ENOTDIR)
			goto fail;
	}
	closedir(d);
	*out = v;
	*count = n;
	return 0;
fail:
	saved = errno;
	if (d != NULL)
		closedir(d);
	free(v);
	errno = saved;
	return -1;
}

int
spool_queue_watch(struct spool *sp, int inotify_fd)
{
	char path[PATH_MAX + 8];

	if (snprintf(path, sizeof(path), "%s/q/new", sp->path) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return inotify_add_watch(inotify_fd, path,
	    IN_MOVED_TO | IN_CREATE | IN_ONLYDIR | IN_DELETE_SELF |
	        IN_MOVE_SELF);
}

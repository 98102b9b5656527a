/*
 * spool.c: opening the spool tree.
 *
 *   SPOOL_DIR/tmp/<id>/        a batch being submitted (invisible)
 *   SPOOL_DIR/batches/<id>/    submitted batches
 *   SPOOL_DIR/q/{tmp,new,cur}/ queue markers
 *   SPOOL_DIR/daemons/         daemon locks and heartbeats
 *   SPOOL_DIR/trash/           batches being removed by retention
 *
 *   SPOOL_DIR/webhooks/        webhook deliveries (webhook.c)
 *
 * The sweep removes what a crash can leave in tmp/ and q/tmp/ (anything
 * older than any upload may take, dot-names included: they are temp files
 * of spool_tmp_open) and finishes removals interrupted in trash/.
 *
 * Directories are 0770 (group-shared between the web user and the daemon,
 * never world-writable).  All later access is relative to sp->root, so a
 * rename of SPOOL_DIR cannot redirect a half-done operation.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"

static const char *const spool_dirs[] = {
    "tmp",
    "batches",
    "q",
    "q/tmp",
    "q/new",
    "q/cur",
    "daemons",
    "trash",
};

int
spool_open(struct spool *sp, const char *path, int create)
{
	size_t i;
	int saved;

	memset(sp, 0, sizeof(*sp));
	sp->root = -1;
	if (create && spool_mkdir(AT_FDCWD, path, 0770) == -1) {
		/* Make missing parents (e.g. ./var/spool) the way mkdir -p does. */
		char buf[4096], *p;

		if (errno != ENOENT || strlen(path) >= sizeof(buf))
			return -1;
		snprintf(buf, sizeof(buf), "%s", path);
		for (p = buf + 1; *p != '\0'; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			if (spool_mkdir(AT_FDCWD, buf, 0770) == -1)
				return -1;
			*p = '/';
		}
		if (spool_mkdir(AT_FDCWD, path, 0770) == -1)
			return -1;
	}
	if (realpath(path, sp->path) == NULL)
		return -1;
	sp->root = open(sp->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->root == -1)
		return -1;
	for (i = 0; i < sizeof(spool_dirs) / sizeof(spool_dirs[0]); i++) {
		if (create) {
			if (spool_mkdir(sp->root, spool_dirs[i], 0770) == -1)
				goto fail;
		} else if (faccessat(sp->root, spool_dirs[i], F_OK, 0) == -1)
			goto fail;
	}
	return 0;
fail:
	saved = errno;
	close(sp->root);
	sp->root = -1;
	errno = saved;
	return -1;
}

void
spool_close(struct spool *sp)
{
	if (sp->root != -1)
		close(sp->root);
	sp->root = -1;
}

int
spool_batch_dir(struct spool *sp, const char *id, const char *sub)
{
	char path[PATH_MAX];
	int n;

	if (!spool_id_valid(id)) {
		errno = ENOENT;
		return -1;
	}
	if (sub != NULL)
		n = snprintf(path, sizeof(path), "batches/%s/%s", id, sub);
	else
		n = snprintf(path, sizeof(path), "batches/%s", id);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return openat(sp->root, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int
spool_check_space(struct spool *sp)
{
	long long mb;

	if (sp->floor_mb <= 0)
		return 0;
	mb = spool_free_mb(sp->root);
	if (mb == -1)
		return -1;
	if (mb < sp->floor_mb) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

long long
spool_free_space_mb(struct spool *sp)
{
	return spool_free_mb(sp->root);
}

int
spool_writable(struct spool *sp)
{
	struct spool_tmpfile t;
	int dir, ok = 0;

	dir = openat(sp->root, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir == -1)
		return 0;
	/* A temp file that is never published: create, write, remove. */
	if (spool_tmp_open(&t, dir, "ready") == 0) {
		char tmp[sizeof(t.tmp)];

		memcpy(tmp, t.tmp, sizeof(tmp));
		ok = spool_tmp_write(&t, "ok\n", 3) == 0;
		spool_tmp_abort(&t);
		ok = ok && faccessat(dir, tmp, F_OK, AT_SYMLINK_NOFOLLOW) == -1;
	}
	close(dir);
	return ok;
}

/* Remove what sub/ holds: entries older than stale_s (all when < 0). */
static int
sweep_dir(struct spool *sp, const char *sub, long stale_s)
{
	char path[128];
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	DIR *d;
	int n = 0;

	d = spool_opendir(sp->root, sub);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		        -1)
			continue;
		if (stale_s >= 0 && now - st.st_mtime < stale_s)
			continue;
		snprintf(path, sizeof(path), "%s/%.64s", sub, de->d_name);
		if (stale_s >= 0)
			log_info("%s: removing stale temporary", path);
		if (spool_rmtree(sp->root, path) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int
spool_sweep(struct spool *sp, long stale_s)
{
	return sweep_dir(sp, "q/tmp", stale_s) + sweep_dir(sp, "tmp", stale_s) +
	    sweep_dir(sp, "trash", -1) + spool_webhook_sweep(sp, stale_s);
}

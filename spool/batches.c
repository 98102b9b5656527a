/*
 * batches.c: the batches/ directory as a set, and the files of one batch
 * that are neither its status (status.c) nor its submission (submit.c).
 *
 *   batches/<id>/in/<n>.<ext>     the uploaded image (path from batch.json)
 *   batches/<id>/out/<n>.<ext>    results (the thumbnail <n>.thumb.jpg
 *                                 named by spool_thumb_name); checked by
 *                                 spool_out_name_ok before any path
 *   batches/<id>/remote/<n>.json  the provider's request record
 *
 * A batch leaves by rename into trash/ first, so a reader sees the whole
 * batch or none of it; the recursive removal that follows may be cut by a
 * crash and is finished by the daemon's sweep (spool_sweep).  Expiry by
 * age (spool_batches_expire) is the one retention rule: a batch whose
 * batch.json "created" is before the cutoff goes, whoever asks (the
 * daemon's RETENTION_HOURS, the admin API's cleanup).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"

int
spool_batch_foreach(
    struct spool *sp, int (*fn)(const char *id, void *arg), void *arg)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	d = spool_opendir(sp->root, "batches");
	if (d == NULL)
		return -1;
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (spool_id_valid(de->d_name))
			rc = fn(de->d_name, arg);
	closedir(d);
	return rc;
}

int
spool_batch_remove(struct spool *sp, const char *id)
{
	char from[64], to[64];
	int n;

	if (!spool_id_valid(id)) {
		errno = ENOENT;
		return -1;
	}
	/* Withdraw its waiting markers, then move it away whole. */
	for (n = 0; n < SPOOL_MAX_FILES; n++)
		spool_queue_withdraw(sp, id, n);
	snprintf(from, sizeof(from), "batches/%s", id);
	snprintf(to, sizeof(to), "trash/%s", id);
	if (renameat(sp->root, from, sp->root, to) == -1)
		return -1;
	/* Its webhook records go too (one being delivered is the sweep's). */
	spool_webhook_forget(sp, id);
	return spool_rmtree(sp->root, to);
}

int
spool_out_dir(struct spool *sp, const char *id)
{
	return spool_batch_dir(sp, id, "out");
}

int
spool_out_name_ok(const char *name)
{
	return name != NULL && name[0] != '\0' && name[0] != '.' &&
	    strchr(name, '/') == NULL && strlen(name) < 64;
}

int
spool_thumb_name(int file, char *out, size_t len)
{
	int n;

	if (file < 0 || file >= SPOOL_MAX_FILES) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(out, len, "%d.thumb.jpg", file);
	if (n < 0 || (size_t)n >= len) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
spool_out_path(
    struct spool *sp, const char *id, const char *name, char *out, size_t len)
{
	int n;

	if (!spool_id_valid(id) || !spool_out_name_ok(name)) {
		errno = ENOENT;
		return -1;
	}
	n = snprintf(out, len, "%s/batches/%s/out/%s", sp->path, id, name);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
spool_input_path(
    struct spool *sp, const char *id, const char *input, char *out, size_t len)
{
	int n;

	/* batch.json says "in/<n>.<ext>"; anything else is not ours. */
	if (!spool_id_valid(id) || input == NULL ||
	    strncmp(input, "in/", 3) != 0 || input[3] == '.' ||
	    input[3] == '\0' || strchr(input + 3, '/') != NULL) {
		errno = EBADMSG;
		return -1;
	}
	n = snprintf(out, len, "%s/batches/%s/%s", sp->path, id, input);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
spool_remote_put(struct spool *sp, const char *id, int file, json_t *rec)
{
	char name[32];
	int dir, rc;

	dir = spool_batch_dir(sp, id, "remote");
	if (dir == -1)
		return -1;
	snprintf(name, sizeof(name), "%d.json", file);
	rc = spool_write_json(dir, name, rec);
	close(dir);
	return rc;
}

json_t *
spool_remote_get(struct spool *sp, const char *id, int file)
{
	char name[32];
	json_t *j;
	int dir;

	dir = spool_batch_dir(sp, id, "remote");
	if (dir == -1)
		return NULL;
	snprintf(name, sizeof(name), "%d.json", file);
	j = spool_read_json(dir, name, 64 * 1024);
	close(dir);
	return j;
}

/* Sum of file sizes below dir/name (bounded depth). */
static long long
tree_bytes(int dir, const char *name, int depth)
{
	struct stat st;
	long long sum = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return (long long)st.st_size;
	if (depth > 6)
		return 0;
	fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return 0;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			sum += tree_bytes(dirfd(d), de->d_name, depth + 1);
	closedir(d);
	return sum;
}

long long
spool_batches_bytes(struct spool *sp)
{
	return tree_bytes(sp->root, "batches", 0);
}

long long
spool_batch_bytes(struct spool *sp, const char *id)
{
	char name[64];

	if (!spool_id_valid(id))
		return 0;
	snprintf(name, sizeof(name), "batches/%s", id);
	return tree_bytes(sp->root, name, 0);
}

json_t *
spool_areas_bytes(struct spool *sp)
{
	/* Every top-level directory of the tree (spool/README.md). */
	static const char *const areas[] = {
	    "batches", "tmp", "q", "daemons", "trash", "spend", "webhooks"};
	json_t *o = json_object();
	size_t i;

	for (i = 0; o != NULL && i < sizeof(areas) / sizeof(areas[0]); i++)
		json_object_set_new(o, areas[i],
		    json_integer(tree_bytes(sp->root, areas[i], 0)));
	return o;
}

struct expire_ctx {
	struct spool *sp;
	long long cutoff;
	void (*removed)(const char *id, void *arg);
	void *arg;
	int n;
};

static int
expire_one(const char *id, void *arg)
{
	struct expire_ctx *c = arg;
	json_t *b = spool_batch_get(c->sp, id);
	long long created;

	/* A batch.json that cannot be read is left alone: its age is
	 * unknown, and a half-gone batch is the sweep's. */
	if (b == NULL)
		return 0;
	created = json_integer_value(json_object_get(b, "created"));
	json_decref(b);
	if (created >= c->cutoff || spool_batch_remove(c->sp, id) == -1)
		return 0;
	c->n++;
	if (c->removed != NULL)
		c->removed(id, c->arg);
	return 0;
}

int
spool_batches_expire(struct spool *sp, long long cutoff_ms,
    void (*removed)(const char *id, void *arg), void *arg)
{
	struct expire_ctx c;

	c.sp = sp;
	c.cutoff = cutoff_ms;
	c.removed = removed;
	c.arg = arg;
	c.n = 0;
	if (spool_batch_foreach(sp, expire_one, &c) == -1)
		return -1;
	return c.n;
}

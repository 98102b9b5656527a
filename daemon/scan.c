/*
 * scan.c: recovery, the queue scan and retention.
 *
 * The directory is the truth and inotify only a hint: scan_claim() reads
 * all of q/new every time it is called (on any inotify event, on overflow,
 * after a job ends and on a timer), so a lost event costs latency, never
 * a file.  Recovery never touches a live daemon's claims: a daemon is live
 * while it holds flock(daemons/<d>.lock), which the kernel drops when it
 * dies, however it dies.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#define STALE_TMP_S 3600 /* longer than any upload may take */
#define ORPHAN_S 60 /* a queued file without a marker this long */

struct entry {
	char name[SPOOL_MARKER_MAX];
	struct timespec mtime;
};

/* Call fn(name) for each visible entry of dir (relative to root). */
static int
each_entry_dots(int root, const char *dir, int dots,
    int (*fn)(const char *, void *), void *arg)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = spool_opendir(root, dir);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' &&
		    (!dots || strcmp(de->d_name, ".") == 0 ||
		        strcmp(de->d_name, "..") == 0))
			continue;
		if (fn(de->d_name, arg) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static int
each_entry(
    int root, const char *dir, int (*fn)(const char *, void *), void *arg)
{
	return each_entry_dots(root, dir, 0, fn, arg);
}

struct recover_ctx {
	struct spool *sp;
	const char *me;
	const char *dead;
	time_t now;
};

static int
release_one(const char *name, void *arg)
{
	struct recover_ctx *c = arg;

	if (spool_queue_release(c->sp, c->dead, name) == -1)
		return -1;
	log_info("%s: recovered from dead daemon %s", name, c->dead);
	return 0;
}

/* Hand back the claims of daemon d when it is dead; 1 when it was. */
static int
recover_daemon(struct recover_ctx *c, const char *d)
{
	char path[160];
	int fd, dead = 0;

	if (strcmp(d, c->me) == 0)
		return 0;
	snprintf(path, sizeof(path), "daemons/%s.lock", d);
	fd = openat(c->sp->root, path, O_RDWR | O_CLOEXEC);
	if (fd != -1 && flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd); /* held: alive */
		return 0;
	}
	/* Unlocked, or no lock file at all: its owner is gone. */
	c->dead = d;
	snprintf(path, sizeof(path), "q/cur/%s", d);
	each_entry(c->sp->root, path, release_one, c);
	if (unlinkat(c->sp->root, path, AT_REMOVEDIR) == 0 || errno == ENOENT)
		dead = 1;
	snprintf(path, sizeof(path), "daemons/%s.json", d);
	unlinkat(c->sp->root, path, 0);
	if (dead) {
		snprintf(path, sizeof(path), "daemons/%s.lock", d);
		unlinkat(c->sp->root, path, 0);
	}
	if (fd != -1)
		close(fd);
	return dead;
}

static int
recover_cur(const char *name, void *arg)
{
	return recover_daemon(arg, name) == 1 ? 0 : -1;
}

static int
recover_lock(const char *name, void *arg)
{
	char d[128];
	size_t l = strlen(name);

	if (l < 6 || l >= sizeof(d) || strcmp(name + l - 5, ".lock") != 0)
		return -1;
	memcpy(d, name, l - 5);
	d[l - 5] = '\0';
	return recover_daemon(arg, d) == 1 ? 0 : -1;
}

/* Remove an entry of dir older than STALE_TMP_S. */
static int
stale_one(int root, const char *dir, const char *name, time_t now)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%.16s/%.64s", dir, name);
	if (fstatat(root, path, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (now - st.st_mtime < STALE_TMP_S)
		return -1;
	log_info("%s: removing stale temporary", path);
	return spool_rmtree(root, path);
}

static int
stale_qtmp(const char *name, void *arg)
{
	struct recover_ctx *c = arg;

	return stale_one(c->sp->root, "q/tmp", name, c->now);
}

static int
stale_tmp(const char *name, void *arg)
{
	struct recover_ctx *c = arg;

	return stale_one(c->sp->root, "tmp", name, c->now);
}

static int
stale_trash(const char *name, void *arg)
{
	struct recover_ctx *c = arg;
	char path[256];

	/* A removal that a crash interrupted: finish it. */
	snprintf(path, sizeof(path), "trash/%.64s", name);
	return spool_rmtree(c->sp->root, path);
}

/* Queued files of one batch that lost their marker get it back. */
static int
orphan_batch(const char *id, void *arg)
{
	struct recover_ctx *c = arg;
	json_t *b;
	size_t n, i;
	int fixed = 0;

	if (!spool_id_valid(id))
		return -1;
	b = spool_batch_get(c->sp, id);
	if (b == NULL)
		return -1;
	n = json_array_size(json_object_get(b, "files"));
	json_decref(b);
	for (i = 0; i < n; i++) {
		json_t *st = spool_status_get(c->sp, id, (int)i);
		long long upd;
		int s;

		if (st == NULL)
			continue;
		s = file_state_parse(
		    json_string_value(json_object_get(st, "status")));
		upd = json_integer_value(json_object_get(st, "updated"));
		json_decref(st);
		if (s != FS_QUEUED ||
		    (long long)c->now * 1000 - upd < ORPHAN_S * 1000)
			continue;
		if (spool_queue_has(c->sp, id, (int)i))
			continue;
		if (spool_queue_put(c->sp, id, (int)i) == 0) {
			log_info("%s.%zu: queued file had no marker; queued "
			         "again",
			    id, i);
			fixed++;
		}
	}
	return fixed > 0 ? 0 : -1;
}

int
scan_recover(struct spool *sp, const char *me)
{
	struct recover_ctx c = {sp, me, NULL, time(NULL)};
	int n = 0, k;

	k = each_entry(sp->root, "q/cur", recover_cur, &c);
	n += k > 0 ? k : 0;
	k = each_entry(sp->root, "daemons", recover_lock, &c);
	n += k > 0 ? k : 0;
	/* Markers being published are dot-names (spool_tmp_open). */
	each_entry_dots(sp->root, "q/tmp", 1, stale_qtmp, &c);
	each_entry(sp->root, "tmp", stale_tmp, &c);
	each_entry(sp->root, "trash", stale_trash, &c);
	each_entry(sp->root, "batches", orphan_batch, &c);
	return n;
}

struct claim_ctx {
	struct spool *sp;
	struct entry *e;
	size_t n, cap;
};

static int
collect(const char *name, void *arg)
{
	struct claim_ctx *c = arg;
	char id[SPOOL_ID_LEN + 1], path[96];
	struct stat st;
	int file;

	if (spool_marker_parse(name, id, &file) == -1)
		return -1;
	snprintf(path, sizeof(path), "q/new/%.64s", name);
	if (fstatat(c->sp->root, path, &st, 0) == -1)
		return -1; /* claimed meanwhile */
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct entry *e = realloc(c->e, cap * sizeof(*e));

		if (e == NULL)
			return -1;
		c->e = e;
		c->cap = cap;
	}
	snprintf(c->e[c->n].name, sizeof(c->e[c->n].name), "%.47s", name);
	c->e[c->n].mtime = st.st_mtim;
	c->n++;
	return 0;
}

/* Oldest first; within one instant, by batch then file number. */
static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	char ix[SPOOL_ID_LEN + 1], iy[SPOOL_ID_LEN + 1];
	int fx = 0, fy = 0, c;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	spool_marker_parse(x->name, ix, &fx);
	spool_marker_parse(y->name, iy, &fy);
	c = strcmp(ix, iy);
	if (c != 0)
		return c;
	return fx - fy;
}

int
scan_claim(struct spool *sp, const char *me, struct pool *p, int *more)
{
	struct claim_ctx c = {sp, NULL, 0, 0};
	size_t i;
	int claimed = 0;

	*more = 0;
	if (pool_free(p) <= 0) {
		*more = 1;
		return 0;
	}
	if (each_entry(sp->root, "q/new", collect, &c) == -1) {
		log_warn("scan q/new");
		free(c.e);
		return -1;
	}
	if (c.n > 1)
		qsort(c.e, c.n, sizeof(*c.e), entry_cmp);
	for (i = 0; i < c.n; i++) {
		if (pool_free(p) <= 0) {
			*more = 1;
			break;
		}
		if (spool_queue_claim(sp, me, c.e[i].name) == -1) {
			if (errno != ENOENT)
				log_warn("%s: claim", c.e[i].name);
			continue; /* another daemon or a cancel won */
		}
		if (pool_push(p, c.e[i].name) == -1) {
			spool_queue_release(sp, me, c.e[i].name);
			*more = 1;
			break;
		}
		claimed++;
	}
	free(c.e);
	return claimed;
}

struct retention_ctx {
	struct spool *sp;
	long long cutoff;
};

static int
expire_batch(const char *id, void *arg)
{
	struct retention_ctx *c = arg;
	char from[64], to[64];
	json_t *b;
	long long created;

	if (!spool_id_valid(id))
		return -1;
	b = spool_batch_get(c->sp, id);
	if (b == NULL)
		return -1;
	created = json_integer_value(json_object_get(b, "created"));
	json_decref(b);
	if (created >= c->cutoff)
		return -1;
	/* Rename first, so readers see the whole batch or none of it. */
	snprintf(from, sizeof(from), "batches/%.32s", id);
	snprintf(to, sizeof(to), "trash/%.32s", id);
	if (renameat(c->sp->root, from, c->sp->root, to) == -1)
		return -1;
	log_info("%s: removed after the retention period", id);
	return spool_rmtree(c->sp->root, to);
}

int
scan_retention(struct spool *sp, int hours)
{
	struct retention_ctx c;

	if (hours <= 0)
		return 0;
	c.sp = sp;
	c.cutoff = spool_now_ms() - (long long)hours * 3600 * 1000;
	return each_entry(sp->root, "batches", expire_batch, &c);
}

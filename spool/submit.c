/*
 * submit.c: putting a batch into the spool (upload handler and CLI).
 *
 * Order, after qmail-queue: build everything under tmp/<id>/ (images, then
 * batch.json and one "queued" status per file, each published by rename
 * and the directories fsynced); rename tmp/<id> to batches/<id> and fsync
 * batches/; then publish one marker per file into q/new.  Before the
 * directory rename nothing is visible; a crash after it but before every
 * marker is out is repaired by the daemon's sweep, which re-queues queued
 * files that have no marker (spool/README.md, "Recovery").  Abort removes
 * whatever was written, including a batch that lost its markers to ENOSPC.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "spool.h"

long long
spool_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/*
 * The client's file name, for display only: the last path component,
 * control characters and invalid UTF-8 replaced, at most 200 bytes.
 */
static void
display_name(char *out, size_t outlen, const char *in)
{
	const char *base = in, *p;
	size_t o = 0;

	for (p = in; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	for (p = base; *p != '\0' && o + 5 < outlen && o < 200;) {
		unsigned char c = (unsigned char)*p;
		int n = c < 0x80         ? 1
		    : (c & 0xe0) == 0xc0 ? 2
		    : (c & 0xf0) == 0xe0 ? 3
		    : (c & 0xf8) == 0xf0 ? 4
		                         : 0;
		int k;

		for (k = 1; k < n; k++)
			if (((unsigned char)p[k] & 0xc0) != 0x80)
				n = 0;
		if (n == 0 || (n == 1 && (c < 0x20 || c == 0x7f)) ||
		    (n == 2 && c < 0xc2)) {
			out[o++] = '_';
			p++;
			continue;
		}
		memcpy(out + o, p, (size_t)n);
		o += (size_t)n;
		p += n;
	}
	out[o] = '\0';
	if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		snprintf(out, outlen, "image");
}

int
spool_submit_begin(struct spool *sp, struct spool_submit *s)
{
	char path[64];
	int tries;

	memset(s, 0, sizeof(*s));
	s->sp = sp;
	s->dir = -1;
	if (spool_check_space(sp) == -1)
		return -1;
	for (tries = 0; tries < 8; tries++) {
		if (spool_id_new(s->id) == -1)
			return -1;
		snprintf(path, sizeof(path), "tmp/%s", s->id);
		if (mkdirat(sp->root, path, 0770) == 0)
			break;
		if (errno != EEXIST)
			return -1;
	}
	if (tries == 8)
		return -1;
	s->dir = openat(sp->root, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dir == -1)
		goto fail;
	if (mkdirat(s->dir, "in", 0770) == -1 ||
	    mkdirat(s->dir, "state", 0770) == -1 ||
	    mkdirat(s->dir, "out", 0770) == -1 ||
	    mkdirat(s->dir, "remote", 0770) == -1 ||
	    mkdirat(s->dir, "cancel", 0770) == -1)
		goto fail;
	s->files = json_array();
	if (s->files == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	return 0;
fail:
	spool_submit_abort(s);
	return -1;
}

/* Record the file entry once its bytes are in in/ (also used by part.c). */
int
spool_submit_entry(struct spool_submit *s, const char *filename,
    const char *ext, const char *ctype, long long size)
{
	char fid[16], input[32], disp[256];
	json_t *e;

	snprintf(fid, sizeof(fid), "%d", s->nfiles);
	snprintf(input, sizeof(input), "in/%d.%s", s->nfiles, ext);
	display_name(disp, sizeof(disp), filename != NULL ? filename : "");
	e = json_pack("{s:s, s:s, s:s, s:s, s:I}", "file_id", fid, "filename",
	    disp, "input", input, "content_type", ctype, "file_size",
	    (json_int_t)size);
	if (e == NULL || json_array_append_new(s->files, e) == -1) {
		errno = ENOMEM;
		return -1;
	}
	s->nfiles++;
	return 0;
}

static int
input_dir(struct spool_submit *s, const char *ext, char *name, size_t len)
{
	int in;

	if (s->nfiles >= SPOOL_MAX_FILES) {
		errno = E2BIG;
		return -1;
	}
	if (strchr(ext, '/') != NULL || strlen(ext) > 8) {
		errno = EINVAL;
		return -1;
	}
	snprintf(name, len, "%d.%s", s->nfiles, ext);
	in = openat(s->dir, "in", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return in;
}

int
spool_submit_add(struct spool_submit *s, const char *filename, const char *ext,
    const char *ctype, int srcfd)
{
	char name[32];
	off_t n = 0;
	int in, rc;

	in = input_dir(s, ext, name, sizeof(name));
	if (in == -1)
		return -1;
	rc = spool_copy_atomic(in, name, srcfd, &n);
	close(in);
	if (rc == -1)
		return -1;
	return spool_submit_entry(s, filename, ext, ctype, (long long)n);
}

int
spool_submit_add_mem(struct spool_submit *s, const char *filename,
    const char *ext, const char *ctype, const void *buf, size_t len)
{
	char name[32];
	int in, rc;

	in = input_dir(s, ext, name, sizeof(name));
	if (in == -1)
		return -1;
	rc = spool_write_atomic(in, name, buf, len);
	close(in);
	if (rc == -1)
		return -1;
	return spool_submit_entry(s, filename, ext, ctype, (long long)len);
}

/*
 * Initial "queued" status of every file, seq 1..n, state/seq = n and the
 * counter in state/.lock = n (status.c), all before the batch is visible.
 */
static int
write_states(struct spool_submit *s, long long now)
{
	char name[32], seq[32];
	size_t i;
	json_t *e;
	int st, rc = -1;

	st = openat(s->dir, "state", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st == -1)
		return -1;
	json_array_foreach(s->files, i, e)
	{
		json_t *j = json_pack("{s:O, s:O, s:s, s:i, s:n, s:s, s:n, "
		                      "s:I, s:I, s:i}",
		    "file_id", json_object_get(e, "file_id"), "filename",
		    json_object_get(e, "filename"), "status", "queued",
		    "progress", 0, "queue_position", "message",
		    "Waiting for a worker", "error", "seq", (json_int_t)(i + 1),
		    "updated", (json_int_t)now, "attempt", 0);

		if (j == NULL) {
			errno = ENOMEM;
			goto out;
		}
		snprintf(name, sizeof(name), "%zu.json", i);
		if (spool_write_json(st, name, j) == -1) {
			json_decref(j);
			goto out;
		}
		json_decref(j);
	}
	snprintf(seq, sizeof(seq), "%d\n", s->nfiles);
	if (spool_write_atomic(st, ".lock", seq, strlen(seq)) == -1)
		goto out;
	rc = spool_write_atomic(st, "seq", seq, strlen(seq));
out:
	close(st);
	return rc;
}

int
spool_submit_commit(struct spool_submit *s, const char *model, json_t *params,
    long long face_limit)
{
	char from[64], to[64];
	long long now = spool_now_ms();
	const struct model_info *m;
	json_t *b = NULL, *p;
	int i, batches = -1, placed = 0;

	if (s->nfiles == 0) {
		errno = ENODATA;
		goto fail;
	}
	/* Stored resolved: what the daemon sends is what was priced. */
	m = models_find(model);
	p = params != NULL ? json_deep_copy(params) : json_object();
	if (p == NULL || (m != NULL && models_params_resolve(m, p) == -1)) {
		json_decref(p);
		errno = ENOMEM;
		goto fail;
	}
	b = json_pack("{s:s, s:I, s:s, s:o, s:o, s:i, s:O}", "batch_id", s->id,
	    "created", (json_int_t)now, "model", model, "params", p,
	    "face_limit",
	    face_limit >= 0 ? json_integer(face_limit) : json_null(),
	    "total_files", s->nfiles, "files", s->files);
	if (b == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	if (spool_write_json(s->dir, "batch.json", b) == -1 ||
	    write_states(s, now) == -1 || spool_fsync_at(s->dir, "in") == -1 ||
	    spool_fsync_dir(s->dir) == -1)
		goto fail;
	snprintf(from, sizeof(from), "tmp/%s", s->id);
	snprintf(to, sizeof(to), "batches/%s", s->id);
	if (renameat(s->sp->root, from, s->sp->root, to) == -1)
		goto fail;
	batches =
	    openat(s->sp->root, "batches", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (batches == -1 || spool_fsync_dir(batches) == -1)
		goto unpublish;
	for (i = 0; i < s->nfiles; i++, placed++)
		if (spool_queue_put(s->sp, s->id, i) == -1)
			goto unpublish;
	close(batches);
	json_decref(b);
	close(s->dir);
	s->dir = -1;
	json_decref(s->files);
	s->files = NULL;
	return 0;
unpublish:
	/* The batch was visible but not queued whole: take it all back. */
	{
		int saved = errno;

		for (i = 0; i < placed; i++)
			spool_queue_withdraw(s->sp, s->id, i);
		if (renameat(s->sp->root, to, s->sp->root, from) == -1)
			spool_rmtree(s->sp->root, to);
		errno = saved;
	}
fail : {
	int saved = errno;

	if (batches != -1)
		close(batches);
	json_decref(b);
	spool_submit_abort(s);
	errno = saved;
}
	return -1;
}

void
spool_submit_abort(struct spool_submit *s)
{
	char path[64];
	int saved = errno;

	if (s->dir != -1)
		close(s->dir);
	s->dir = -1;
	if (s->id[0] != '\0') {
		snprintf(path, sizeof(path), "tmp/%s", s->id);
		spool_rmtree(s->sp->root, path);
	}
	json_decref(s->files);
	s->files = NULL;
	errno = saved;
}

/*
 * part.c: streaming one image into a submission as it arrives.
 *
 * The upload handler's multipart parser does not know a part's size or
 * type until its last byte, and must not hold it in memory.  So a part is
 * written to a dot-name temp file (spool_tmp_open) in tmp/<id>/in/ (invisible to every
 * reader, like all of tmp/<id>), chunk by chunk; finish fsyncs it and
 * renames it to in/<n>.<ext> with the extension the caller sniffed from
 * its first bytes, then records the batch.json entry.  Abort unlinks the
 * temp file; spool_submit_abort() removes the whole tmp/<id> anyway, so a
 * crash in the middle leaves only what the daemon's tmp/ sweep removes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"

int
spool_part_open(struct spool_submit *s, struct spool_part *p)
{
	char name[32];
	int saved;

	memset(p, 0, sizeof(*p));
	p->t.fd = -1;
	p->in = -1;
	if (s->nfiles >= SPOOL_MAX_FILES) {
		errno = E2BIG;
		return -1;
	}
	p->in = openat(s->dir, "in", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->in == -1)
		return -1;
	snprintf(name, sizeof(name), "part.%d", s->nfiles);
	if (spool_tmp_open(&p->t, p->in, name) == -1) {
		saved = errno;
		close(p->in);
		p->in = -1;
		errno = saved;
		return -1;
	}
	/* The directory itself is fsynced once by spool_submit_commit. */
	p->t.sync_dir = 0;
	return 0;
}

int
spool_part_write(struct spool_part *p, const void *buf, size_t len)
{
	if (spool_tmp_write(&p->t, buf, len) == -1)
		return -1;
	p->size = (long long)p->t.size;
	return 0;
}

int
spool_part_finish(struct spool_submit *s, struct spool_part *p,
    const char *filename, const char *ext, const char *ctype)
{
	char name[32];

	if (strchr(ext, '/') != NULL || strlen(ext) > 8) {
		errno = EINVAL;
		goto fail;
	}
	snprintf(name, sizeof(name), "%d.%s", s->nfiles, ext);
	if (spool_tmp_rename(&p->t, name) == -1 ||
	    spool_tmp_publish(&p->t) == -1)
		goto fail;
	if (spool_submit_entry(s, filename, ext, ctype, p->size) == -1) {
		int saved = errno;

		unlinkat(p->in, name, 0);
		errno = saved;
		goto fail;
	}
	close(p->in);
	p->in = -1;
	return 0;
fail:
	spool_part_abort(p);
	return -1;
}

void
spool_part_abort(struct spool_part *p)
{
	int saved = errno;

	spool_tmp_abort(&p->t);
	if (p->in != -1)
		close(p->in);
	p->in = -1;
	errno = saved;
}

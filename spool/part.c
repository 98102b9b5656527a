/*
 * part.c: streaming one image into a submission as it arrives.
 *
 * The upload handler's multipart parser does not know a part's size or
 * type until its last byte, and must not hold it in memory.  So a part is
 * written to a dot-name temp file in tmp/<id>/in/ (invisible to every
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
	char rnd[SPOOL_ID_LEN + 1];

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->in = -1;
	if (s->nfiles >= SPOOL_MAX_FILES) {
		errno = E2BIG;
		return -1;
	}
	if (spool_id_new(rnd) == -1)
		return -1;
	snprintf(p->tmp, sizeof(p->tmp), ".part.%d.%.8s", s->nfiles, rnd);
	p->in = openat(s->dir, "in", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->in == -1)
		return -1;
	p->fd = openat(
	    p->in, p->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (p->fd == -1) {
		int saved = errno;

		close(p->in);
		p->in = -1;
		errno = saved;
		return -1;
	}
	return 0;
}

int
spool_part_write(struct spool_part *p, const void *buf, size_t len)
{
	if (spool_write_all(p->fd, buf, len) == -1)
		return -1;
	p->size += (long long)len;
	return 0;
}

int
spool_part_finish(struct spool_submit *s, struct spool_part *p,
    const char *filename, const char *ext, const char *ctype)
{
	char name[32];
	int fd = p->fd;

	if (strchr(ext, '/') != NULL || strlen(ext) > 8) {
		errno = EINVAL;
		goto fail;
	}
	snprintf(name, sizeof(name), "%d.%s", s->nfiles, ext);
	p->fd = -1;
	if (fsync(fd) == -1) {
		close(fd);
		goto fail;
	}
	if (close(fd) == -1)
		goto fail;
	/* The directory itself is fsynced once by spool_submit_commit. */
	if (spool_io_rename(p->in, p->tmp, p->in, name) == -1)
		goto fail;
	p->tmp[0] = '\0';
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

	if (p->fd != -1)
		close(p->fd);
	p->fd = -1;
	if (p->in != -1) {
		if (p->tmp[0] != '\0')
			unlinkat(p->in, p->tmp, 0);
		close(p->in);
	}
	p->in = -1;
	p->tmp[0] = '\0';
	errno = saved;
}

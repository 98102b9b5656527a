/*
 * fsio.c: the only way the spool writes files.
 *
 * Publish protocol (Maildir/qmail): write a dot-name temp file opened
 * O_CREAT|O_EXCL, check every write, fsync, close, renameat() to the final
 * name, fsync the directory.  Readers skip dot-names, so they see the old
 * file or the new one, never a part.  Any failure removes the temp file, so
 * a full disk leaves nothing half-written behind.
 *
 * struct spool_tmpfile is that protocol as an API for every writer: open
 * (the dot-name), write (all of it, or an error), publish (fsync, close,
 * rename, fsync the directory) or abort (remove the dot-name).  A temp
 * file may be published into another directory of the same file system
 * (a queue marker goes q/tmp -> q/new) or under a name chosen late (an
 * upload's extension is known only after its bytes).
 *
 * An exclusive publish (t->excl) renames with RENAME_NOREPLACE: the name is
 * taken once, by whoever gets there first, and a loser gets EEXIST with
 * its temp file removed (an idempotent enqueue, spool/webhook.c).
 *
 * spool_io_write and spool_io_rename are the system calls used; unit tests
 * point them at fault injectors (short writes, ENOSPC, a lost rename race).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "spool.h"

ssize_t (*spool_io_write)(int, const void *, size_t) = write;
int (*spool_io_rename)(int, const char *, int, const char *) = renameat;

/* read(2), retried when a signal interrupts it. */
static ssize_t
read_retry(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n == -1 && errno == EINTR);
	return n;
}

int
spool_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = spool_io_write(fd, p, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
spool_tmp_open(struct spool_tmpfile *t, int dirfd, const char *name)
{
	char id[SPOOL_ID_LEN + 1];
	int n;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->dir = dirfd;
	t->todir = dirfd;
	t->sync_dir = 1;
	if (spool_id_new(id) == -1)
		return -1;
	n = snprintf(t->name, sizeof(t->name), "%s", name);
	if (n < 0 || (size_t)n >= sizeof(t->name) || strchr(name, '/')) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(t->tmp, sizeof(t->tmp), ".%s.%.8s.tmp", name, id);
	/* O_RDWR: a caller may read back what it wrote (a magic check). */
	t->fd =
	    openat(dirfd, t->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (t->fd == -1) {
		t->tmp[0] = '\0';
		return -1;
	}
	return 0;
}

int
spool_tmp_write(struct spool_tmpfile *t, const void *buf, size_t len)
{
	if (spool_write_all(t->fd, buf, len) == -1)
		return -1;
	t->size += (off_t)len;
	return 0;
}

int
spool_tmp_rename(struct spool_tmpfile *t, const char *name)
{
	int n;

	n = snprintf(t->name, sizeof(t->name), "%s", name);
	if (n < 0 || (size_t)n >= sizeof(t->name) || strchr(name, '/')) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Rename t's temp file to its name unless the name exists (EEXIST).  A
 * file system without RENAME_NOREPLACE (EINVAL: NFS, older overlayfs)
 * gets the same rule from link(2), which never replaces a name either;
 * the temp file is then unlinked (a leftover would be a dot-name, swept
 * like any stale temp file). */
static int
rename_excl(struct spool_tmpfile *t)
{
	if (renameat2(t->dir, t->tmp, t->todir, t->name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (linkat(t->dir, t->tmp, t->todir, t->name, 0) == -1)
		return -1;
	unlinkat(t->dir, t->tmp, 0);
	return 0;
}

int
spool_tmp_publish(struct spool_tmpfile *t)
{
	int fd = t->fd;

	t->fd = -1;
	if (fd == -1) {
		errno = EBADF;
		goto fail;
	}
	if (fsync(fd) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		goto fail;
	}
	if (close(fd) == -1)
		goto fail;
	if (t->excl ? rename_excl(t) == -1
	            : spool_io_rename(t->dir, t->tmp, t->todir, t->name) == -1)
		goto fail;
	t->tmp[0] = '\0';
	if (t->sync_dir && spool_fsync_dir(t->todir) == -1)
		return -1;
	return 0;
fail:
	spool_tmp_abort(t);
	return -1;
}

void
spool_tmp_abort(struct spool_tmpfile *t)
{
	int saved = errno;

	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
	if (t->tmp[0] != '\0')
		unlinkat(t->dir, t->tmp, 0);
	t->tmp[0] = '\0';
	errno = saved;
}

int
spool_write_atomic(int dirfd, const char *name, const void *buf, size_t len)
{
	struct spool_tmpfile t;

	if (spool_tmp_open(&t, dirfd, name) == -1)
		return -1;
	if (spool_tmp_write(&t, buf, len) == -1) {
		spool_tmp_abort(&t);
		return -1;
	}
	return spool_tmp_publish(&t);
}

int
spool_copy_atomic(int dirfd, const char *name, int srcfd, off_t *copied)
{
	struct spool_tmpfile t;
	char buf[65536];

	if (spool_tmp_open(&t, dirfd, name) == -1)
		return -1;
	for (;;) {
		ssize_t n = read_retry(srcfd, buf, sizeof(buf));

		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		if (spool_tmp_write(&t, buf, (size_t)n) == -1)
			goto fail;
	}
	if (copied != NULL)
		*copied = t.size;
	return spool_tmp_publish(&t);
fail:
	spool_tmp_abort(&t);
	return -1;
}

int
spool_read_file(
    int dirfd, const char *name, size_t cap, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, saved;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if ((size_t)st.st_size > cap) {
		errno = EFBIG;
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		goto fail;
	while (len < (size_t)st.st_size) {
		ssize_t n = read_retry(fd, buf + len, (size_t)st.st_size - len);

		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	*out = buf;
	if (outlen != NULL)
		*outlen = len;
	return 0;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return -1;
}

json_t *
spool_read_json(int dirfd, const char *name, size_t cap)
{
	char *buf;
	size_t len;
	json_t *j;

	if (spool_read_file(dirfd, name, cap, &buf, &len) == -1)
		return NULL;
	j = json_loadb(buf, len, 0, NULL);
	free(buf);
	if (j == NULL)
		errno = EBADMSG;
	return j;
}

int
spool_write_json(int dirfd, const char *name, const json_t *j)
{
	char *s;
	int rc;

	s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(9));
	if (s == NULL) {
		errno = ENOMEM;
		return -1;
	}
	rc = spool_write_atomic(dirfd, name, s, strlen(s));
	free(s);
	return rc;
}

int
spool_fsync_dir(int dirfd)
{
	if (fsync(dirfd) == -1 && errno != EINVAL && errno != EROFS)
		return -1;
	return 0;
}

DIR *
spool_opendir(int dirfd, const char *sub)
{
	DIR *d;
	int fd, saved;

	fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	d = fdopendir(fd);
	if (d == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
	}
	return d;
}

int
spool_fsync_at(int dirfd, const char *sub)
{
	int fd, rc;

	fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	rc = spool_fsync_dir(fd);
	close(fd);
	return rc;
}

int
spool_mkdir(int dirfd, const char *name, mode_t mode)
{
	struct stat st;

	if (mkdirat(dirfd, name, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int
spool_rmtree(int parent, const char *name)
{
	DIR *d;
	struct dirent *de;
	int fd, rc = 0;

	if (unlinkat(parent, name, 0) == 0)
		return 0;
	if (errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	fd = openat(
	    parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (spool_rmtree(dirfd(d), de->d_name) == -1)
			rc = -1;
	}
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) == -1 && errno != ENOENT)
		rc = -1;
	return rc;
}

long long
spool_free_mb(int fd)
{
	struct statvfs vfs;

	if (fstatvfs(fd, &vfs) == -1)
		return -1;
	return (long long)((unsigned long long)vfs.f_bavail * vfs.f_frsize /
	    (1024 * 1024));
}
